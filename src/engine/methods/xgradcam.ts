/**
 * XGrad-CAM (Fu et al. 2020): each channel weighted by its gradient × activation, normalised by the
 * channel's activation sum:
 *   w_k = Σ_ij (g_ijk · A_ijk) / (Σ_ij A_ijk + ε),   map = ReLU(Σ_k w_k A_k)   (ε = 1e-7).
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { camFromLayerFormula } from './cam';

/** A and g [B, h, w, C] → the weighted activations [B, h, w, C]. */
function weighted(a: tf.Tensor4D, g: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.mul(a, tf.div(tf.sum(tf.mul(g, a), [1, 2], true), tf.add(tf.sum(a, [1, 2], true), 1e-7))) as tf.Tensor4D);
}

export const xgradcam: MethodImplementation = {
  id: 'xgradcam',
  weighted,
  run: (ctx) => camFromLayerFormula(ctx, weighted),
};
