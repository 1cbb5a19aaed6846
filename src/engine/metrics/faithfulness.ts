/**
 * Faithfulness of attribution maps, measured by what the model does when the pixels a map ranks
 * first are taken away or given back:
 * - deletion / insertion (Petsiuk et al. 2018, RISE): the class probability as the most relevant
 *   pixels are replaced by a baseline (blurred image or mean colour) — or, from the baseline, put back —
 *   in `steps` equal slices, with the areas under the curves (deletion: lower is better; insertion: higher);
 * - ROAD (Rong et al. 2022): the probability with the most (MoRF) or least (LeRF) relevant 10–90 % of
 *   the pixels replaced by noisy linear imputation (imputation.ts), and the combined (LeRF − MoRF) / 2;
 * - confidence change: p(image ⊙ map) − p(image) (pytorch-grad-cam's CamMultImageConfidenceChange).
 * Every perturbed image is one forward pass; they run in batches, the signal is checked and progress
 * reported between batches. Images are made in JavaScript (the imputation needs it), one batch at a
 * time, so memory stays one batch of images plus what the forward pass keeps.
 */
import * as tf from '@tensorflow/tfjs';
import { studioError } from '../../shared/errors';
import { DEFAULT_FAITHFULNESS, ROAD_PERCENTS, type FaithfulnessOptions, type MapFaithfulness } from '../../shared/metrics';
import { yieldToEvents } from '../methods/context';
import { gaussianBlur } from '../methods/integrated-gradients';
import { curveFractions, orderMasks, relevanceOrder, trapezoidArea } from './curves';
import { noisyLinearImputation } from './imputation';

/** The class probability of each image of a batch [n, H, W, c] → [n]. */
export type BatchProbability = (batch: tf.Tensor4D) => Promise<Float32Array>;

/** ROAD's imputation noise, as a fraction of the image's value range (ROAD: σ = 0.01 on [0, 1]-scaled images). */
export const ROAD_NOISE = 0.01;
/**
 * Relative residual at which the imputation's solver stops: 10⁻⁴ leaves an error far below the 1 %
 * noise added on top, at about half the iterations of 10⁻⁶.
 */
export const ROAD_TOLERANCE = 1e-4;

export interface FaithfulnessRun {
  /** The image in the model's input space, [1, H, W, c] (the caller's). */
  input: tf.Tensor4D;
  probability: BatchProbability;
  /** The maps to score, [H · W] each, at the input's resolution. */
  maps: ReadonlyArray<{ id: string; map: ArrayLike<number> }>;
  options?: FaithfulnessOptions;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

export interface FaithfulnessScores {
  /** p(image). */
  probability: number;
  scores: Map<string, MapFaithfulness>;
  forwardPasses: number;
}

/** One image to score: its pixels (HWC), made when its batch is. */
type Job = () => Float32Array;

/** Blend per pixel: where mask = 1 take `from`, else `to` (HWC images, mask per pixel). */
function blend(to: Float32Array, from: Float32Array, mask: Float32Array, maskOffset: number, channels: number): Float32Array {
  const out = new Float32Array(to.length);
  for (let p = 0, i = 0; i < out.length; p++) {
    const m = mask[maskOffset + p]!;
    for (let c = 0; c < channels; c++, i++) out[i] = m ? from[i]! : to[i]!;
  }
  return out;
}

function baselineOf(input: tf.Tensor4D, kind: FaithfulnessOptions['baseline']): tf.Tensor4D {
  if (kind === 'mean') return tf.tidy(() => tf.mul(tf.onesLike(input), tf.mean(input, [0, 1, 2], true)) as tf.Tensor4D);
  // The same blur as Integrated Gradients' blurred baseline (σ = a tenth of the shorter side).
  return gaussianBlur(input, Math.min(input.shape[1], input.shape[2]) / 10);
}

export async function scoreFaithfulness(run: FaithfulnessRun): Promise<FaithfulnessScores> {
  const options = { ...DEFAULT_FAITHFULNESS, ...run.options };
  const steps = Math.max(1, Math.round(options.steps));
  const batchSize = Math.max(1, Math.round(options.batchSize));
  const [, height, width, channels] = run.input.shape;
  const pixels = height * width;
  const baselineTensor = baselineOf(run.input, options.baseline);
  let image: Float32Array;
  let baseline: Float32Array;
  try {
    [image, baseline] = await Promise.all([run.input.data() as Promise<Float32Array>, baselineTensor.data() as Promise<Float32Array>]);
  } finally {
    baselineTensor.dispose();
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of image) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const noise = ROAD_NOISE * (hi > lo ? hi - lo : 1);
  const fractions = curveFractions(steps);
  const roadFractions = ROAD_PERCENTS.map((p) => p / 100);

  // Every image to score, in order; each map's results are read back from its slice of the scores.
  const jobs: Job[] = [() => image];
  const layout = run.maps.map(({ id, map }) => {
    if (map.length !== pixels) throw studioError('INTERNAL', { reason: `the ${id} map has ${map.length} values, not ${height}×${width}` });
    const order = relevanceOrder(map);
    const removed = orderMasks(order, fractions);
    const start = jobs.length;
    fractions.forEach((_, k) => jobs.push(() => blend(image, baseline, removed, k * pixels, channels)));
    fractions.forEach((_, k) => jobs.push(() => blend(baseline, image, removed, k * pixels, channels)));
    if (options.measures === 'curves') return { id, start };
    const morf = orderMasks(order, roadFractions);
    const lerf = orderMasks(order, roadFractions, true);
    roadFractions.forEach((_, k) =>
      jobs.push(() => noisyLinearImputation(image, morf.subarray(k * pixels, (k + 1) * pixels), width, height, channels, { noise, seed: options.seed + 7919 * k, tolerance: ROAD_TOLERANCE })),
    );
    roadFractions.forEach((_, k) =>
      jobs.push(() => noisyLinearImputation(image, lerf.subarray(k * pixels, (k + 1) * pixels), width, height, channels, { noise, seed: options.seed + 7919 * k + 1, tolerance: ROAD_TOLERANCE })),
    );
    jobs.push(() => {
      const out = new Float32Array(image.length);
      for (let p = 0, i = 0; p < pixels; p++) for (let c = 0; c < channels; c++, i++) out[i] = image[i]! * map[p]!;
      return out;
    });
    return { id, start };
  });

  const probabilities = new Float32Array(jobs.length);
  for (let first = 0; first < jobs.length; first += batchSize) {
    if (first > 0) await yieldToEvents(); // a newer request, a cancel and the watchdog's ping get in
    if (run.signal?.aborted) throw studioError('CANCELLED');
    const count = Math.min(batchSize, jobs.length - first);
    const data = new Float32Array(count * image.length);
    for (let k = 0; k < count; k++) data.set(jobs[first + k]!(), k * image.length);
    const batch = tf.tensor4d(data, [count, height, width, channels]);
    try {
      probabilities.set(await run.probability(batch), first);
    } finally {
      batch.dispose();
    }
    run.onProgress?.((first + count) / jobs.length);
  }

  const scores = new Map<string, MapFaithfulness>();
  const n = fractions.length;
  const r = roadFractions.length;
  for (const { id, start } of layout) {
    const at = (offset: number, length: number) => Array.from(probabilities.subarray(start + offset, start + offset + length));
    const deletion = at(0, n);
    const insertion = at(n, n);
    const curves = { deletion: { x: fractions, y: deletion, auc: trapezoidArea(fractions, deletion) }, insertion: { x: fractions, y: insertion, auc: trapezoidArea(fractions, insertion) } };
    if (options.measures === 'curves') {
      scores.set(id, { ...curves, road: { percents: [], morf: [], lerf: [], combined: NaN }, confidenceChange: NaN });
      continue;
    }
    const morf = at(2 * n, r);
    const lerf = at(2 * n + r, r);
    const combined = morf.reduce((sum, m, k) => sum + (lerf[k]! - m) / 2, 0) / r;
    scores.set(id, {
      ...curves,
      road: { percents: [...ROAD_PERCENTS], morf, lerf, combined },
      confidenceChange: probabilities[start + 2 * n + 2 * r]! - probabilities[0]!,
    });
  }
  return { probability: probabilities[0]!, scores, forwardPasses: jobs.length };
}
