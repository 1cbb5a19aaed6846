/**
 * Guided backprop (Springenberg et al. 2015): the input gradient of the score, where every ReLU,
 * ReLU6 and LeakyReLU passes back only positive gradients, and only where its input was positive
 * (guided.ts). An RGB image: the attribution [H, W, c], visualised by the caller.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';

export const guidedBackprop: MethodImplementation = {
  id: 'guided-backprop',
  async run(ctx) {
    return tf.tidy(() => ctx.guidedGradient().squeeze([0]));
  },
};
