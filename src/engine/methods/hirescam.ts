/**
 * HiResCAM (Draelos & Carin 2020): the gradient multiplies the activations element by element, with
 * no spatial averaging:  map = ReLU(Σ_k g_k ⊙ A_k).
 * Where the gradient is spatially constant (a global average pooling right after the layer) it is
 * exactly Grad-CAM.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { camFromLayerFormula } from './cam';

/** A and g [B, h, w, C] → the weighted activations [B, h, w, C]. */
function weighted(a: tf.Tensor4D, g: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.mul(g, a) as tf.Tensor4D);
}

export const hirescam: MethodImplementation = {
  id: 'hirescam',
  weighted,
  run: (ctx) => camFromLayerFormula(ctx, weighted),
};
