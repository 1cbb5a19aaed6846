import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { cropBox, preprocessImage, resolvePreprocess, rgbTensor } from './preprocess';
import type { RawImage } from './files';
import { StudioError } from '../shared/errors';
import type { NormalizationPreset } from '../shared/types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A 4×2 image: left half pure red (255,0,0), right half (0, 128, 255). */
function halves(): RawImage {
  const width = 4;
  const height = 2;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.set(x < 2 ? [255, 0, 0, 255] : [0, 128, 255, 255], (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

function pixels(t: tf.Tensor): number[][] {
  const [, h, w, c] = t.shape;
  const d = Array.from(t.dataSync());
  const out: number[][] = [];
  for (let i = 0; i < h! * w!; i++) out.push(d.slice(i * c!, (i + 1) * c!));
  return out;
}

describe('preprocessImage', () => {
  it('normalises with each preset', () => {
    const img = halves();
    const at = (normalization: NormalizationPreset) =>
      tf.tidy(() => pixels(preprocessImage(img, [2, 4, 3], { normalization, resize: 'stretch' })));
    expect(at('raw')[0]).toEqual([255, 0, 0]);
    expect(at('unit')[3]).toEqual([0, 128 / 255, 1].map((v) => Math.fround(v)));
    expect(at('symmetric')[0].map((v) => +v.toFixed(5))).toEqual([1, -1, -1]);
    const imagenet = at('imagenet')[0];
    expect(imagenet[0]).toBeCloseTo((1 - 0.485) / 0.229, 4);
    expect(imagenet[1]).toBeCloseTo((0 - 0.456) / 0.224, 4);
    const caffe = at('caffe')[0]; // BGR order, means subtracted
    expect(caffe[0]).toBeCloseTo(0 - 103.939, 3);
    expect(caffe[2]).toBeCloseTo(255 - 123.68, 3);
  });

  it('stretches or centre-crops to the model size', () => {
    const img = halves();
    // Stretch to 2×2 keeps both halves; centre crop to a square takes the middle 2×2 (one column of each).
    const stretched = tf.tidy(() => pixels(preprocessImage(img, [2, 2, 3], { normalization: 'raw', resize: 'stretch' })));
    expect(stretched[0]).toEqual([255, 0, 0]);
    expect(stretched[1]).toEqual([0, 128, 255]);
    expect(cropBox(img, [2, 2], 'center-crop')).toEqual({ x: 1, y: 0, width: 2, height: 2 });
    expect(cropBox(img, [2, 2], 'stretch')).toEqual({ x: 0, y: 0, width: 4, height: 2 });
    expect(cropBox({ width: 300, height: 451 }, [224, 224], 'center-crop')).toEqual({ x: 0, y: 75, width: 300, height: 300 });
    const cropped = tf.tidy(() => pixels(preprocessImage(img, [1, 1, 3], { normalization: 'raw', resize: 'center-crop' })));
    expect(cropped[0][0]).toBeCloseTo(127.5, 3); // the average of the two middle columns
  });

  it('picks RGB out of RGBA, of the whole image or of a box', () => {
    // 3 wide × 4 high; pixel (row, col) = [10·row + col, 100 + …, 200 + …, alpha 7].
    const data = new Uint8ClampedArray(3 * 4 * 4);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 3; c++) data.set([10 * r + c, 100 + 10 * r + c, 200 + 10 * r + c, 7], (r * 3 + c) * 4);
    const image = { width: 3, height: 4, data };
    const whole = rgbTensor(image);
    expect(whole.shape).toEqual([1, 4, 3, 3]);
    expect(Array.from(whole.dataSync().slice(-3))).toEqual([32, 132, 232]);
    const box = rgbTensor(image, { x: 1, y: 2, width: 2, height: 2 });
    expect(box.shape).toEqual([1, 2, 2, 3]);
    expect(Array.from(box.dataSync())).toEqual([21, 121, 221, 22, 122, 222, 31, 131, 231, 32, 132, 232]);
    tf.dispose([whole, box]);
  });

  it('gives 1-channel models the luminance', () => {
    const t = preprocessImage(halves(), [2, 4, 1], { normalization: 'raw', resize: 'stretch' });
    expect(t.shape).toEqual([1, 2, 4, 1]);
    expect(t.dataSync()[0]).toBeCloseTo(0.299 * 255, 3);
    t.dispose();
  });

  it('fills defaults and rejects unknown presets', () => {
    expect(resolvePreprocess(undefined)).toEqual({ normalization: 'unit', resize: 'stretch' });
    expect(resolvePreprocess({ normalization: 'symmetric', resize: 'center-crop' }, { resize: 'stretch' })).toEqual({ normalization: 'symmetric', resize: 'stretch' });
    expect(() => resolvePreprocess(undefined, { normalization: 'nope' as 'unit' })).toThrow(StudioError);
  });
});
