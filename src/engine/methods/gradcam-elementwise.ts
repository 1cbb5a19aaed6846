/**
 * Grad-CAM element-wise (pytorch-grad-cam's GradCAMElementWise): the ReLU is taken per element before
 * the channel sum:  map = ReLU(Σ_k ReLU(g_k ⊙ A_k))  (the outer ReLU matters only when eigen-smoothed).
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { camFromLayerFormula } from './cam';

/** A and g [B, h, w, C] → the weighted activations [B, h, w, C]. */
function weighted(a: tf.Tensor4D, g: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.relu(tf.mul(g, a)) as tf.Tensor4D);
}

export const gradcamElementwise: MethodImplementation = {
  id: 'gradcam-elementwise',
  weighted,
  run: (ctx) => camFromLayerFormula(ctx, weighted),
};
