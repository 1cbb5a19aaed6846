/**
 * Vanilla gradient (Simonyan et al. 2014): the class score's gradient with respect to the input
 * pixels, shown as its magnitude summed over the colour channels:  map = Σ_c |∂S/∂x_c|.
 */
import type { MethodImplementation } from './types';
import { magnitudeMap } from './input-maps';

export const vanillaGradient: MethodImplementation = {
  id: 'vanilla-gradient',
  async run(ctx) {
    return magnitudeMap(ctx.gradient(ctx.program.inputSlot));
  },
};
