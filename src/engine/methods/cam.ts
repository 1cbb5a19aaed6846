/**
 * What the CAM methods share: the layer's activation, and the map made from "weighted activations"
 * (pytorch-grad-cam's structure): map = ReLU(Σ_k W_k) over the channels k of a [B, h, w, C] tensor W
 * (W = w_k·A_k for the channel-weight methods, g ⊙ A for HiResCAM…), or — eigen-smoothing, and always
 * for Eigen-CAM / EigenGrad-CAM — ReLU of W's first principal component (projection.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { studioError } from '../../shared/errors';
import type { ExplainContext } from './context';
import { firstComponentMap } from './projection';

/** The target layer's activation A, [1, h, w, C]; LAYER_NOT_SPATIAL when it is not rank 4. */
export function layerActivation(ctx: ExplainContext): tf.Tensor4D {
  const a = ctx.values[ctx.slot];
  if (!a || a.rank !== 4) throw studioError('LAYER_NOT_SPATIAL', { path: ctx.layerPath ?? String(ctx.slot) });
  return a as tf.Tensor4D;
}

/** dScore/dA at the target layer, [1, h, w, C] (memoised by the context: do not dispose). */
export function layerGradient(ctx: ExplainContext): tf.Tensor4D {
  return ctx.gradient(ctx.slot) as tf.Tensor4D;
}

/**
 * ReLU(Σ_k weighted_k), [h, w] — or ReLU(first principal component of `weighted`) when `project`
 * (Eigen-CAM, EigenGrad-CAM) or the context asks for eigen-smoothing. Disposes `weighted`.
 */
export async function camFromWeighted(ctx: ExplainContext, weighted: tf.Tensor4D, project = false): Promise<tf.Tensor2D> {
  try {
    if (project || ctx.eigenSmooth) {
      const projection = await firstComponentMap(weighted);
      const map = tf.relu(projection) as tf.Tensor2D;
      projection.dispose();
      return map;
    }
    return tf.tidy(() => camsOf(weighted).squeeze([0]) as tf.Tensor2D);
  } finally {
    weighted.dispose();
  }
}

/** ReLU(Σ_k W_k) for every row of a batch: [B, h, w, C] → [B, h, w]. */
export function camsOf(weighted: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => tf.relu(weighted.sum(3)) as tf.Tensor3D);
}

/** One image's CAM from a batch-native formula of A and g (MethodImplementation.weighted). */
export function camFromLayerFormula(ctx: ExplainContext, weighted: (a: tf.Tensor4D, g: tf.Tensor4D) => tf.Tensor4D): Promise<tf.Tensor2D> {
  const a = layerActivation(ctx);
  return camFromWeighted(ctx, tf.tidy(() => weighted(a, layerGradient(ctx))));
}

/** The CAM of channel weights `weights` ([C]): ReLU(Σ_k w_k A_k) (or its eigen-smoothed form). */
export function camFromChannelWeights(ctx: ExplainContext, weights: tf.Tensor): Promise<tf.Tensor2D> {
  const a = layerActivation(ctx);
  return camFromWeighted(ctx, tf.tidy(() => tf.mul(a, weights.reshape([1, 1, 1, -1])) as tf.Tensor4D));
}
