/**
 * Ablation-CAM (Desai & Ramaswamy 2020). With S the class score (the logit) and S_k the score when
 * channel k of the layer is zeroed:
 *   w_k = (S − S_k) / S,   map = ReLU(Σ_k w_k A_k).
 * (pytorch-grad-cam, departing from the paper, sets the channel to a large negative value when the
 * layer's minimum is 0; here it is zeroed, as in the paper.) Only the steps after the layer run again,
 * from the cached activations: a batch of copies of A, each with its own channels zeroed, goes
 * through the downstream steps (skip connections that cross the layer read the cache). Batches are
 * of `batchSize` channels; the signal is checked and progress reported between them. Negating the
 * score leaves w unchanged, so the counterfactual is the same map.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { downstreamSteps, forwardScores, logitFromSlots } from '../forward';
import { camFromChannelWeights, layerActivation } from './cam';
import { throwIfAborted, yieldToEvents, type ExplainContext } from './context';
import { rowsPerBatch } from './batches';

/** The score with nothing ablated, and with each channel zeroed ([C]) (exported for the tests). */
export async function ablationScores(ctx: ExplainContext): Promise<{ score: number; ablated: Float32Array }> {
  const a = layerActivation(ctx);
  const channels = a.shape[3];
  const { program } = ctx;
  const scoreT = tf.tidy(() => {
    const logits = logitFromSlots(program, (s) => ctx.values[s]!);
    return logits.reshape([-1]).slice([ctx.classIndex], [1]).mul(ctx.sign);
  });
  const score = (await scoreT.data())[0]!;
  scoreT.dispose();
  const downstream = downstreamSteps(program, ctx.slot);
  const rows = rowsPerBatch(ctx, Number(ctx.options.batchSize ?? 32), false);
  const ablated = new Float32Array(channels);
  for (let first = 0; first < channels; first += rows) {
    throwIfAborted(ctx);
    const count = Math.min(rows, channels - first);
    const copies = tf.tidy(() => {
      // Row r zeroes channel first + r.
      const zeroed = tf.oneHot(tf.range(first, first + count, 1, 'int32'), channels);
      return tf.mul(a, tf.sub(1, zeroed).reshape([count, 1, 1, channels])) as tf.Tensor4D;
    });
    let batchScores: tf.Tensor1D;
    try {
      batchScores = forwardScores(program, downstream, new Map([[ctx.slot, copies]]), ctx.values, ctx.classIndex, ctx.sign, { fast: ctx.path === 'fast' });
    } finally {
      copies.dispose();
    }
    ablated.set(await batchScores.data(), first);
    batchScores.dispose();
    ctx.onProgress?.((first + count) / channels);
    await yieldToEvents();
  }
  throwIfAborted(ctx);
  return { score, ablated };
}

export const ablationcam: MethodImplementation = {
  id: 'ablationcam',
  async run(ctx) {
    const { score, ablated } = await ablationScores(ctx);
    // Keep the sign of S, never divide by 0.
    const denominator = Math.abs(score) < 1e-12 ? (score < 0 ? -1e-12 : 1e-12) : score;
    const weights = tf.tensor1d(Float32Array.from(ablated, (s) => (score - s) / denominator));
    try {
      return await camFromChannelWeights(ctx, weights);
    } finally {
      weights.dispose();
    }
  },
};
