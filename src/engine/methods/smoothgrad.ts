/**
 * SmoothGrad (Smilkov et al. 2017): the input gradient averaged over n noisy copies of the image,
 *   ĝ = (1/n) Σ_i ∂S/∂x (x + ε_i),   ε_i ~ N(0, σ²),   σ = noise · (max x − min x),
 * in the model's input space; the gradient is the plain one or guided backprop's (option base). Shown
 * as a sensitivity map, Σ_c |ĝ_c| (input-maps.ts). The noise is seeded: the same image gives the same
 * map. Each batch of copies is one forward and one backward pass; the signal is checked and progress
 * reported between batches.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import { meanInputGradient } from './batches';
import { magnitudeMap } from './input-maps';

/** The seed of the noise of sample i (the first of its batch). */
const NOISE_SEED = 1_000_003;

/** The noise added to samples first … first + count − 1 (a batch), [count, H, W, c]; seeded, so the map is reproducible. */
export function smoothGradNoise(shape: readonly number[], count: number, sigma: number, first: number): tf.Tensor4D {
  return tf.randomNormal([count, shape[1]!, shape[2]!, shape[3]!], 0, sigma, 'float32', NOISE_SEED + first);
}

/** The averaged gradient ĝ, [1, H, W, c] (exported for the tests). */
export async function smoothGradient(ctx: ExplainContext): Promise<tf.Tensor4D> {
  const samples = Number(ctx.options.samples ?? 25);
  const noise = Number(ctx.options.noise ?? 0.15);
  const guided = ctx.options.base === 'guided-backprop';
  const rangeT = tf.tidy(() => tf.sub(tf.max(ctx.input), tf.min(ctx.input)));
  const sigma = noise * (await rangeT.data())[0]!;
  rangeT.dispose();
  return meanInputGradient(ctx, samples, (first, count) => tf.tidy(() => tf.add(ctx.input, smoothGradNoise(ctx.input.shape, count, sigma, first)) as tf.Tensor4D), guided);
}

export const smoothgrad: MethodImplementation = {
  id: 'smoothgrad',
  async run(ctx) {
    const mean = await smoothGradient(ctx);
    try {
      return magnitudeMap(mean);
    } finally {
      mean.dispose();
    }
  },
};
