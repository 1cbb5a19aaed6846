/**
 * Grad-CAM (Selvaraju et al. 2017). With A the layer's activations ([h, w, C]) and g = ∂S/∂A the
 * gradient of the class score S (the logit; −logit for the counterfactual):
 *   w_k = (1 / hw) Σ_ij g_ijk,   map = ReLU(Σ_k w_k A_k).
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { camFromLayerFormula } from './cam';

/** A and g [B, h, w, C] → the weighted activations [B, h, w, C]. */
function weighted(a: tf.Tensor4D, g: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.mul(a, g.mean([1, 2], true)) as tf.Tensor4D);
}

export const gradcam: MethodImplementation = {
  id: 'gradcam',
  weighted,
  run: (ctx) => camFromLayerFormula(ctx, weighted),
};
