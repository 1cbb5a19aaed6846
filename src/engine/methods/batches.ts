/**
 * Batched passes for the costly methods: how many rows fit in a batch, and each row's input gradient
 * from one forward pass over the batch (kept, for the backward pass) and one backward pass.
 */
import * as tf from '@tensorflow/tfjs';
import { runForward } from '../forward';
import { gradientAt } from '../gradient';
import { withGuidedGradients } from '../guided';
import type { ExplainContext } from './context';

/** Memory a batch of full activation caches may take (the image's own cache is the per-row size). */
const BATCH_BUDGET_BYTES = 256 * 1024 * 1024;

function tensorBytes(t: tf.Tensor | undefined): number {
  return t ? t.size * 4 : 0;
}

/**
 * Rows per batch: `requested`, lowered so that the batch fits the budget. `keepsAll`: every row keeps
 * a whole activation cache (forward + backward passes); otherwise a forward pass that frees as it
 * goes holds about three of the largest activations per row — of `slots` when given (the slots the
 * pass computes), else of all.
 */
export function rowsPerBatch(ctx: Pick<ExplainContext, 'values'>, requested: number, keepsAll: boolean, slots?: readonly number[]): number {
  const sizes = (slots ? slots.map((s) => ctx.values[s]) : ctx.values).map(tensorBytes);
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
