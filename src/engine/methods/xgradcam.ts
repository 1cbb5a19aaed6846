/**
 * XGrad-CAM (Fu et al. 2020): each channel weighted by its gradient × activation, normalised by the
 * channel's activation sum:
 *   w_k = Σ_ij (g_ijk · A_ijk) / (Σ_ij A_ijk + ε),   map = ReLU(Σ_k w_k A_k)   (ε = 1e-7).
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { camFromChannelWeights, layerActivation, layerGradient } from './cam';

export const xgradcam: MethodImplementation = {
  id: 'xgradcam',
  async run(ctx) {
    const a = layerActivation(ctx);
    const weights = tf.tidy(() => tf.div(tf.sum(tf.mul(layerGradient(ctx), a), [0, 1, 2]), tf.add(tf.sum(a, [0, 1, 2]), 1e-7)));
    try {
      return await camFromChannelWeights(ctx, weights);
    } finally {
      weights.dispose();
    }
  },
};
