/**
 * Grad-CAM (Selvaraju et al. 2017). With A the layer's activations ([h, w, C]) and g = ∂S/∂A the
 * gradient of the class score S (the logit; −logit for the counterfactual):
 *   w_k = (1 / hw) Σ_ij g_ijk,   map = ReLU(Σ_k w_k A_k).
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { camFromChannelWeights, layerGradient } from './cam';

export const gradcam: MethodImplementation = {
  id: 'gradcam',
  async run(ctx) {
    const weights = tf.tidy(() => layerGradient(ctx).mean([0, 1, 2]));
    try {
      return await camFromChannelWeights(ctx, weights);
    } finally {
      weights.dispose();
    }
  },
};
