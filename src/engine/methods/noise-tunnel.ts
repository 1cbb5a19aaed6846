/**
 * The first two moments of the input gradient over noisy copies of the image, x + ε_i,
 * ε_i ~ N(0, σ²) (SmoothGrad's seeded draws, smoothgrad.ts): the mean of g_i² (Captum NoiseTunnel's
 * smoothgrad_sq, Xplique's SquareGrad) and the variance of g_i (VarGrad). Each batch of copies is one
 * forward and one backward pass; the signal is checked and progress reported between batches.
 */
import * as tf from '@tensorflow/tfjs';
import { throwIfAborted, yieldToEvents, type ExplainContext } from './context';
import { inputGradients, rowsPerBatch } from './batches';
import { smoothGradNoise } from './smoothgrad';

/** σ = noise · (max x − min x), as SmoothGrad. */
export async function noiseSigma(ctx: ExplainContext, noise: number): Promise<number> {
  const range = tf.tidy(() => tf.sub(tf.max(ctx.input), tf.min(ctx.input)));
  const value = (await range.data())[0] ?? 0;
  range.dispose();
  return noise * value;
}

/** E[g] and E[g²] over `samples` noisy copies, [1, H, W, c] each (the caller disposes both). */
export async function noisyGradientMoments(ctx: ExplainContext, samples: number, sigma: number): Promise<{ mean: tf.Tensor4D; meanSquare: tf.Tensor4D }> {
  const rows = rowsPerBatch(ctx, Number(ctx.options.batchSize ?? 8), true);
  let sum: tf.Tensor4D = tf.zerosLike(ctx.input);
  let sumSquares: tf.Tensor4D = tf.zerosLike(ctx.input);
  try {
    for (let first = 0; first < samples; first += rows) {
      throwIfAborted(ctx);
      const count = Math.min(rows, samples - first);
      const batch = tf.tidy(() => tf.add(ctx.input, smoothGradNoise(ctx.input.shape, count, sigma, first)) as tf.Tensor4D);
      const g = inputGradients(ctx, batch, false);
      batch.dispose();
      const nextSum = tf.tidy(() => tf.add(sum, tf.sum(g, 0, true)) as tf.Tensor4D);
      const nextSquares = tf.tidy(() => tf.add(sumSquares, tf.sum(tf.square(g), 0, true)) as tf.Tensor4D);
      g.dispose();
      tf.dispose([sum, sumSquares]);
      sum = nextSum;
      sumSquares = nextSquares;
      await sum.data();
      ctx.onProgress?.((first + count) / samples);
      await yieldToEvents();
    }
    throwIfAborted(ctx);
    return { mean: tf.div(sum, samples) as tf.Tensor4D, meanSquare: tf.div(sumSquares, samples) as tf.Tensor4D };
  } finally {
    tf.dispose([sum, sumSquares]);
  }
}

/** Σ_c of a non-negative [1, H, W, c] tensor, [H, W]. */
export function channelSumMap(t: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => tf.sum(t, -1).reshape(t.shape.slice(1, 3)) as tf.Tensor2D);
}
