/**
 * KPCA-CAM (Karmani et al., 2024, arXiv:2410.00267; as pytorch-grad-cam's KPCA_CAM): Eigen-CAM with
 * kernel PCA. The activations as an (h·w) × C matrix, centred per channel (X), give the kernel matrix
 * K_ij = k(X_i, X_j) over the positions — sigmoid tanh(γ X_i·X_j + 1) (scikit-learn's KernelPCA
 * default, which pytorch-grad-cam uses), RBF exp(−γ |X_i − X_j|²), or polynomial (γ X_i·X_j + 1)³ —
 * with γ = 1/C. K is centred in feature space (K̃ = K − 1K − K1 + 1K1, 1 = the matrix of 1/n) and the
 * map is the first kernel principal component, √λ₁ u₁ (u₁ the top eigenvector of K̃), signed to
 * agree with the channel sum, ReLU. A sigmoid kernel need not be positive semi-definite: the top
 * eigenvector is that of the largest eigenvalue (found on K̃ + cI, c a bound on |λ|). No gradient.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { layerActivation } from './cam';
import { topEigenpair } from './projection';

export type KpcaKernel = 'sigmoid' | 'rbf' | 'poly';

/** The centred kernel matrix of the positions' centred activations (exported for the tests). */
export function centredKernel(x: Float64Array, n: number, c: number, kernel: KpcaKernel): Float64Array {
  const gamma = 1 / c;
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) {
    let dot = 0;
    let distance = 0;
    for (let q = 0; q < c; q++) {
      const a = x[i * c + q] ?? 0;
      const b = x[j * c + q] ?? 0;
      dot += a * b;
      distance += (a - b) ** 2;
    }
    const v = kernel === 'rbf' ? Math.exp(-gamma * distance) : kernel === 'poly' ? (gamma * dot + 1) ** 3 : Math.tanh(gamma * dot + 1);
    k[i * n + j] = v;
    k[j * n + i] = v;
  }
  const rowMean = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += k[i * n + j] ?? 0;
    rowMean[i] = s / n;
  }
  const grand = rowMean.reduce((a, b) => a + b, 0) / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) k[i * n + j] = (k[i * n + j] ?? 0) - (rowMean[i] ?? 0) - (rowMean[j] ?? 0) + grand;
  return k;
}

export const kpcaCam: MethodImplementation = {
  id: 'kpca-cam',
  async run(ctx) {
    const a = layerActivation(ctx);
    const [, h, w, c] = a.shape;
    const n = h * w;
    const data = await a.data();
    const x = new Float64Array(n * c);
    const channelSum = new Float64Array(n);
    for (let q = 0; q < c; q++) {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += data[i * c + q] ?? 0;
      mean /= n;
      for (let i = 0; i < n; i++) x[i * c + q] = (data[i * c + q] ?? 0) - mean;
    }
    for (let i = 0; i < n; i++) for (let q = 0; q < c; q++) channelSum[i] = (channelSum[i] ?? 0) + (data[i * c + q] ?? 0);
    const k = centredKernel(x, n, c, (ctx.options.kernel as KpcaKernel | undefined) ?? 'sigmoid');
    // Shift by a bound on |λ| (the largest absolute row sum) so the top eigenvalue is also the largest in magnitude.
    let shift = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += Math.abs(k[i * n + j] ?? 0);
      shift = Math.max(shift, s);
    }
    const shifted = Float64Array.from(k, (v, idx) => (idx % (n + 1) === 0 ? v + shift : v));
    const { value, vector } = topEigenpair(shifted, n);
    const scale = Math.sqrt(Math.max(0, value - shift));
    let agreement = 0;
    for (let i = 0; i < n; i++) agreement += (vector[i] ?? 0) * (channelSum[i] ?? 0);
    const sign = agreement < 0 ? -1 : 1;
    return tf.tensor2d(Float32Array.from(vector, (u) => Math.max(0, sign * scale * u)), [h, w]);
  },
};
