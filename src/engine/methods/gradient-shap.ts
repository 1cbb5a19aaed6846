/**
 * GradientSHAP (Lundberg & Lee, NeurIPS 2017, arXiv:1705.07874; as Captum's GradientShap): expected
 * gradients between a baseline x′ and noisy copies of the image,
 *   a = (x − x′) ⊙ (1/n) Σ_i ∂S/∂x (x′ + α_i (x + ε_i − x′)),   α_i ~ U(0, 1),  ε_i ~ N(0, σ²),
 * σ = noise · (max x − min x) (Captum's stdevs, default 0: no noise), x′ the option baseline (as
 * Integrated Gradients'). Every draw is seeded per sample, so the map does not depend on the batch
 * size. Shown as the evidence for the class, ReLU(Σ_c a_c). Batched like Integrated Gradients.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import { meanInputGradient } from './batches';
import { evidenceMap } from './input-maps';
import { integratedGradientsBaseline } from './integrated-gradients';
import { sampleRandom } from './perturbation';
import { noiseSigma } from './noise-tunnel';

const SHAP_ALPHA_SEED = 179_426_549;
const SHAP_NOISE_SEED = 2_038_074_743;

/** α_i, seeded per sample (exported for the tests). */
export function gradientShapAlpha(index: number): number {
  return sampleRandom(SHAP_ALPHA_SEED, index)();
}

/** The noise of sample i, [1, H, W, c] (exported for the tests). */
export function gradientShapNoise(shape: readonly number[], sigma: number, index: number): tf.Tensor4D {
  return tf.randomNormal([1, shape[1] ?? 1, shape[2] ?? 1, shape[3] ?? 1], 0, sigma, 'float32', SHAP_NOISE_SEED + index);
}

/** The attributions a, [1, H, W, c] (exported for the tests). */
export async function gradientShap(ctx: ExplainContext): Promise<tf.Tensor4D> {
  const samples = Number(ctx.options.samples ?? 25);
  const sigma = await noiseSigma(ctx, Number(ctx.options.noise ?? 0));
  const baseline = integratedGradientsBaseline(ctx);
  try {
    const points = (first: number, count: number) =>
      tf.tidy(() => tf.concat(Array.from({ length: count }, (_, r) => {
        const noisy = sigma > 0 ? tf.add(ctx.input, gradientShapNoise(ctx.input.shape, sigma, first + r)) : ctx.input;
        return tf.add(baseline, tf.mul(gradientShapAlpha(first + r), tf.sub(noisy, baseline)));
      }), 0) as tf.Tensor4D);
    const mean = await meanInputGradient(ctx, samples, points, false);
    try {
      return tf.tidy(() => tf.mul(tf.sub(ctx.input, baseline), mean) as tf.Tensor4D);
    } finally {
      mean.dispose();
    }
  } finally {
    baseline.dispose();
  }
}

export const gradientShapMethod: MethodImplementation = {
  id: 'gradient-shap',
  async run(ctx) {
    const a = await gradientShap(ctx);
    try {
      return evidenceMap(a);
    } finally {
      a.dispose();
    }
  },
};
