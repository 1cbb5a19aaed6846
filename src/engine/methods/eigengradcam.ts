/**
 * EigenGrad-CAM (pytorch-grad-cam): Eigen-CAM of the gradient-weighted activations g ⊙ A — their
 * first principal component (centred per channel, signed to agree with Σ_k g_k ⊙ A_k), then ReLU.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { camFromWeighted, layerActivation, layerGradient } from './cam';

export const eigengradcam: MethodImplementation = {
  id: 'eigengradcam',
  run(ctx) {
    const a = layerActivation(ctx);
    return camFromWeighted(ctx, tf.tidy(() => tf.mul(layerGradient(ctx), a) as tf.Tensor4D), true);
  },
};
