/**
 * The first principal component of a layer's (weighted) activations, as a map: Eigen-CAM,
 * EigenGrad-CAM and eigen-smoothing (pytorch-grad-cam's get_2d_projection).
 *
 * The [1, h, w, C] tensor is read as an (h·w) × C matrix M, centred per channel (column means
 * subtracted: X = M − mean), and the map is X·v₁, where v₁ is X's first right singular vector, i.e. the
 * top eigenvector of XᵀX. When h·w < C the smaller Gram matrix XXᵀ is used instead: X·v₁ = σ₁·u₁ with
 * u₁ its top eigenvector and σ₁² its eigenvalue. The singular vectors' sign is arbitrary; it is chosen
 * here so that the map agrees (non-negative dot product) with M's plain channel sum — the map it
 * replaces (Eigen-CAM: Σ_k A_k; eigen-smoothed Grad-CAM: Σ_k w_k A_k).
 *
 * The small symmetric matrix is read back and its top eigenvector found on the CPU: a few matrix
 * squarings (each squares the ratio λ₂/λ₁ that power iteration converges by), then power iteration.
 */
import * as tf from '@tensorflow/tfjs';

/** The largest eigenvalue of a symmetric positive semi-definite k×k matrix (row-major) and its unit eigenvector. */
export function topEigenpair(matrix: ArrayLike<number>, k: number): { value: number; vector: Float64Array } {
  const a = Float64Array.from(matrix);
  const matVec = (m: Float64Array, v: Float64Array) => {
    const out = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      let sum = 0;
      const row = i * k;
      for (let j = 0; j < k; j++) sum += m[row + j]! * v[j]!;
      out[i] = sum;
    }
    return out;
  };
  /** Scales `v` to unit length in place; false when it is zero. */
  const normalise = (v: Float64Array) => {
    const norm = Math.hypot(...v);
    if (!(norm > 0)) return false;
    for (let i = 0; i < k; i++) v[i]! /= norm;
    return true;
  };
  // Squarings: B = A^(2^s), scaled to max |entry| 1 each time (only its top eigenvector is used).
  let b = a;
  const squarings = k <= 128 ? 6 : k <= 256 ? 4 : k <= 512 ? 2 : 0; // k³ each
  for (let s = 0; s < squarings; s++) {
    const next = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let l = 0; l < k; l++) {
        const bil = b[i * k + l]!;
        if (bil === 0) continue;
        const row = l * k;
        const out = i * k;
        for (let j = 0; j < k; j++) next[out + j]! += bil * b[row + j]!;
      }
    }
    let max = 0;
    for (let i = 0; i < next.length; i++) max = Math.max(max, Math.abs(next[i]!));
    if (!(max > 0)) break;
    for (let i = 0; i < next.length; i++) next[i]! /= max;
    b = next;
  }
  // Start from the row sums (plus a ramp so the start is never orthogonal to a sign-balanced vector).
  let v = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += b[i * k + j]!;
    v[i] = sum + (1 + i / k) * 1e-3;
  }
  if (!normalise(v)) return { value: 0, vector: new Float64Array(k) };
  for (let iteration = 0; iteration < 2000; iteration++) {
    const w = matVec(b, v);
    if (!normalise(w)) return { value: 0, vector: new Float64Array(k) };
    let change = 0;
    for (let i = 0; i < k; i++) change = Math.max(change, Math.abs(w[i]! - v[i]!));
    v = w;
    if (change < 1e-12) break;
  }
  // Rayleigh quotient on the original matrix.
  const av = matVec(a, v);
  let value = 0;
  for (let i = 0; i < k; i++) value += v[i]! * av[i]!;
  return { value, vector: v };
}

/**
 * The projection of `m` ([1, h, w, C]) on its first principal component, [h, w], signed to agree with
 * Σ_k m_k. No ReLU here.
 */
export async function firstComponentMap(m: tf.Tensor4D): Promise<tf.Tensor2D> {
  const [, h, w, c] = m.shape;
  const n = h * w;
  const useGram = n <= c;
  const [x, small] = tf.tidy(() => {
    const flat = m.reshape([n, c]);
    const centred = tf.sub(flat, tf.mean(flat, 0, true)) as tf.Tensor2D;
    return [centred, useGram ? tf.matMul(centred, centred, false, true) : tf.matMul(centred, centred, true, false)];
  });
  try {
    const k = useGram ? n : c;
    const { value, vector } = topEigenpair(await small.data(), k);
    const projection = tf.tidy(() => {
      const p = useGram
        ? tf.tensor1d(Float32Array.from(vector, (u) => u * Math.sqrt(Math.max(value, 0))))
        : tf.matMul(x!, tf.tensor2d(Float32Array.from(vector), [c, 1])).reshape([n]);
      return p;
    });
    const agreement = tf.tidy(() => tf.sum(tf.mul(projection, m.sum(3).reshape([n]))));
    const sign = (await agreement.data())[0]! < 0 ? -1 : 1;
    agreement.dispose();
    const map = tf.tidy(() => (sign === 1 ? projection.reshape([h, w]) : projection.neg().reshape([h, w])) as tf.Tensor2D);
    projection.dispose();
    return map;
  } finally {
    tf.dispose([x!, small!]);
  }
}
