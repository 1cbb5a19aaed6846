/**
 * Grad-CAM++ (Chattopadhyay et al. 2018, eq. 19), as pytorch-grad-cam computes it: with the score
 * taken through exp, the higher derivatives become powers of the first, g = ∂S/∂A, so
 *   α_ijk = g²_ijk / (2 g²_ijk + (Σ_ab A_abk) · g³_ijk + ε)   (0 where g = 0; ε = 1e-6),
 *   w_k = Σ_ij α_ijk · ReLU(g_ijk),   map = ReLU(Σ_k w_k A_k).
 * The weights are ≥ 0 where the activations are (after a ReLU): then α ≥ 0 wherever g > 0.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { camFromChannelWeights, layerActivation, layerGradient } from './cam';
import type { ExplainContext } from './context';

/** Grad-CAM++'s channel weights, [C] (exported for the tests' identity checks). */
export function gradCamPlusPlusWeights(ctx: ExplainContext): tf.Tensor1D {
  const a = layerActivation(ctx);
  const g = layerGradient(ctx);
  return tf.tidy(() => {
    const g2 = tf.square(g);
    const g3 = tf.mul(g2, g);
    const sumA = tf.sum(a, [1, 2], true);
    const alpha = tf.div(g2, tf.add(tf.add(tf.mul(g2, 2), tf.mul(sumA, g3)), 1e-6));
    const kept = tf.where(tf.notEqual(g, 0), alpha, tf.zerosLike(alpha));
    return tf.sum(tf.mul(kept, tf.relu(g)), [0, 1, 2]) as tf.Tensor1D;
  });
}

export const gradcamPlusPlus: MethodImplementation = {
  id: 'gradcam-plus-plus',
  async run(ctx) {
    const weights = gradCamPlusPlusWeights(ctx);
    try {
      return await camFromChannelWeights(ctx, weights);
    } finally {
      weights.dispose();
    }
  },
};
