/**
 * Eigen-CAM (Muhammad & Yeasin 2020): no gradient and no class — the projection of the activations
 * (an hw × C matrix, centred per channel) on their first principal component, signed to agree with
 * Σ_k A_k (projection.ts):  map = ReLU(X·v₁),  X = A − mean_ij(A),  v₁ = X's first right singular vector.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { camFromWeighted, layerActivation } from './cam';

export const eigencam: MethodImplementation = {
  id: 'eigencam',
  run(ctx) {
    return camFromWeighted(ctx, tf.clone(layerActivation(ctx)), true);
  },
};
