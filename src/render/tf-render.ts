/**
 * Colour mapping and blending as tfjs ops, so they run on whichever backend is active (on the GPU
 * where there is one). Each function makes its tensors inside a tidy and frees them before
 * returning, so rendering never changes `tf.memory().numTensors`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Heatmap, RgbMap, ViewOptions } from '../shared/types';
import { LUT_SIZE } from './colormaps';
import type { PanelPixels } from './pixels';

/** True on a GPU backend (WebGPU / WebGL), where rendering runs as tfjs ops; elsewhere plain JS is faster. */
export function gpuBackendActive(): boolean {
  const name = tf.getBackend();
  return name === 'webgpu' || name === 'webgl';
}

/** [h,w,3] int32 RGB → opaque RGBA bytes. Disposes `rgb`. */
async function toRgba(rgb: tf.Tensor3D): Promise<Uint8ClampedArray> {
  const [height, width] = rgb.shape;
  const values = await rgb.data();
  rgb.dispose();
  const out = new Uint8ClampedArray(width * height * 4);
  for (let p = 0, q = 0; p < width * height; p++, q += 3) {
    out[p * 4] = values[q];
    out[p * 4 + 1] = values[q + 1];
    out[p * 4 + 2] = values[q + 2];
    out[p * 4 + 3] = 255;
  }
  return out;
}

function resizeTo<T extends tf.Tensor3D>(image: T, height: number, width: number): tf.Tensor3D {
  if (image.shape[0] === height && image.shape[1] === width) return image;
  return tf.image.resizeBilinear(image, [height, width], false, true);
}

/**
 * The blend as tensors: base [h,w,3] float 0..255, map [h,w] 0..1 → [h,w,3] int32.
 * colour = LUT[round(map·255)], alpha = opacity where map ≥ threshold else 0.
 */
export function overlayTensor(base: tf.Tensor3D, map: tf.Tensor2D, lut: Uint8Array, view: ViewOptions): tf.Tensor3D {
  return tf.tidy(() => {
    const lutTensor = tf.tensor2d(lut, [LUT_SIZE, 3], 'float32');
    const clipped = tf.clipByValue(map, 0, 1);
    const index = tf.round(tf.mul(clipped, LUT_SIZE - 1)).toInt();
    const colour = tf.gather(lutTensor, index) as unknown as tf.Tensor3D; // [h,w,3]
    const alpha = tf.mul(tf.cast(tf.greaterEqual(map, view.threshold), 'float32'), view.opacity).expandDims(-1);
    const blended = tf.add(tf.mul(base, tf.sub(1, alpha)), tf.mul(colour, alpha));
    return tf.clipByValue(tf.round(blended), 0, 255).toInt() as tf.Tensor3D;
  });
}

/** Overlay a heatmap (any resolution; upsampled bilinear to the panel) on RGBA base pixels. */
export async function renderOverlay(base: PanelPixels, map: Heatmap, lut: Uint8Array, view: ViewOptions): Promise<PanelPixels> {
  const { width, height } = base;
  const rgb = tf.tidy(() => {
    const baseRgb = tf.tensor3d(new Int32Array(base.data), [height, width, 4], 'int32').slice([0, 0, 0], [height, width, 3]).toFloat();
    const small = tf.tensor3d(map.data, [map.height, map.width, 1], 'float32');
    const upsampled = resizeTo(small, height, width).squeeze([2]) as tf.Tensor2D;
    return overlayTensor(baseRgb, upsampled, lut, view);
  });
  return { width, height, data: await toRgba(rgb) };
}

/** An RGB map in [0,1] (guided backprop / guided Grad-CAM) resized to the panel, as RGBA. */
export async function renderRgbMap(map: RgbMap, width: number, height: number): Promise<PanelPixels> {
  const rgb = tf.tidy(() => {
    const t = tf.tensor3d(map.data, [map.height, map.width, 3], 'float32');
    const resized = resizeTo(t, height, width);
    return tf.clipByValue(tf.round(tf.mul(tf.clipByValue(resized, 0, 1), 255)), 0, 255).toInt() as tf.Tensor3D;
  });
  return { width, height, data: await toRgba(rgb) };
}
