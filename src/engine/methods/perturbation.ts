/**
 * What the perturbation methods share (Occlusion, RISE, feature ablation, LIME, KernelSHAP, Shapley
 * value sampling, Sobol, HSIC): they only run the model forward, on copies of the image where a mask
 * keeps some pixels and replaces the others by a baseline,
 *   x̃ = m ⊙ x + (1 − m) ⊙ x′,   m ∈ [0, 1]^{H×W} (one value per pixel, all channels alike),
 * and read the class score S (the logit, negated for the counterfactual) of each copy. The copies run
 * in batches sized by the memory budget (rowsPerBatch, option batchSize); between batches the signal
 * is checked, progress reported and the worker's messages let in, as for Score-CAM. Every random draw
 * comes from a seeded generator per sample index, so a map does not depend on the batch size and the
 * same image gives the same map.
 */
import * as tf from '@tensorflow/tfjs';
import { forwardScores, logitFromSlots } from '../executor/forward';
import { materializeSlot } from '../executor/compiled-forward';
import { studioError } from '../../shared/errors';
import { throwIfAborted, yieldToEvents, type ExplainContext } from './context';
import { rowsPerBatch } from './batches';
import { integratedGradientsBaseline } from './integrated-gradients';
import { slic, type Segmentation } from './superpixels';
import { seededRandom } from '../../shared/random';

/**
 * Masks first … first + count − 1 as one flat array, [count · H · W] row-major (mask, y, x), values in
 * [0, 1]; 1 keeps the pixel.
 */
export type MaskBatch = (first: number, count: number) => Float32Array;

/** The seeded generator of every reproducible draw (src/shared/random.ts). */
export { seededRandom };

/** The generator of sample `index` of a method (its own stream: batches do not change the draws). */
export function sampleRandom(methodSeed: number, index: number): () => number {
  return seededRandom(Math.imul(methodSeed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b));
}

/** The class score of the image itself, from the activation cache (no forward pass). */
export async function imageScore(ctx: ExplainContext): Promise<number> {
  const t = tf.tidy(() => logitFromSlots(ctx.program, (s) => {
    const v = materializeSlot(ctx.values, s);
    if (!v) throw studioError('INTERNAL', { reason: `slot ${s} has no value` });
    return v;
  }).reshape([-1]).slice([ctx.classIndex], [1]).mul(ctx.sign));
  const score = (await t.data())[0] ?? 0;
  t.dispose();
  return score;
}

/** The baseline x′ for the option `baseline` (as Integrated Gradients': black, zero, blurred, mean), [1, H, W, c]. */
export function perturbationBaseline(ctx: ExplainContext): tf.Tensor4D {
  return integratedGradientsBaseline(ctx);
}

/**
 * The class score of each of `total` masked copies of the image, [total]: masks from `masks`, the
 * pixels a mask drops taken from `baseline` (the caller's). `progressFrom`/`progressSpan`: the share
 * of the method's progress these passes stand for (a method with two rounds of passes splits it).
 * `onBatch`: called after each batch with its masks and scores (RISE sums them there instead of
 * building the masks a second time).
 */
export async function maskedScores(
  ctx: ExplainContext,
  total: number,
  masks: MaskBatch,
  baseline: tf.Tensor4D,
  progress: { from: number; span: number } = { from: 0, span: 1 },
  onBatch?: (first: number, count: number, masks: Float32Array, scores: Float32Array) => void,
): Promise<Float32Array> {
  const [, height, width] = ctx.input.shape;
  const { program } = ctx;
  const rows = rowsPerBatch(ctx, Number(ctx.options.batchSize ?? 32), false);
  const scores = new Float32Array(total);
  const difference = tf.sub(ctx.input, baseline) as tf.Tensor4D;
  try {
    for (let first = 0; first < total; first += rows) {
      throwIfAborted(ctx);
      const count = Math.min(rows, total - first);
      const flat = masks(first, count);
      const images = tf.tidy(() => {
        const m = tf.tensor4d(flat, [count, height, width, 1]);
        return tf.add(baseline, tf.mul(m, difference)) as tf.Tensor4D; // m·x + (1 − m)·x′
      });
      let batchScores: tf.Tensor1D;
      try {
        batchScores = forwardScores(program, program.steps, new Map([[program.inputSlot, images]]), [], ctx.classIndex, ctx.sign, { fast: ctx.path === 'fast' });
      } finally {
        images.dispose();
      }
      const values = (await batchScores.data()) as Float32Array;
      batchScores.dispose();
      scores.set(values, first);
      onBatch?.(first, count, flat, values);
      ctx.onProgress?.(progress.from + (progress.span * (first + count)) / total);
      await yieldToEvents();
    }
    throwIfAborted(ctx);
    return scores;
  } finally {
    difference.dispose();
  }
}

/**
 * Masks over superpixels: row r of `coalitions` (count × M, 1 = the segment is kept) painted through
 * the segmentation `labels` ([H · W], 0 … M − 1). Flat [count · H · W].
 */
export function coalitionMasks(labels: Int32Array, coalitions: (row: number) => ArrayLike<number>, first: number, count: number): Float32Array {
  const pixels = labels.length;
  const out = new Float32Array(count * pixels);
  for (let r = 0; r < count; r++) {
    const keep = coalitions(first + r);
    const offset = r * pixels;
    for (let p = 0; p < pixels; p++) out[offset + p] = keep[labels[p] ?? 0] ?? 0;
  }
  return out;
}

/** A per-segment value painted onto the pixels, ReLU'd (the evidence for the class), as an [H, W] map. */
export function segmentMap(labels: Int32Array, values: ArrayLike<number>, height: number, width: number): tf.Tensor2D {
  const out = new Float32Array(labels.length);
  for (let p = 0; p < labels.length; p++) out[p] = Math.max(0, values[labels[p] ?? 0] ?? 0);
  return tf.tensor2d(out, [height, width]);
}

/** A [g, g] grid of values upsampled to [H, W] (bilinear, half-pixel centres), ReLU'd. */
export function gridMap(values: ArrayLike<number>, grid: number, height: number, width: number): tf.Tensor2D {
  return tf.tidy(() => {
    const g = tf.tensor4d(Float32Array.from(values), [1, grid, grid, 1]);
    return tf.relu(tf.image.resizeBilinear(g, [height, width], false, true).reshape([height, width])) as tf.Tensor2D;
  });
}

/**
 * A coarse g × g cell mask upsampled to H × W by nearest cell (cell of pixel (y, x) =
 * ⌊y·g/H⌋, ⌊x·g/W⌋): the masks of Sobol and HSIC. `cells` holds g² values; writes into `out` at `offset`.
 */
export function paintGrid(cells: ArrayLike<number>, grid: number, height: number, width: number, out: Float32Array, offset: number): void {
  for (let y = 0; y < height; y++) {
    const cy = Math.min(grid - 1, Math.floor((y * grid) / height));
    for (let x = 0; x < width; x++) {
      const cx = Math.min(grid - 1, Math.floor((x * grid) / width));
      out[offset + y * width + x] = cells[cy * grid + cx] ?? 0;
    }
  }
}

/** The SLIC segmentation of the model's input with the options `segments` and `compactness` (also left for the panel: attachSegments). */
export async function inputSegments(ctx: ExplainContext): Promise<Segmentation> {
  const [, height, width, channels] = ctx.input.shape;
  const pixels = await ctx.input.data();
  const segmentation = slic(pixels, height, width, channels, Number(ctx.options.segments ?? 50), Number(ctx.options.compactness ?? 10));
  ctx.attachSegments?.({ width, height, count: segmentation.count, labels: segmentation.labels });
  return segmentation;
}
