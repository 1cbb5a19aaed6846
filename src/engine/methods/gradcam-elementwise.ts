/**
 * Grad-CAM element-wise (pytorch-grad-cam's GradCAMElementWise): the ReLU is taken per element before
 * the channel sum:  map = ReLU(Σ_k ReLU(g_k ⊙ A_k))  (the outer ReLU matters only when eigen-smoothed).
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { camFromWeighted, layerActivation, layerGradient } from './cam';

export const gradcamElementwise: MethodImplementation = {
  id: 'gradcam-elementwise',
  run(ctx) {
    const a = layerActivation(ctx);
    return camFromWeighted(ctx, tf.tidy(() => tf.relu(tf.mul(layerGradient(ctx), a)) as tf.Tensor4D));
  },
};
