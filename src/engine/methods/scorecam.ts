/**
 * Score-CAM (Wang et al. 2020), as pytorch-grad-cam computes it. Each channel A_k of the layer,
 * upsampled to the input size (bilinear, half-pixel centres like every map here) and scaled to [0, 1]
 * (M_k = (U_k − min U_k) / (max U_k − min U_k + 1e-8)), masks the input x; the class score of the
 * masked image is s_k = S(x ⊙ M_k). The weights are a softmax over the channels' scores:
 *   w_k = exp(s_k) / Σ_l exp(s_l),   map = ReLU(Σ_k w_k A_k).
 * S is the logit (negated for the counterfactual). One forward pass of the whole model per channel,
 * run in batches of masked images (option batchSize) that keep nothing they no longer need; the
 * signal is checked and progress reported between batches.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { forwardScores } from '../executor/forward';
import { camFromChannelWeights, layerActivation } from './cam';
import { throwIfAborted, yieldToEvents, type ExplainContext } from './context';
import { rowsPerBatch } from './batches';

/** The softmax of `scores` (computed in double precision, max subtracted). */
export function softmax(scores: ArrayLike<number>): Float32Array {
  const max = Math.max(...Array.from(scores));
  const exps = Array.from(scores, (s) => Math.exp(s - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return Float32Array.from(exps, (e) => e / total);
}

/** The class score of the input masked by each channel, [C] (exported for the tests). */
export async function scoreCamChannelScores(ctx: ExplainContext): Promise<Float32Array> {
  const a = layerActivation(ctx);
  const [, h, w, channels] = a.shape;
  const [, height, width] = ctx.input.shape;
  const { program } = ctx;
  const rows = rowsPerBatch(ctx, Number(ctx.options.batchSize ?? 16), false);
  const scores = new Float32Array(channels);
  for (let first = 0; first < channels; first += rows) {
    throwIfAborted(ctx);
    const count = Math.min(rows, channels - first);
    const masked = tf.tidy(() => {
      const maps = tf.transpose(tf.slice(a, [0, 0, 0, first], [1, h, w, count]), [3, 1, 2, 0]) as tf.Tensor4D; // [count, h, w, 1]
      const up = tf.image.resizeBilinear(maps, [height, width], false, true);
      const low = tf.min(up, [1, 2, 3], true);
      const high = tf.max(up, [1, 2, 3], true);
      const masks = tf.div(tf.sub(up, low), tf.add(tf.sub(high, low), 1e-8));
      return tf.mul(masks, ctx.input) as tf.Tensor4D; // [count, H, W, c]
    });
    let batchScores: tf.Tensor1D;
    try {
      batchScores = forwardScores(program, program.steps, new Map([[program.inputSlot, masked]]), [], ctx.classIndex, ctx.sign, { fast: ctx.path === 'fast' });
    } finally {
      masked.dispose();
    }
    const read = await batchScores.data();
    batchScores.dispose();
    scores.set(read, first);
    ctx.onProgress?.((first + count) / channels);
    await yieldToEvents();
  }
  throwIfAborted(ctx);
  return scores;
}

export const scorecam: MethodImplementation = {
  id: 'scorecam',
  async run(ctx) {
    const weights = tf.tensor1d(softmax(await scoreCamChannelScores(ctx)));
    try {
      return await camFromChannelWeights(ctx, weights);
    } finally {
      weights.dispose();
    }
  },
};
