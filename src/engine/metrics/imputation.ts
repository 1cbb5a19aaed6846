/**
 * Noisy linear imputation (ROAD, Rong et al. 2022): each removed pixel becomes the weighted mean of
 * its 8 neighbours — 1/6 for the 4 direct ones, 1/12 for the diagonals — known or removed alike,
 * which makes the removed pixels one sparse linear system per channel; then Gaussian noise is added
 * to them, so that the imputed region carries no trace of the removal's shape for the model to use.
 *
 * Written in the symmetric form Σ_j w_ij (v_i − v_j) = 0 (the same solution as ROAD's row-normalised
 * one), whose matrix — a weighted graph Laplacian restricted to the removed pixels — is symmetric
 * positive definite whenever some pixel is known, so conjugate gradients solve it. A linear ramp is
 * reproduced exactly where every removed pixel has its whole symmetric neighbourhood in the image;
 * at the border the missing neighbours bend it (as in ROAD).
 */
import { Rng } from './random';

const NEIGHBOURS: ReadonlyArray<[number, number, number]> = [
  [-1, 0, 1 / 6], [1, 0, 1 / 6], [0, -1, 1 / 6], [0, 1, 1 / 6],
  [-1, -1, 1 / 12], [-1, 1, 1 / 12], [1, -1, 1 / 12], [1, 1, 1 / 12],
];

export interface ImputationOptions {
  /** Standard deviation of the noise added to the imputed pixels (0: none). */
  noise: number;
  seed: number;
  /** Relative residual at which conjugate gradients stop (default 1e-6). */
  tolerance?: number;
}

/**
 * `image`: [height · width · channels] (HWC); `removed`: [height · width], non-zero = impute.
 * Returns a new image; the known pixels are copied unchanged.
 */
export function noisyLinearImputation(
  image: Float32Array,
  removed: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  options: ImputationOptions,
): Float32Array {
  const out = Float32Array.from(image);
  const unknownOf = new Int32Array(width * height).fill(-1);
  const pixels: number[] = [];
  for (let p = 0; p < width * height; p++) if (removed[p]) unknownOf[p] = pixels.push(p) - 1;
  const n = pixels.length;
  if (n === 0) return out;

  // The matrix in compressed rows: diagonal = Σ of in-image neighbour weights; −w to removed neighbours.
  const diagonal = new Float64Array(n);
  const rowStart = new Int32Array(n + 1);
  const columns: number[] = [];
  const weights: number[] = [];
  const knownNeighbours: Array<Array<[number, number]>> = [];
  for (let u = 0; u < n; u++) {
    const p = pixels[u]!;
    const y = Math.floor(p / width);
    const x = p % width;
    const known: Array<[number, number]> = [];
    for (const [dy, dx, w] of NEIGHBOURS) {
      const yy = y + dy;
      const xx = x + dx;
      if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
      const q = yy * width + xx;
      diagonal[u] += w;
      const v = unknownOf[q]!;
      if (v >= 0) {
        columns.push(v);
        weights.push(w);
      } else {
        known.push([q, w]);
      }
    }
    knownNeighbours.push(known);
    rowStart[u + 1] = columns.length;
  }
  const multiply = (v: Float64Array, into: Float64Array) => {
    for (let u = 0; u < n; u++) {
      let s = diagonal[u]! * v[u]!;
      for (let k = rowStart[u]!; k < rowStart[u + 1]!; k++) s -= weights[k]! * v[columns[k]!]!;
      into[u] = s;
    }
  };
  const tolerance = options.tolerance ?? 1e-6;
  const rng = new Rng(options.seed);
  const b = new Float64Array(n);
  const v = new Float64Array(n);
  const r = new Float64Array(n);
  const z = new Float64Array(n);
  const d = new Float64Array(n);
  const ad = new Float64Array(n);
  for (let c = 0; c < channels; c++) {
    let knownSum = 0;
    let knownCount = 0;
    for (let p = 0; p < width * height; p++) {
      if (unknownOf[p]! < 0) {
        knownSum += image[p * channels + c]!;
        knownCount++;
      }
    }
    // Start from the known pixels' mean: with nothing known, that (0) is the answer.
    v.fill(knownCount > 0 ? knownSum / knownCount : 0);
    let bNorm = 0;
    for (let u = 0; u < n; u++) {
      let s = 0;
      for (const [q, w] of knownNeighbours[u]!) s += w * image[q * channels + c]!;
      b[u] = s;
      bNorm += s * s;
    }
    bNorm = Math.sqrt(bNorm);
    multiply(v, ad);
    let rz = 0;
    for (let u = 0; u < n; u++) {
      r[u] = b[u]! - ad[u]!;
      z[u] = r[u]! / diagonal[u]!;
      d[u] = z[u]!;
      rz += r[u]! * z[u]!;
    }
    const limit = Math.max(100, 4 * n);
    for (let iteration = 0; iteration < limit; iteration++) {
      let rNorm = 0;
      for (let u = 0; u < n; u++) rNorm += r[u]! * r[u]!;
      if (Math.sqrt(rNorm) <= tolerance * Math.max(bNorm, 1e-12)) break;
      multiply(d, ad);
      let dAd = 0;
      for (let u = 0; u < n; u++) dAd += d[u]! * ad[u]!;
      if (!(dAd > 0)) break; // singular direction (no known pixel): nothing more to solve
      const alpha = rz / dAd;
      let rzNext = 0;
      for (let u = 0; u < n; u++) {
        v[u] += alpha * d[u]!;
        r[u] -= alpha * ad[u]!;
        z[u] = r[u]! / diagonal[u]!;
        rzNext += r[u]! * z[u]!;
      }
      const beta = rzNext / rz;
      rz = rzNext;
      for (let u = 0; u < n; u++) d[u] = z[u]! + beta * d[u]!;
    }
    for (let u = 0; u < n; u++) out[pixels[u]! * channels + c] = v[u]! + (options.noise > 0 ? options.noise * rng.normal() : 0);
  }
  return out;
}
