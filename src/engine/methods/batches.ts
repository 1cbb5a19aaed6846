/**
 * Batched passes for the costly methods: how many rows fit in a batch, and each row's input gradient
 * from one forward pass over the batch (kept, for the backward pass) and one backward pass.
 */
import { slotElements } from '../executor/compiled-forward';
import * as tf from '@tensorflow/tfjs';
import { runForward } from '../executor/forward';
import { gradientAt } from '../executor/gradient';
import { withGuidedGradients } from '../executor/guided';
import { throwIfAborted, yieldToEvents, type ExplainContext } from './context';

/** Memory a batch of full activation caches may take (the image's own cache is the per-row size). */
const BATCH_BUDGET_BYTES = 256 * 1024 * 1024;


/**
 * Rows per batch: `requested`, lowered so that the batch fits the budget. `keepsAll`: every row keeps
 * a whole activation cache (forward + backward passes); otherwise a forward pass that frees as it
 * goes holds about three of the largest activations per row — of `slots` when given (the slots the
 * pass computes), else of all.
 */
export function rowsPerBatch(ctx: Pick<ExplainContext, 'values'>, requested: number, keepsAll: boolean, slots?: readonly number[]): number {
  // A compiled cache leaves its chains' inner slots empty; the batch's own (uncompiled) pass fills them.
  const all = slots ?? Array.from({ length: ctx.values.length }, (_, s) => s);
  const sizes = all.map((s) => 4 * slotElements(ctx.values, s));
  const perRow = keepsAll ? sizes.reduce((a, b) => a + b, 0) : 3 * Math.max(0, ...sizes);
  const fit = perRow > 0 ? Math.floor(BATCH_BUDGET_BYTES / perRow) : requested;
  return Math.max(1, Math.min(requested, fit));
}

/**
 * dScore/dInput for every row of `inputs` ([B, H, W, c], the caller's): a forward pass over the
 * batch, then the backward pass (guided backprop's rule when `guided`). [B, H, W, c].
 */
export function inputGradients(ctx: ExplainContext, inputs: tf.Tensor4D, guided: boolean): tf.Tensor4D {
  const { program } = ctx;
  const values = tf.tidy(() => runForward(program, inputs, { fast: ctx.path === 'fast' }));
  try {
    const gradient = () => gradientAt(program, values, program.inputSlot, ctx.classIndex, { path: ctx.path, sign: ctx.sign }) as tf.Tensor4D;
    return guided ? withGuidedGradients(gradient) : gradient();
  } finally {
    tf.dispose(values.filter((v) => v && v !== inputs));
  }
}

/**
 * The mean input gradient over `n` inputs made batch by batch (`make(first, count)` gives rows
 * first … first + count − 1, [count, H, W, c], owned here): SmoothGrad's noisy copies, Integrated
 * Gradients' path points. One forward and one backward pass per batch; between batches the signal
 * is checked, progress reported and the worker's messages let in. [1, H, W, c].
 */
export async function meanInputGradient(ctx: ExplainContext, n: number, make: (first: number, count: number) => tf.Tensor4D, guided: boolean): Promise<tf.Tensor4D> {
  const rows = rowsPerBatch(ctx, Number(ctx.options.batchSize ?? 8), true);
  let sum: tf.Tensor4D = tf.zerosLike(ctx.input);
  try {
    for (let first = 0; first < n; first += rows) {
      throwIfAborted(ctx);
      const count = Math.min(rows, n - first);
      const batch = make(first, count);
      const gradients = inputGradients(ctx, batch, guided);
      batch.dispose();
      const next = tf.tidy(() => tf.add(sum, tf.sum(gradients, 0, true)) as tf.Tensor4D);
      gradients.dispose();
      sum.dispose();
      sum = next;
      await next.data(); // one batch at a time (also on GPU backends), so that cancelling is prompt
      ctx.onProgress?.((first + count) / n);
      await yieldToEvents();
    }
    throwIfAborted(ctx);
    return tf.tidy(() => tf.div(sum, n) as tf.Tensor4D);
  } finally {
    sum.dispose();
  }
}
