/**
 * LIME for images (Ribeiro et al., KDD 2016, arXiv:1602.04938; lime_image's defaults): the image is
 * cut into M SLIC superpixels; n random coalitions z ∈ {0, 1}^M (each segment kept with probability
 * ½; the first is the whole image, as lime_image does) give perturbed images whose class scores y are
 * fitted by a weighted ridge regression with an intercept,
 *   min_{w, b} Σ_i π_i (y_i − b − z_i · w)² + α |w|²,   π_i = exp(−d_i² / σ²),
 * d_i the cosine distance between z_i and the all-ones coalition, σ the kernel width (0.25) and α = 1
 * (sklearn Ridge's default, which lime uses). Segment j's attribution is w_j, painted onto its pixels,
 * shown as ReLU(w). Seeded per sample. One forward pass per sample, in batches.
 */
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import { coalitionMasks, inputSegments, maskedScores, perturbationBaseline, sampleRandom, segmentMap } from './perturbation';
import type { Segmentation } from './superpixels';
import { weightedLeastSquares } from './linear-solve';

const LIME_SEED = 104_729;

/** Coalition i of M segments (exported for the tests: the same draws). Coalition 0 keeps everything. */
export function limeCoalition(segments: number, index: number): Float32Array {
  if (index === 0) return new Float32Array(segments).fill(1);
  const random = sampleRandom(LIME_SEED, index);
  return Float32Array.from({ length: segments }, () => (random() < 0.5 ? 1 : 0));
}

/** exp(−d² / σ²) of the cosine distance d between z and the all-ones coalition. */
export function limeWeight(z: ArrayLike<number>, kernelWidth: number): number {
  let kept = 0;
  for (let j = 0; j < z.length; j++) kept += z[j] ?? 0;
  // cos(z, 1) = |z| / (√|z| · √M) for a 0/1 vector.
  const cosine = kept > 0 ? Math.sqrt(kept) / Math.sqrt(z.length) : 0;
  const d = 1 - cosine;
  return Math.exp(-(d * d) / (kernelWidth * kernelWidth));
}

/** The coalitions' scores and the fitted w (exported for the tests). */
export async function limeFit(ctx: ExplainContext, segmentation: Segmentation): Promise<{ scores: Float32Array; weights: Float64Array }> {
  const { labels, count } = segmentation;
  const samples = Number(ctx.options.samples ?? 256);
  const kernelWidth = Number(ctx.options.kernelWidth ?? 0.25);
  const baseline = perturbationBaseline(ctx);
  let scores: Float32Array;
  try {
    scores = await maskedScores(ctx, samples, (first, n) => coalitionMasks(labels, (i) => limeCoalition(count, i), first, n), baseline);
  } finally {
    baseline.dispose();
  }
  // The intercept as a column of ones, unpenalised: centre by the weighted means instead.
  const rows = Array.from({ length: samples }, (_, i) => limeCoalition(count, i));
  const pi = rows.map((z) => limeWeight(z, kernelWidth));
  const total = pi.reduce((a, b) => a + b, 0);
  const meanZ = new Float64Array(count);
  let meanY = 0;
  rows.forEach((z, i) => {
    const w = (pi[i] ?? 0) / total;
    for (let j = 0; j < count; j++) meanZ[j] = (meanZ[j] ?? 0) + w * (z[j] ?? 0);
    meanY += w * (scores[i] ?? 0);
  });
  const centred = rows.map((z) => Float64Array.from(meanZ, (m, j) => (z[j] ?? 0) - m));
  const y = Float64Array.from(scores, (s) => s - meanY);
  return { scores, weights: weightedLeastSquares(centred, y, pi, count, 1) };
}

export const lime: MethodImplementation = {
  id: 'lime',
  async run(ctx) {
    const segmentation = await inputSegments(ctx);
    const { weights } = await limeFit(ctx, segmentation);
    return segmentMap(segmentation.labels, weights, segmentation.height, segmentation.width);
  },
};
