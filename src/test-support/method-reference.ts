/**
 * Straightforward reference implementations of every method's formula, for the tests only (no engine
 * method code): plain loops over arrays read back from tfjs, gradients from the tfjs tape — through
 * `model.apply` at the input, through the executor's plain path (tfjs-layers' own calls under
 * tf.grad) at inner layers, where no sub-model can be cut out. Nothing here is used by the app.
 */
import * as tf from '@tensorflow/tfjs';
import type { Program } from '../engine/executor/program';
import type { MethodId } from '../shared/methods';
import { runForward } from '../engine/executor/forward';
import { scoreFunction } from '../engine/executor/gradient';
import { withGuidedGradients } from '../engine/executor/guided';

export interface Layer3 {
  h: number;
  w: number;
  c: number;
  /** Row-major [h, w, c]. */
  data: Float32Array;
}

export function read3(t: tf.Tensor): Layer3 {
  const shape = t.shape.slice(-3) as [number, number, number];
  return { h: shape[0], w: shape[1], c: shape[2], data: Float32Array.from(t.dataSync()) };
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (n !== b.length) throw new Error(`pearson: lengths ${a.length} and ${b.length}`);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

const relu = (v: number) => (v > 0 ? v : 0);

/** Σ_k f(k, i) over channels, per position i, then ReLU: a [h·w] map. */
function channelSum(layer: Layer3, term: (index: number, k: number) => number): Float64Array {
  const out = new Float64Array(layer.h * layer.w);
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (let k = 0; k < layer.c; k++) sum += term(i * layer.c + k, k);
    out[i] = relu(sum);
  }
  return out;
}

function perChannel(layer: Layer3, f: (index: number) => number): Float64Array {
  const out = new Float64Array(layer.c);
  for (let i = 0; i < layer.h * layer.w; i++) for (let k = 0; k < layer.c; k++) out[k] += f(i * layer.c + k);
  return out;
}

export function gradCamRef(a: Layer3, g: Layer3): Float64Array {
  const w = perChannel(g, (i) => g.data[i]! / (g.h * g.w));
  return channelSum(a, (i, k) => w[k]! * a.data[i]!);
}

export function gradCamPlusPlusWeightsRef(a: Layer3, g: Layer3): Float64Array {
  const sumA = perChannel(a, (i) => a.data[i]!);
  return perChannel(g, (i) => {
    const k = i % g.c;
    const gi = g.data[i]!;
    if (gi === 0) return 0;
    const alpha = (gi * gi) / (2 * gi * gi + sumA[k]! * gi * gi * gi + 1e-6);
    return alpha * relu(gi);
  });
}

export function gradCamPlusPlusRef(a: Layer3, g: Layer3): Float64Array {
  const w = gradCamPlusPlusWeightsRef(a, g);
  return channelSum(a, (i, k) => w[k]! * a.data[i]!);
}

export function xGradCamRef(a: Layer3, g: Layer3): Float64Array {
  const sumA = perChannel(a, (i) => a.data[i]!);
  const ga = perChannel(a, (i) => a.data[i]! * g.data[i]!);
  return channelSum(a, (i, k) => (ga[k]! / (sumA[k]! + 1e-7)) * a.data[i]!);
}

export const hiResCamRef = (a: Layer3, g: Layer3) => channelSum(a, (i) => g.data[i]! * a.data[i]!);
export const elementwiseRef = (a: Layer3, g: Layer3) => channelSum(a, (i) => relu(g.data[i]! * a.data[i]!));
export const layerCamRef = (a: Layer3, g: Layer3) => channelSum(a, (i) => relu(g.data[i]!) * a.data[i]!);

/** All eigenpairs of a symmetric matrix (cyclic Jacobi rotations); eigenvectors as columns of `vectors`. */
export function jacobiEigen(matrix: number[][]): { values: number[]; vectors: number[][] } {
  const n = matrix.length;
  const a = matrix.map((row) => [...row]);
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p]![q]!) < 1e-300) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * a[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: a.map((row, i) => row[i]!), vectors: v };
}

/**
 * The first principal component map of an (h·w) × C matrix m: centred columns X, then X·v with v the
 * top eigenvector of XᵀX — or, when h·w < C, σ·u with u the top eigenvector of XXᵀ and σ² its
 * eigenvalue (the same vector; Jacobi on the smaller matrix) — signed to agree with m's row sums, then ReLU.
 */
export function eigenRef(m: Layer3): Float64Array {
  const n = m.h * m.w;
  const mean = new Float64Array(m.c);
  for (let i = 0; i < n; i++) for (let k = 0; k < m.c; k++) mean[k] += m.data[i * m.c + k]! / n;
  const x = Array.from({ length: n }, (_, i) => Array.from({ length: m.c }, (_, k) => m.data[i * m.c + k]! - mean[k]!));
  const dot = (a: number[], b: number[]) => a.reduce((s, v, k) => s + v * b[k]!, 0);
  let projection: number[];
  if (n < m.c) {
    const gram = x.map((row) => x.map((other) => dot(row, other)));
    const { values, vectors } = jacobiEigen(gram);
    const top = values.indexOf(Math.max(...values));
    projection = vectors.map((row) => row[top]! * Math.sqrt(Math.max(0, values[top]!)));
  } else {
    const columns = Array.from({ length: m.c }, (_, k) => x.map((row) => row[k]!));
    const cov = columns.map((p) => columns.map((q) => dot(p, q)));
    const { values, vectors } = jacobiEigen(cov);
    const top = values.indexOf(Math.max(...values));
    const v = vectors.map((row) => row[top]!);
    projection = x.map((row) => dot(row, v));
  }
  let agreement = 0;
  for (let i = 0; i < n; i++) {
    let rowSum = 0;
    for (let k = 0; k < m.c; k++) rowSum += m.data[i * m.c + k]!;
    agreement += rowSum * projection[i]!;
  }
  return Float64Array.from(projection, (p) => relu(agreement < 0 ? -p : p));
}

export function product(a: Layer3, b: Layer3): Layer3 {
  return { ...a, data: a.data.map((v, i) => v * b.data[i]!) };
}

/** sign · logit of `cls` for each row of x, through model.apply (a model with a linear head). */
export function logits(model: tf.LayersModel, x: tf.Tensor, cls: number, sign = 1): Float32Array {
  return tf.tidy(() => {
    const out = model.apply(x, { training: false }) as tf.Tensor;
    return Float32Array.from(out.reshape([out.shape[0]!, -1]).slice([0, cls], [out.shape[0]!, 1]).mul(sign).dataSync());
  });
}

/** dScore/dx through model.apply under tf.grad (a linear head), [1, H, W, c]. */
export function inputGradientRef(model: tf.LayersModel, x: tf.Tensor, cls: number, sign = 1): tf.Tensor {
  return tf.grad((v: tf.Tensor) => {
    const out = model.apply(v, { training: false }) as tf.Tensor;
    return out.reshape([out.shape[0]!, -1]).slice([0, cls], [out.shape[0]!, 1]).sum().mul(sign);
  })(x);
}

/** dScore/dA at `slot` through the executor's plain path (tfjs-layers' calls under tf.grad). */
export function layerGradientRef(program: Program, values: tf.Tensor[], slot: number, cls: number, sign = 1): tf.Tensor {
  return tf.grad(scoreFunction(program, values, slot, cls, { path: 'plain', sign }))(values[slot]!);
}

/** Guided backprop at the input, taped (tf.grad) through the executor's leaf calls with the guided rule. */
export function guidedGradientRef(program: Program, values: tf.Tensor[], cls: number, sign = 1): tf.Tensor {
  return withGuidedGradients(() => tf.grad(scoreFunction(program, values, program.inputSlot, cls, { path: 'fast', sign }))(values[program.inputSlot]!));
}

/** The activation cache of x, plain leaf calls (the reference forward pass). */
export function plainValues(program: Program, x: tf.Tensor): tf.Tensor[] {
  return tf.tidy(() => runForward(program, x));
}

/** Bilinear resize, half-pixel centres, of a [h, w] map (tfjs's resizeBilinear: the one op the app also uses). */
export function resize(map: ArrayLike<number>, h: number, w: number, size: [number, number]): Float32Array {
  return tf.tidy(() => Float32Array.from(tf.image.resizeBilinear(tf.tensor3d(Float32Array.from(map), [h, w, 1]), size, false, true).dataSync()));
}

export function normalised(map: ArrayLike<number>): Float64Array {
  const max = Math.max(...Array.from(map));
  return Float64Array.from(map, (v) => (max > 0 ? v / max : 0));
}

/** The CAM methods computed from the layer's activations A and gradient g alone, each with its reference. */
export const CAM_REFERENCES: ReadonlyArray<[MethodId, (a: Layer3, g: Layer3) => Float64Array]> = [
  ['gradcam', gradCamRef],
  ['gradcam-plus-plus', gradCamPlusPlusRef],
  ['xgradcam', xGradCamRef],
  ['hirescam', hiResCamRef],
  ['gradcam-elementwise', elementwiseRef],
  ['layercam', layerCamRef],
  ['eigengradcam', (a, g) => eigenRef(product(g, a))],
  ['eigencam', (a) => eigenRef(a)],
];
