/**
 * Inference BatchNormalization over the last axis as y = x · scale + offset, per channel:
 * scale = gamma / sqrt(movingVariance + epsilon), offset = beta − movingMean · scale. One place for
 * the forward pass (leaf.ts's batchNormInference), the conv → BN folding and the backward pass.
 */
import * as tf from '@tensorflow/tfjs';

type Layer = tf.layers.Layer;

interface BatchNormInternals {
  axis: number;
  epsilon: number;
  gamma?: tf.LayerVariable | null;
  beta?: tf.LayerVariable | null;
  movingMean?: tf.LayerVariable | null;
  movingVariance?: tf.LayerVariable | null;
}

/** True when `layer` normalises the last axis of a rank-`rank` input and has its moving statistics. */
export function isLastAxisBatchNorm(layer: Layer, rank: number): boolean {
  const l = layer as unknown as BatchNormInternals;
  const axis = l.axis >= 0 ? l.axis : l.axis + rank;
  return axis === rank - 1 && !!l.movingMean && !!l.movingVariance;
}

/** The per-channel scale (check isLastAxisBatchNorm first). */
export function batchNormScale(layer: Layer): tf.Tensor {
  const l = layer as unknown as BatchNormInternals;
  return tf.tidy(() => {
    const scale = tf.rsqrt(tf.add(l.movingVariance!.read(), l.epsilon));
    return l.gamma ? tf.mul(scale, l.gamma.read()) : scale;
  });
}

/** The per-channel offset for `scale` (from batchNormScale). */
export function batchNormOffset(layer: Layer, scale: tf.Tensor): tf.Tensor {
  const l = layer as unknown as BatchNormInternals;
  return tf.tidy(() => {
    const offset = tf.neg(tf.mul(l.movingMean!.read(), scale));
    return l.beta ? tf.add(offset, l.beta.read()) : offset;
  });
}
