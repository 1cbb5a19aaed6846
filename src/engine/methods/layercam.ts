/**
 * LayerCAM (Jiang et al. 2021): every activation weighted by its own positive gradient:
 *   map = ReLU(Σ_k ReLU(g_k) ⊙ A_k).
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { camFromLayerFormula } from './cam';

/** A and g [B, h, w, C] → the weighted activations [B, h, w, C]. */
function weighted(a: tf.Tensor4D, g: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.mul(tf.relu(g), a) as tf.Tensor4D);
}

export const layercam: MethodImplementation = {
  id: 'layercam',
  weighted,
  run: (ctx) => camFromLayerFormula(ctx, weighted),
};
