/**
 * Explanation methods over a compiled program: Grad-CAM at any slot, guided backprop (gradient at the
 * input with ReLU/ReLU6/LeakyReLU passing only positive gradients), guided Grad-CAM, and their
 * standard visualisations. All functions take the per-image activation cache (`cached`, from
 * `runForward`): a gradient is a backward pass over it, from the score to the target (gradientAt).
 */
import * as tf from '@tensorflow/tfjs';
import type { Program } from './program';
import type { GradientPath } from './leaf';
import { gradientAt } from './gradient';
import { studioError } from '../shared/errors';
import { withGuidedGradients } from './guided';

// ---------------------------------------------------------------------------------------------
// Grad-CAM

export interface GradCamTensors {
  /** ReLU(sum_k w_k A_k), [h, w], before normalisation. */
  raw: tf.Tensor2D;
  rawMax: number;
}

/** ReLU(sum_k w_k A_k) at `slot` for `classIndex`, [h, w], not normalised (no read-back: fine on GPU backends). */
export function gradCamMap(
  program: Program,
  cached: ReadonlyArray<tf.Tensor | undefined>,
  slot: number,
  classIndex: number,
  options: { path?: GradientPath; sign?: number } = {},
): tf.Tensor2D {
  const activation = cached[slot];
  if (!activation || activation.rank !== 4) throw studioError('LAYER_NOT_SPATIAL', { path: String(slot) });
  return tf.tidy(() => {
    const grads = gradientAt(program, cached, slot, classIndex, options);
    const weights = grads.mean([1, 2], true); // [1, 1, 1, C]
    const cam = tf.relu(activation.mul(weights).sum(3)); // [1, h, w]
    return cam.squeeze([0]) as tf.Tensor2D;
  });
}

/** Grad-CAM at `slot` for `classIndex` with its raw maximum (read synchronously). `sign` = -1 gives the counterfactual map. */
export function gradCam(
  program: Program,
  cached: ReadonlyArray<tf.Tensor | undefined>,
  slot: number,
  classIndex: number,
  options: { path?: GradientPath; sign?: number } = {},
): GradCamTensors {
  const raw = gradCamMap(program, cached, slot, classIndex, options);
  const rawMax = tf.tidy(() => raw.max().dataSync()[0]) || 0;
  return { raw, rawMax };
}

/** The map divided by its maximum (all zeros stay zeros). */
export function normaliseMap(raw: tf.Tensor2D, rawMax: number): tf.Tensor2D {
  return tf.tidy(() => (rawMax > 0 ? raw.div(rawMax) : tf.zerosLike(raw)) as tf.Tensor2D);
}

/** Bilinear upsampling of a [h, w] map to [H, W], clipped back to [0, 1]. */
export function upsampleMap(map: tf.Tensor2D, size: [number, number]): tf.Tensor2D {
  return tf.tidy(() => {
    const up = tf.image.resizeBilinear(map.expandDims(2) as tf.Tensor3D, size, false, true);
    return up.squeeze([2]).clipByValue(0, 1) as tf.Tensor2D;
  });
}

// ---------------------------------------------------------------------------------------------
// Guided backprop and guided Grad-CAM

/** dScore/dInput with guided ReLUs; [h, w, c] for the single image. */
export function guidedBackprop(
  program: Program,
  cached: ReadonlyArray<tf.Tensor | undefined>,
  classIndex: number,
  options: { path?: GradientPath; sign?: number } = {},
): tf.Tensor3D {
  return withGuidedGradients(() =>
    tf.tidy(() => gradientAt(program, cached, program.inputSlot, classIndex, options).squeeze([0]) as tf.Tensor3D),
  );
}

/** Standard gradient visualisation: zero-centre, scale by 0.1/std, shift to 0.5, clip to [0, 1]; grey → RGB. */
export function visualiseGradient(gradient: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const centred = gradient.sub(gradient.mean());
    const std = tf.sqrt(centred.square().mean());
    const vis = centred.div(std.add(1e-5)).mul(0.1).add(0.5).clipByValue(0, 1) as tf.Tensor3D;
    return (vis.shape[2] === 1 ? tf.tile(vis, [1, 1, 3]) : vis) as tf.Tensor3D;
  });
}

/** Guided backprop × upsampled Grad-CAM (per pixel, all channels). */
export function guidedGradCam(guided: tf.Tensor3D, camUpsampled: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => guided.mul(camUpsampled.expandDims(2)) as tf.Tensor3D);
}
