/**
 * LayerCAM (Jiang et al. 2021): every activation weighted by its own positive gradient:
 *   map = ReLU(Σ_k ReLU(g_k) ⊙ A_k).
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { camFromWeighted, layerActivation, layerGradient } from './cam';

export const layercam: MethodImplementation = {
  id: 'layercam',
  run(ctx) {
    const a = layerActivation(ctx);
    return camFromWeighted(ctx, tf.tidy(() => tf.mul(tf.relu(layerGradient(ctx)), a) as tf.Tensor4D));
  },
};
