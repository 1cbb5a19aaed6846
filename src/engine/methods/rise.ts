/**
 * RISE (Petsiuk et al., BMVC 2018, arXiv:1806.07421; as Xplique's Rise): N random masks, each a g × g
 * grid of cells kept with probability p, upsampled bilinearly to a (g + 1)-cell canvas and cropped at
 * a random shift of up to one cell (smooth masks that do not align with the grid). The map is the
 * score's expectation given that a pixel is kept, less its overall mean:
 *   a(p) = Σ_i s_i M_i(p) / Σ_i M_i(p) − (1/N) Σ_i s_i,   s_i = S(M_i ⊙ x + (1 − M_i) ⊙ x′),
 * shown as ReLU(a). (The paper's Σ_i s_i M_i(p) / (N p) uses probabilities, always ≥ 0; on logits,
 * which may be negative, the centred conditional mean orders the pixels the same way in expectation
 * and keeps the sign meaningful, so the counterfactual shows the evidence against.) Seeded per mask.
 * One forward pass per mask, in batches.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import { maskedScores, perturbationBaseline, sampleRandom } from './perturbation';

const RISE_SEED = 7_919;

/** RISE masks first … first + count − 1, flat [count · H · W] (exported for the tests: the same draws). */
export function riseMasks(height: number, width: number, grid: number, keep: number, first: number, count: number): Float32Array {
  const out = new Float32Array(count * height * width);
  const cellH = height / grid;
  const cellW = width / grid;
  const side = grid + 1;
  // Per mask, the bilinear taps of each row and column (they depend on the mask's shift only).
  const axis = (size: number, cell: number, shift: number, lo: Int32Array, hi: Int32Array, f: Float64Array) => {
    for (let i = 0; i < size; i++) {
      // Canvas coordinate in cells, half-pixel centres: cell centre j sits at (j + ½) cells.
      const g = Math.min(grid, Math.max(0, (i + 0.5 + shift) / cell - 0.5));
      const i0 = Math.floor(g);
      lo[i] = i0;
      hi[i] = Math.min(grid, i0 + 1);
      f[i] = g - i0;
    }
  };
  const [y0s, y1s, fys] = [new Int32Array(height), new Int32Array(height), new Float64Array(height)];
  const [x0s, x1s, fxs] = [new Int32Array(width), new Int32Array(width), new Float64Array(width)];
  const cells = new Float64Array(side * side);
  for (let r = 0; r < count; r++) {
    const random = sampleRandom(RISE_SEED, first + r);
    for (let c = 0; c < cells.length; c++) cells[c] = random() < keep ? 1 : 0;
    const shiftY = random() * cellH;
    const shiftX = random() * cellW;
    axis(height, cellH, shiftY, y0s, y1s, fys);
    axis(width, cellW, shiftX, x0s, x1s, fxs);
    for (let y = 0; y < height; y++) {
      const row0 = y0s[y]! * side;
      const row1 = y1s[y]! * side;
      const fy = fys[y]!;
      const o = r * height * width + y * width;
      for (let x = 0; x < width; x++) {
        const x0 = x0s[x]!;
        const x1 = x1s[x]!;
        const fx = fxs[x]!;
        out[o + x] = (1 - fy) * ((1 - fx) * cells[row0 + x0]! + fx * cells[row0 + x1]!) + fy * ((1 - fx) * cells[row1 + x0]! + fx * cells[row1 + x1]!);
      }
    }
  }
  return out;
}

/** The masks' settings from the options. */
export function riseSettings(ctx: ExplainContext): { samples: number; grid: number; keep: number } {
  return { samples: Number(ctx.options.samples ?? 1000), grid: Number(ctx.options.grid ?? 7), keep: Number(ctx.options.keep ?? 0.5) };
}

export const rise: MethodImplementation = {
  id: 'rise',
  async run(ctx) {
    const [, height, width] = ctx.input.shape;
    const { samples, grid, keep } = riseSettings(ctx);
    const baseline = perturbationBaseline(ctx);
    // The sums Σ s_i M_i and Σ M_i, batch by batch as the scores arrive (the batch's masks are still at hand).
    const weighted = new Float64Array(height * width);
    const coverage = new Float64Array(height * width);
    const pixels = height * width;
    let scores: Float32Array;
    try {
      scores = await maskedScores(ctx, samples, (first, count) => riseMasks(height, width, grid, keep, first, count), baseline, undefined, (_first, count, masks, batchScores) => {
        for (let r = 0; r < count; r++) {
          const s = batchScores[r] ?? 0;
          const offset = r * pixels;
          for (let p = 0; p < pixels; p++) {
            const m = masks[offset + p]!;
            weighted[p]! += s * m;
            coverage[p]! += m;
          }
        }
      });
    } finally {
      baseline.dispose();
    }
    const mean = scores.reduce((a, b) => a + b, 0) / Math.max(1, samples);
    return tf.tensor2d(Float32Array.from(weighted, (w, p) => Math.max(0, (coverage[p] ?? 0) > 0 ? w / (coverage[p] ?? 1) - mean : 0)), [height, width]);
  },
};
