/** The command line's overlay: a heatmap over the photo at the photo's size (jet, 50 %). */
import * as tf from '@tensorflow/tfjs';
import { cropBox, type RawImage } from '../src/engine';
import { colormapLut } from '../src/render/colormaps';
import { blendOverlayPure } from '../src/render/pixels';
import type { Heatmap, ResizeMode } from '../src/shared/types';

/** The map (at the model's input size) placed where the preprocessing took the input from, zero elsewhere. */
export function mapOverPhoto(cam: Heatmap, image: RawImage, resize: ResizeMode): Float32Array {
  const box = cropBox(image, [cam.height, cam.width], resize);
  const resized = tf.tidy(() =>
    tf.image.resizeBilinear(tf.tensor3d(cam.data, [cam.height, cam.width, 1]), [box.height, box.width], false, true).dataSync() as Float32Array,
  );
  const out = new Float32Array(image.width * image.height);
  for (let y = 0; y < box.height; y++) out.set(resized.subarray(y * box.width, (y + 1) * box.width), (box.y + y) * image.width + box.x);
  return out;
}

export function rgbaOf(image: RawImage): Uint8ClampedArray {
  return image.data instanceof Uint8ClampedArray ? image.data : new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength);
}

/** RGBA of the photo with the map blended over it. */
export function overlayOnPhoto(image: RawImage, map: Heatmap, resize: ResizeMode): Uint8ClampedArray {
  return blendOverlayPure(rgbaOf(image), mapOverPhoto(map, image, resize), image.width, image.height, colormapLut('jet'), { colormap: 'jet', opacity: 0.5, threshold: 0 });
}
