/**
 * Gradient × input (Shrikumar et al. 2016): a = x ⊙ ∂S/∂x in the model's input space (after
 * preprocessing), shown as its positive channel sum:  map = ReLU(Σ_c x_c · ∂S/∂x_c).
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { evidenceMap } from './input-maps';

export const gradientXInput: MethodImplementation = {
  id: 'gradient-x-input',
  async run(ctx) {
    return tf.tidy(() => evidenceMap(tf.mul(ctx.gradient(ctx.program.inputSlot), ctx.input)));
  },
};
