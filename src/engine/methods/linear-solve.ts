/**
 * Small dense linear algebra for the regression-based methods (LIME, KernelSHAP): weighted least
 * squares by the normal equations, in double precision. Sizes are the number of superpixels (tens
 * to a few hundred), so O(M³) elimination is a few milliseconds.
 */

/** Solve A x = b for a square A (n × n, row-major) by Gaussian elimination with partial pivoting. A singular pivot gives 0 for that unknown. */
export function solveLinear(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const rhs = Float64Array.from(b);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col] ?? 0) > Math.abs(m[pivot * n + col] ?? 0)) pivot = r;
    if (pivot !== col) {
      for (let c = 0; c < n; c++) {
        const t = m[col * n + c] ?? 0;
        m[col * n + c] = m[pivot * n + c] ?? 0;
        m[pivot * n + c] = t;
      }
      const t = rhs[col] ?? 0;
      rhs[col] = rhs[pivot] ?? 0;
      rhs[pivot] = t;
    }
    const p = m[col * n + col] ?? 0;
    if (Math.abs(p) < 1e-300) continue;
    for (let r = col + 1; r < n; r++) {
      const f = (m[r * n + col] ?? 0) / p;
      if (f === 0) continue;
      for (let c = col; c < n; c++) m[r * n + c] = (m[r * n + c] ?? 0) - f * (m[col * n + c] ?? 0);
      rhs[r] = (rhs[r] ?? 0) - f * (rhs[col] ?? 0);
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    const p = m[r * n + r] ?? 0;
    if (Math.abs(p) < 1e-300) continue;
    let s = rhs[r] ?? 0;
    for (let c = r + 1; c < n; c++) s -= (m[r * n + c] ?? 0) * (x[c] ?? 0);
    x[r] = s / p;
  }
  return x;
}

/**
 * argmin_w Σ_i π_i (y_i − Σ_j X_ij w_j)² + ridge · |w|², X as rows of length n (weights π ≥ 0).
 * The normal equations (Xᵀ Π X + ridge · I) w = Xᵀ Π y.
 */
export function weightedLeastSquares(rows: ReadonlyArray<ArrayLike<number>>, y: ArrayLike<number>, weights: ArrayLike<number>, n: number, ridge = 0): Float64Array {
  const a = new Float64Array(n * n);
  const b = new Float64Array(n);
  rows.forEach((row, i) => {
    const w = weights[i] ?? 0;
    if (w === 0) return;
    const yi = y[i] ?? 0;
    for (let j = 0; j < n; j++) {
      const xj = (row[j] ?? 0) * w;
      if (xj === 0) continue;
      b[j] = (b[j] ?? 0) + xj * yi;
      for (let k = 0; k < n; k++) a[j * n + k] = (a[j * n + k] ?? 0) + xj * (row[k] ?? 0);
    }
  });
  for (let j = 0; j < n; j++) a[j * n + j] = (a[j * n + j] ?? 0) + ridge;
  return solveLinear(a, b, n);
}
