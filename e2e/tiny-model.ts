/** A tiny nested model (Teachable Machine's shape, 16×16 input) and a test image, made in Node for e2e. */
import * as tf from '@tensorflow/tfjs';
import { buildTestModel } from '../src/test-support/test-models';
import { exportLayersModelAsTfjs } from '../src/engine';
import { encodePng } from '../src/engine/node';
import { pageFile, type PageFile } from './helpers';

export const TINY_LABELS = ['circle', 'square', 'star'];

export async function tinyModelFiles(): Promise<{ files: PageFile[]; innerLayerPath: string }> {
  await tf.setBackend('cpu');
  const built = buildTestModel('e', { classes: 3, seed: 11 });
  const exported = await exportLayersModelAsTfjs(built.model, TINY_LABELS);
  built.model.dispose();
  return { files: exported.map((f) => pageFile(f.name, f.data)), innerLayerPath: built.innerLayerPath };
}

/** A 64×48 image with a bright blob left of centre and a dark one to the right. */
export function tinyImage(): PageFile {
  const width = 64;
  const height = 48;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const bright = Math.exp(-((x - 20) ** 2 + (y - 24) ** 2) / 60);
      const dark = Math.exp(-((x - 48) ** 2 + (y - 20) ** 2) / 40);
      data[i] = 40 + 200 * bright;
      data[i + 1] = 60 + 150 * bright - 50 * dark;
      data[i + 2] = 90 + (x * 100) / width;
      data[i + 3] = 255;
    }
  return pageFile('tiny.png', encodePng({ width, height, data }));
}
