/**
 * Grad-CAM++ (Chattopadhyay et al. 2018, eq. 19), as pytorch-grad-cam computes it: with the score
 * taken through exp, the higher derivatives become powers of the first, g = ∂S/∂A, so
 *   α_ijk = g²_ijk / (2 g²_ijk + (Σ_ab A_abk) · g³_ijk + ε)   (0 where g = 0; ε = 1e-6),
 *   w_k = Σ_ij α_ijk · ReLU(g_ijk),   map = ReLU(Σ_k w_k A_k).
 * The weights are ≥ 0 where the activations are (after a ReLU): then α ≥ 0 wherever g > 0.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { camFromLayerFormula, layerActivation, layerGradient } from './cam';
import type { ExplainContext } from './context';

/** The channel weights, batch-native: A and g [B, h, w, C] → [B, 1, 1, C]. */
function channelWeights(a: tf.Tensor4D, g: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const g2 = tf.square(g);
    const g3 = tf.mul(g2, g);
    const sumA = tf.sum(a, [1, 2], true);
    const alpha = tf.div(g2, tf.add(tf.add(tf.mul(g2, 2), tf.mul(sumA, g3)), 1e-6));
    const kept = tf.where(tf.notEqual(g, 0), alpha, tf.zerosLike(alpha));
    return tf.sum(tf.mul(kept, tf.relu(g)), [1, 2], true) as tf.Tensor4D;
  });
}

/** One image's channel weights, [C]. */
export function gradCamPlusPlusWeights(ctx: ExplainContext): tf.Tensor1D {
  const a = layerActivation(ctx);
  const g = layerGradient(ctx);
  return tf.tidy(() => channelWeights(a, g).reshape([-1]) as tf.Tensor1D);
}

function weighted(a: tf.Tensor4D, g: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.mul(a, channelWeights(a, g)) as tf.Tensor4D);
}

export const gradcamPlusPlus: MethodImplementation = {
  id: 'gradcam-plus-plus',
  weighted,
  run: (ctx) => camFromLayerFormula(ctx, weighted),
};
