/**
 * Plain-loop references for the perturbation methods, for the tests only: each perturbed image is
 * built in JavaScript from the input's values and scored alone through tfjs-layers' `model.apply`
 * (never the engine's batched forward pass), and the estimators are written out directly from their
 * formulas (explicit matrices, a KKT system for the constrained fits, enumeration for exact Shapley
 * values). Mask draws come from the engine's seeded generators (the same draws, as SmoothGrad's test
 * reuses its noise): the formulas are what is checked.
 */
import * as tf from '@tensorflow/tfjs';
import { logits } from './method-reference';

/** The score of m ⊙ x + (1 − m) ⊙ x′ for one mask ([H · W], all channels alike), through model.apply. */
export function maskedScoreRef(model: tf.LayersModel, x: tf.Tensor4D, baseline: Float32Array, mask: ArrayLike<number>, cls: number, sign = 1): number {
  const [, height, width, channels] = x.shape;
  const xd = x.dataSync();
  const image = new Float32Array(xd.length);
  for (let p = 0; p < height * width; p++) {
    const m = mask[p] ?? 0;
    for (let c = 0; c < channels; c++) image[p * channels + c] = m * (xd[p * channels + c] ?? 0) + (1 - m) * (baseline[p * channels + c] ?? 0);
  }
  const t = tf.tensor4d(image, [1, height, width, channels]);
  const s = logits(model, t, cls, sign)[0] ?? 0;
  t.dispose();
  return s;
}

/** Gauss–Jordan elimination with full row pivoting on a dense system (double precision). */
export function gaussJordan(matrix: number[][], rhs: number[]): number[] {
  const n = rhs.length;
  const a = matrix.map((row, i) => [...row, rhs[i] ?? 0]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r]?.[col] ?? 0) > Math.abs(a[pivot]?.[col] ?? 0)) pivot = r;
    [a[col], a[pivot]] = [a[pivot] ?? [], a[col] ?? []];
    const p = a[col]?.[col] ?? 0;
    if (Math.abs(p) < 1e-300) continue;
    const pivotRow = a[col] ?? [];
    a.forEach((row, r) => {
      if (r === col) return;
      const f = (row[col] ?? 0) / p;
      for (let c = col; c <= n; c++) row[c] = (row[c] ?? 0) - f * (pivotRow[c] ?? 0);
    });
  }
  return Array.from({ length: n }, (_, i) => (a[i]?.[n] ?? 0) / (a[i]?.[i] || 1));
}

/** Ridge regression with an explicit, unpenalised intercept column: [b, w] from the augmented normal equations. */
export function ridgeWithInterceptRef(z: ReadonlyArray<ArrayLike<number>>, y: ArrayLike<number>, weights: ArrayLike<number>, ridge: number): number[] {
  const m = (z[0]?.length ?? 0) + 1;
  const rows = z.map((row) => [1, ...Array.from(row)]);
  const a = Array.from({ length: m }, (_, j) => Array.from({ length: m }, (_, k) => rows.reduce((s, row, i) => s + (weights[i] ?? 0) * (row[j] ?? 0) * (row[k] ?? 0), 0) + (j === k && j > 0 ? ridge : 0)));
  const b = Array.from({ length: m }, (_, j) => rows.reduce((s, row, i) => s + (weights[i] ?? 0) * (row[j] ?? 0) * (y[i] ?? 0), 0));
  return gaussJordan(a, b);
}

/**
 * min Σ π (v − v∅ − z·φ)² subject to Σ φ = v1 − v∅, through its KKT system
 * [2 ZᵀΠZ 1; 1ᵀ 0] [φ; λ] = [2 ZᵀΠ(v − v∅); v1 − v∅].
 */
export function constrainedFitRef(z: ReadonlyArray<ArrayLike<number>>, v: ArrayLike<number>, weights: ArrayLike<number>, empty: number, full: number): number[] {
  const m = z[0]?.length ?? 0;
  const a = Array.from({ length: m + 1 }, (_, j) => Array.from({ length: m + 1 }, (_, k) => {
    if (j === m && k === m) return 0;
    if (j === m || k === m) return 1;
    return 2 * z.reduce((s, row, i) => s + (weights[i] ?? 0) * (row[j] ?? 0) * (row[k] ?? 0), 0);
  }));
  const b = [...Array.from({ length: m }, (_, j) => 2 * z.reduce((s, row, i) => s + (weights[i] ?? 0) * (row[j] ?? 0) * ((v[i] ?? 0) - empty), 0)), full - empty];
  return gaussJordan(a, b).slice(0, m);
}

/** Exact Shapley values by enumerating all 2^M coalitions of the segments. */
export function exactShapleyRef(model: tf.LayersModel, x: tf.Tensor4D, baseline: Float32Array, labels: Int32Array, players: number, cls: number, sign = 1): number[] {
  const value = new Map<number, number>();
  for (let bits = 0; bits < 2 ** players; bits++) {
    const mask = Float32Array.from(labels, (l) => (bits >> l) & 1);
    value.set(bits, maskedScoreRef(model, x, baseline, mask, cls, sign));
  }
  const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
  return Array.from({ length: players }, (_, j) => {
    let phi = 0;
    for (let bits = 0; bits < 2 ** players; bits++) {
      if ((bits >> j) & 1) continue;
      let size = 0;
      for (let k = 0; k < players; k++) size += (bits >> k) & 1;
      const weight = (factorial(size) * factorial(players - size - 1)) / factorial(players);
      phi += weight * ((value.get(bits | (1 << j)) ?? 0) - (value.get(bits) ?? 0));
    }
    return phi;
  });
}

/** HSIC with the explicit matrices: tr(K H L H)/(N − 1)², K = [z_a = z_b], L the Gaussian kernel at the median distance. */
export function hsicRef(z: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = y.length;
  const distances: number[] = [];
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) distances.push(Math.abs((y[a] ?? 0) - (y[b] ?? 0)));
  distances.sort((p, q) => p - q);
  const mid = (distances.length - 1) / 2;
  const sigma = ((distances[Math.floor(mid)] ?? 0) + (distances[Math.ceil(mid)] ?? 0)) / 2 || 1;
  const h = (a: number, b: number) => (a === b ? 1 : 0) - 1 / n;
  const k = Array.from({ length: n }, (_, a) => Array.from({ length: n }, (_, b) => ((z[a] ?? 0) === (z[b] ?? 0) ? 1 : 0)));
  const l = Array.from({ length: n }, (_, a) => Array.from({ length: n }, (_, b) => Math.exp(-(((y[a] ?? 0) - (y[b] ?? 0)) ** 2) / (2 * sigma * sigma))));
  const mul = (p: number[][], q: (i: number, j: number) => number) => p.map((row) => Array.from({ length: n }, (_, j) => row.reduce((s, v, t) => s + v * q(t, j), 0)));
  const kh = mul(k, h);
  const khl = mul(kh, (i, j) => l[i]?.[j] ?? 0);
  const khlh = mul(khl, h);
  let trace = 0;
  for (let i = 0; i < n; i++) trace += khlh[i]?.[i] ?? 0;
  return trace / ((n - 1) * (n - 1));
}
