/**
 * HiResCAM (Draelos & Carin 2020): the gradient multiplies the activations element by element, with
 * no spatial averaging:  map = ReLU(Σ_k g_k ⊙ A_k).
 * Where the gradient is spatially constant (a global average pooling right after the layer) it is
 * exactly Grad-CAM.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { camFromWeighted, layerActivation, layerGradient } from './cam';

export const hirescam: MethodImplementation = {
  id: 'hirescam',
  run(ctx) {
    const a = layerActivation(ctx);
    return camFromWeighted(ctx, tf.tidy(() => tf.mul(layerGradient(ctx), a) as tf.Tensor4D));
  },
};
