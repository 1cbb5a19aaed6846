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
  for (let r = 0; r < count; r++) {
    const random = sampleRandom(RISE_SEED, first + r);
    const cells = Float32Array.from({ length: (grid + 1) * (grid + 1) }, () => (random() < keep ? 1 : 0));
    const shiftY = random() * cellH;
    const shiftX = random() * cellW;
    for (let y = 0; y < height; y++) {
      // Canvas coordinate in cells, half-pixel centres: cell centre j sits at (j + ½) cells.
      const gy = Math.min(grid, Math.max(0, (y + 0.5 + shiftY) / cellH - 0.5));
      const y0 = Math.floor(gy);
      const y1 = Math.min(grid, y0 + 1);
      const fy = gy - y0;
      for (let x = 0; x < width; x++) {
        const gx = Math.min(grid, Math.max(0, (x + 0.5 + shiftX) / cellW - 0.5));
        const x0 = Math.floor(gx);
        const x1 = Math.min(grid, x0 + 1);
        const fx = gx - x0;
        const c = (yy: number, xx: number) => cells[yy * (grid + 1) + xx] ?? 0;
        out[r * height * width + y * width + x] = (1 - fy) * ((1 - fx) * c(y0, x0) + fx * c(y0, x1)) + fy * ((1 - fx) * c(y1, x0) + fx * c(y1, x1));
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
    let scores: Float32Array;
    try {
      scores = await maskedScores(ctx, samples, (first, count) => riseMasks(height, width, grid, keep, first, count), baseline);
    } finally {
      baseline.dispose();
    }
    // The sums, mask by mask again (regenerated rather than kept: N · H · W floats can be hundreds of MB).
    const weighted = new Float64Array(height * width);
    const coverage = new Float64Array(height * width);
    const chunk = 64;
    for (let first = 0; first < samples; first += chunk) {
      const count = Math.min(chunk, samples - first);
      const masks = riseMasks(height, width, grid, keep, first, count);
      for (let r = 0; r < count; r++) {
        const s = scores[first + r] ?? 0;
        for (let p = 0; p < height * width; p++) {
          const m = masks[r * height * width + p] ?? 0;
          weighted[p] = (weighted[p] ?? 0) + s * m;
          coverage[p] = (coverage[p] ?? 0) + m;
        }
      }
    }
    const mean = scores.reduce((a, b) => a + b, 0) / Math.max(1, samples);
    return tf.tensor2d(Float32Array.from(weighted, (w, p) => Math.max(0, (coverage[p] ?? 0) > 0 ? w / (coverage[p] ?? 1) - mean : 0)), [height, width]);
  },
};
