/**
 * HSIC attribution (Novello et al., NeurIPS 2022, arXiv:2206.06219; as Xplique's
 * HsicAttributionMethod with its binary estimator): N binary masks over a g × g grid of cells, drawn
 * by a Latin hypercube (per cell, a seeded permutation of the N samples; half of them keep the cell),
 * the dropped cells set to the baseline. Each cell's score is the Hilbert–Schmidt independence
 * criterion between the cell's on/off value and the class score,
 *   HSIC_i = tr(K_i H L H) / (N − 1)²,   K_i(a, b) = [z_ai = z_bi],
 *   L(a, b) = exp(−(y_a − y_b)² / (2σ²)),  σ = the median |y_a − y_b| over pairs,  H = I − 11ᵀ/N.
 * (As H L H has zero row sums, tr(K_i H L H) = 2 z_iᵀ (H L H) z_i.) The cell map is upsampled
 * bilinearly to the input. A dependence measure, so the counterfactual gives the same map. One
 * forward pass per mask, in batches.
 */
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import { gridMap, maskedScores, paintGrid, perturbationBaseline, sampleRandom } from './perturbation';

const HSIC_SEED = 67_867_967;

/** The N × g² binary design (1 keeps the cell), row-major (exported for the tests). */
export function hsicDesign(samples: number, dims: number): Uint8Array {
  const design = new Uint8Array(samples * dims);
  for (let i = 0; i < dims; i++) {
    const random = sampleRandom(HSIC_SEED, i);
    const order = Array.from({ length: samples }, (_, n) => n);
    for (let k = samples - 1; k > 0; k--) {
      const j = Math.floor(random() * (k + 1));
      const t = order[k] ?? 0;
      order[k] = order[j] ?? 0;
      order[j] = t;
    }
    // Stratum order[n] of N: its point lies in [order[n]/N, (order[n] + 1)/N); kept when above ½.
    order.forEach((stratum, n) => (design[n * dims + i] = (stratum + 0.5) / samples >= 0.5 ? 1 : 0));
  }
  return design;
}

/** HSIC_i for every cell from the design and the scores (exported for the tests). */
export function hsicIndices(design: Uint8Array, scores: ArrayLike<number>, samples: number, dims: number): Float64Array {
  const distances: number[] = [];
  for (let a = 0; a < samples; a++) for (let b = a + 1; b < samples; b++) distances.push(Math.abs((scores[a] ?? 0) - (scores[b] ?? 0)));
  distances.sort((p, q) => p - q);
  const median = distances.length ? ((distances[Math.floor((distances.length - 1) / 2)] ?? 0) + (distances[Math.ceil((distances.length - 1) / 2)] ?? 0)) / 2 : 0;
  const sigma = median > 0 ? median : 1;
  // L̃ = H L H: L minus its row and column means plus its grand mean.
  const l = new Float64Array(samples * samples);
  for (let a = 0; a < samples; a++) for (let b = 0; b < samples; b++) l[a * samples + b] = Math.exp(-(((scores[a] ?? 0) - (scores[b] ?? 0)) ** 2) / (2 * sigma * sigma));
  const rowMean = new Float64Array(samples);
  for (let a = 0; a < samples; a++) {
    let s = 0;
    for (let b = 0; b < samples; b++) s += l[a * samples + b] ?? 0;
    rowMean[a] = s / samples;
  }
  const grand = rowMean.reduce((p, q) => p + q, 0) / samples;
  for (let a = 0; a < samples; a++) for (let b = 0; b < samples; b++) l[a * samples + b] = (l[a * samples + b] ?? 0) - (rowMean[a] ?? 0) - (rowMean[b] ?? 0) + grand;
  const scale = 1 / ((samples - 1) * (samples - 1));
  return Float64Array.from({ length: dims }, (_, i) => {
    let quadratic = 0;
    for (let a = 0; a < samples; a++) {
      if (!design[a * dims + i]) continue;
      for (let b = 0; b < samples; b++) if (design[b * dims + i]) quadratic += l[a * samples + b] ?? 0;
    }
    return 2 * quadratic * scale;
  });
}

/** HSIC per cell (exported for the tests). */
export async function hsicValues(ctx: ExplainContext): Promise<Float64Array> {
  const [, height, width] = ctx.input.shape;
  const grid = Number(ctx.options.grid ?? 8);
  const samples = Number(ctx.options.samples ?? 1500);
  const dims = grid * grid;
  const design = hsicDesign(samples, dims);
  const masks = (first: number, count: number) => {
    const out = new Float32Array(count * height * width);
    for (let r = 0; r < count; r++) paintGrid(design.subarray((first + r) * dims, (first + r + 1) * dims), grid, height, width, out, r * height * width);
    return out;
  };
  const baseline = perturbationBaseline(ctx);
  try {
    const scores = await maskedScores(ctx, samples, masks, baseline);
    return hsicIndices(design, scores, samples, dims);
  } finally {
    baseline.dispose();
  }
}

export const hsic: MethodImplementation = {
  id: 'hsic',
  async run(ctx) {
    const [, height, width] = ctx.input.shape;
    return gridMap(await hsicValues(ctx), Number(ctx.options.grid ?? 8), height, width);
  },
};
