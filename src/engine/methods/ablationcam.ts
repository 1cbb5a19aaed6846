/**
 * Ablation-CAM (Desai & Ramaswamy 2020). With S the class score (the logit) and S_k the score when
 * channel k of the layer is zeroed:
 *   w_k = (S − S_k) / S,   map = ReLU(Σ_k w_k A_k).
 * (pytorch-grad-cam, departing from the paper, sets the channel to a large negative value when the
 * layer's minimum is 0; here it is zeroed, as in the paper.) Only the steps after the layer run again,
 * from the cached activations: a batch of copies of A, each with its own channels zeroed, goes
 * through the downstream steps (skip connections that cross the layer read the cache). When the
 * layer feeds only per-channel steps that keep a zeroed channel zero (global or spatial pooling,
 * ReLU, dropout — typically the last conv before global average pooling), the channel is zeroed
 * after them instead, in their cached output: the same scores, without copying the whole layer once
 * per channel. Batches are of `batchSize` channels; the signal is checked and progress reported
 * between them. Negating the score leaves w unchanged, so the counterfactual is the same map.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { downstreamSteps, forwardScores, logitFromSlots } from '../executor/forward';
import { materializeSlot } from '../executor/compiled-forward';
import type { Program, Step } from '../executor/program';
import { camFromChannelWeights, layerActivation } from './cam';
import { throwIfAborted, yieldToEvents, type ExplainContext } from './context';
import { rowsPerBatch } from './batches';

/** Steps after which a channel that was all zero is still all zero, channel for channel. */
const ZERO_KEEPING = new Set(['GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'AveragePooling2D', 'MaxPooling2D', 'Dropout', 'SpatialDropout2D', 'ReLU']);

function keepsZeroChannels(step: Step): boolean {
  const layer = step.layer as unknown as { dataFormat?: string; activation?: { getClassName(): string } };
  if (step.inputs.length !== 1 || step.outputs.length !== 1) return false;
  if (layer.dataFormat === 'channelsFirst') return false;
  const className = step.layer.getClassName();
  if (className === 'Activation') return ['relu', 'relu6', 'linear', 'tanh', 'elu', 'selu', 'softsign'].includes(layer.activation?.getClassName().toLowerCase() ?? '');
  if (className === 'LeakyReLU') return true;
  return ZERO_KEEPING.has(className);
}

/**
 * Where to zero the channels: the latest slot reached from `slot` through single-consumer steps that
 * keep zeroed channels zero (same channel count on the last axis), whose value is cached.
 */
export function ablationSlot(program: Program, values: ReadonlyArray<tf.Tensor | undefined>, slot: number): number {
  const consumers = (s: number) => program.steps.filter((step) => step.inputs.includes(s));
  const logitSlots = new Set([...program.outputSlots, ...program.steps[program.finalStepIndex]!.inputs]);
  let current = slot;
  for (;;) {
    const users = consumers(current);
    if (users.length !== 1 || logitSlots.has(current) || !keepsZeroChannels(users[0]!)) return current;
    const next = users[0]!.outputs[0]!;
    const before = values[current];
    const after = values[next];
    if (!before || !after || before.shape[before.rank - 1] !== after.shape[after.rank - 1]) return current;
    current = next;
  }
}

/** The score with nothing ablated, and with each channel zeroed ([C]) (exported for the tests). */
export async function ablationScores(ctx: ExplainContext): Promise<{ score: number; ablated: Float32Array }> {
  const a = layerActivation(ctx);
  const channels = a.shape[3];
  const { program } = ctx;
  const scoreT = tf.tidy(() => {
    const logits = logitFromSlots(program, (s) => materializeSlot(ctx.values, s)!);
    return logits.reshape([-1]).slice([ctx.classIndex], [1]).mul(ctx.sign);
  });
  const score = (await scoreT.data())[0]!;
  scoreT.dispose();
  const at = ablationSlot(program, ctx.values, ctx.slot);
  const cut = ctx.values[at]!;
  const downstream = downstreamSteps(program, at);
  const rows = rowsPerBatch(ctx, Number(ctx.options.batchSize ?? 128), false, [at, ...downstream.flatMap((step) => step.outputs)]);
  const ablated = new Float32Array(channels);
  for (let first = 0; first < channels; first += rows) {
    throwIfAborted(ctx);
    const count = Math.min(rows, channels - first);
    const copies = tf.tidy(() => {
      // Row r zeroes channel first + r.
      const zeroed = tf.oneHot(tf.range(first, first + count, 1, 'int32'), channels);
      return tf.mul(cut, tf.sub(1, zeroed).reshape([count, ...new Array<number>(cut.rank - 2).fill(1), channels]));
    });
    let batchScores: tf.Tensor1D;
    try {
      batchScores = forwardScores(program, downstream, new Map([[at, copies]]), ctx.values, ctx.classIndex, ctx.sign, { fast: ctx.path === 'fast' });
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
