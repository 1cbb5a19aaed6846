/**
 * Integrated Gradients (Sundararajan et al. 2017), on the straight path from a baseline x′ to the
 * image x, by the midpoint rule over m steps:
 *   a = (x − x′) ⊙ (1/m) Σ_{k=0}^{m−1} ∂S/∂x (x′ + ((k + ½)/m) (x − x′)),
 * so that Σ a ≈ S(x) − S(x′) (completeness; the tests check 1 % at 64 steps). Baselines (option
 * baseline), in the model's input space: `black` — a black image through the model's preprocessing;
 * `zero` — all zeros; `blurred` — the image under a Gaussian blur (σ = a tenth of its shorter side);
 * `mean` — each channel's mean. Shown as the evidence for the class, ReLU(Σ_c a_c) (input-maps.ts).
 * Each batch of path points is one forward and one backward pass; the signal is checked and progress
 * reported between batches.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import { meanInputGradient } from './batches';
import { evidenceMap } from './input-maps';

/** A separable Gaussian blur of [1, H, W, c] with reflected borders. */
export function gaussianBlur(x: tf.Tensor4D, sigma: number): tf.Tensor4D {
  const [, height, width, channels] = x.shape;
  const radius = Math.max(1, Math.min(Math.ceil(3 * sigma), height - 1, width - 1));
  const taps = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const total = taps.reduce((a, b) => a + b, 0);
  return tf.tidy(() => {
    const kernel = tf.tensor1d(taps.map((t) => t / total));
    const horizontal = tf.tile(kernel.reshape([1, 2 * radius + 1, 1, 1]), [1, 1, channels, 1]) as tf.Tensor4D;
    const vertical = tf.tile(kernel.reshape([2 * radius + 1, 1, 1, 1]), [1, 1, channels, 1]) as tf.Tensor4D;
    const padded = tf.mirrorPad(x, [[0, 0], [radius, radius], [radius, radius], [0, 0]], 'reflect');
    const rows = tf.depthwiseConv2d(padded, horizontal, 1, 'valid');
    return tf.depthwiseConv2d(rows, vertical, 1, 'valid') as tf.Tensor4D;
  });
}

/** The baseline x′ for the option `baseline`, [1, H, W, c]. */
export function integratedGradientsBaseline(ctx: ExplainContext): tf.Tensor4D {
  const x = ctx.input;
  switch (ctx.options.baseline) {
    case 'zero':
      return tf.zerosLike(x);
    case 'blurred':
      return gaussianBlur(x, Math.min(x.shape[1], x.shape[2]) / 10);
    case 'mean':
      return tf.tidy(() => tf.mul(tf.onesLike(x), tf.mean(x, [0, 1, 2], true)) as tf.Tensor4D);
    default:
      return tf.clone(ctx.blackInput());
  }
}

/** The attributions a, [1, H, W, c] (exported for the tests' completeness check). */
export async function integratedGradients(ctx: ExplainContext, baseline?: tf.Tensor4D): Promise<tf.Tensor4D> {
  const steps = Number(ctx.options.steps ?? 64);
  const start = baseline ? tf.clone(baseline) : integratedGradientsBaseline(ctx);
  const difference = tf.sub(ctx.input, start) as tf.Tensor4D;
  try {
    const pointsOf = (first: number, count: number) =>
      tf.tidy(() => {
        const alphas = tf.range(first, first + count).add(0.5).div(steps).reshape([count, 1, 1, 1]);
        return tf.add(start, tf.mul(alphas, difference)) as tf.Tensor4D;
      });
    const mean = await meanInputGradient(ctx, steps, pointsOf, false);
    try {
      return tf.mul(difference, mean) as tf.Tensor4D;
    } finally {
      mean.dispose();
    }
  } finally {
    tf.dispose([start, difference]);
  }
}

export const integratedGradientsMethod: MethodImplementation = {
  id: 'integrated-gradients',
  async run(ctx) {
    const attributions = await integratedGradients(ctx);
    try {
      return evidenceMap(attributions);
    } finally {
      attributions.dispose();
    }
  },
};
