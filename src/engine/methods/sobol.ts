/**
 * Sobol attribution (Fel et al., NeurIPS 2021, arXiv:2111.04138; as Xplique's SobolAttributionMethod
 * with the Jansen estimator): the image is masked by a g × g grid of real-valued cells
 * (m ∈ [0, 1]^{g²}, each cell's pixels x̃ = m x + (1 − m) x′), and each cell's total-order Sobol index
 * measures how much of the class score's variance involves that cell:
 *   ST_i = (1/(2N)) Σ_n (f(A_n) − f(C^{(i)}_n))² / Var(f(A) ∪ f(B)),
 * A, B two N × g² designs, C^{(i)} = A with column i taken from B (N (g² + 2) forward passes).
 * Xplique draws the designs from a scrambled Sobol sequence; here they are seeded pseudo-random
 * uniforms (the same estimator, a little more variance per sample). The cell map is upsampled
 * bilinearly to the input. Variance-based, so the counterfactual (the negated score) gives the same map.
 */
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import { gridMap, maskedScores, paintGrid, perturbationBaseline, sampleRandom } from './perturbation';

const SOBOL_SEED = 49_979_687;

/** Row n of the designs A and B ([g²] each), seeded by n (exported for the tests). */
export function sobolDesignRow(dims: number, n: number): { a: Float32Array; b: Float32Array } {
  const random = sampleRandom(SOBOL_SEED, n);
  return { a: Float32Array.from({ length: dims }, random), b: Float32Array.from({ length: dims }, random) };
}

/** The cell values of forward pass `row`: rows 0 … N − 1 are A, N … 2N − 1 are B, then C^{(i)} for i = 0 … g² − 1. */
export function sobolCells(dims: number, designs: number, row: number): Float32Array {
  if (row < designs) return sobolDesignRow(dims, row).a;
  if (row < 2 * designs) return sobolDesignRow(dims, row - designs).b;
  const i = Math.floor((row - 2 * designs) / designs);
  const { a, b } = sobolDesignRow(dims, (row - 2 * designs) % designs);
  a[i] = b[i] ?? 0;
  return a;
}

/** The Jansen total-order indices from the scores of all rows (exported for the tests). */
export function jansenTotalIndices(scores: ArrayLike<number>, dims: number, designs: number): Float64Array {
  const fa = Array.from({ length: designs }, (_, n) => scores[n] ?? 0);
  const both = Array.from({ length: 2 * designs }, (_, n) => scores[n] ?? 0);
  const mean = both.reduce((p, q) => p + q, 0) / both.length;
  const variance = both.reduce((p, q) => p + (q - mean) ** 2, 0) / Math.max(1, both.length - 1);
  return Float64Array.from({ length: dims }, (_, i) => {
    let sum = 0;
    for (let n = 0; n < designs; n++) sum += ((fa[n] ?? 0) - (scores[2 * designs + i * designs + n] ?? 0)) ** 2;
    return variance > 0 ? sum / (2 * designs) / variance : 0;
  });
}

/** The total indices per cell (exported for the tests). */
export async function sobolIndices(ctx: ExplainContext): Promise<Float64Array> {
  const [, height, width] = ctx.input.shape;
  const grid = Number(ctx.options.grid ?? 8);
  const designs = Number(ctx.options.designs ?? 32);
  const dims = grid * grid;
  const masks = (first: number, count: number) => {
    const out = new Float32Array(count * height * width);
    for (let r = 0; r < count; r++) paintGrid(sobolCells(dims, designs, first + r), grid, height, width, out, r * height * width);
    return out;
  };
  const baseline = perturbationBaseline(ctx);
  try {
    const scores = await maskedScores(ctx, designs * (dims + 2), masks, baseline);
    return jansenTotalIndices(scores, dims, designs);
  } finally {
    baseline.dispose();
  }
}

export const sobol: MethodImplementation = {
  id: 'sobol',
  async run(ctx) {
    const [, height, width] = ctx.input.shape;
    return gridMap(await sobolIndices(ctx), Number(ctx.options.grid ?? 8), height, width);
  },
};
