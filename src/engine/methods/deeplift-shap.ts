/**
 * DeepLIFT-SHAP (Lundberg & Lee, NeurIPS 2017, arXiv:1705.07874; as Captum's DeepLiftShap): the
 * mean of DeepLIFT-rescale's attributions over a distribution of baselines,
 *   a = (1/B) Σ_b DeepLIFT(x; x′_b),   so Σ a = S(x) − (1/B) Σ_b S(x′_b),
 * the baselines here being the four of Integrated Gradients (black image, zeros, blurred image, mean
 * colour) and `samples` seeded uniform-noise images over the input's range. Shown as ReLU(Σ_c a_c).
 * Two rows (input and baseline) per baseline through the plain (taped) path.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { throwIfAborted, yieldToEvents, type ExplainContext } from './context';
import { evidenceMap } from './input-maps';
import { integratedGradientsBaseline } from './integrated-gradients';
import { deepLiftAttributions } from './deeplift';

const NOISE_BASELINE_SEED = 1_299_709;

/** The baselines: the four standard ones, then `samples` seeded noise images (exported for the tests). */
export function deepLiftShapBaselines(ctx: ExplainContext, samples: number): tf.Tensor4D[] {
  const standard = (['black', 'zero', 'blurred', 'mean'] as const).map((baseline) => integratedGradientsBaseline({ ...ctx, options: { ...ctx.options, baseline } }));
  const noise = tf.tidy(() => {
    const low = tf.min(ctx.input);
    const high = tf.max(ctx.input);
    return Array.from({ length: samples }, (_, i) => tf.add(low, tf.mul(tf.sub(high, low), tf.randomUniform(ctx.input.shape, 0, 1, 'float32', NOISE_BASELINE_SEED + i))) as tf.Tensor4D);
  });
  return [...standard, ...noise];
}

export async function deepLiftShap(ctx: ExplainContext): Promise<tf.Tensor4D> {
  const baselines = deepLiftShapBaselines(ctx, Number(ctx.options.samples ?? 4));
  let sum: tf.Tensor4D = tf.zerosLike(ctx.input);
  try {
    for (const [i, baseline] of baselines.entries()) {
      throwIfAborted(ctx);
      const a = deepLiftAttributions(ctx, baseline);
      const next = tf.add(sum, a) as tf.Tensor4D;
      tf.dispose([a, sum]);
      sum = next;
      await sum.data();
      ctx.onProgress?.((i + 1) / baselines.length);
      await yieldToEvents();
    }
    return tf.div(sum, baselines.length) as tf.Tensor4D;
  } finally {
    tf.dispose([sum, ...baselines]);
  }
}

export const deepLiftShapMethod: MethodImplementation = {
  id: 'deeplift-shap',
  async run(ctx) {
    const a = await deepLiftShap(ctx);
    try {
      return evidenceMap(a);
    } finally {
      a.dispose();
    }
  },
};
