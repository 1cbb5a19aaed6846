/**
 * Deep Feature Factorization (Collins et al., ECCV 2018, arXiv:1806.10206; as pytorch-grad-cam's
 * DeepFeatureFactorization): the layer's activations as a C × (h·w) matrix V, each channel shifted
 * by its minimum (V ≥ 0, as the NMF needs), are factorised V ≈ W H by non-negative matrix
 * factorisation into k concepts: W's columns (C values) are the concepts' feature vectors, H's rows
 * (h·w values) their maps. Each concept vector (plus the shift back) goes through the layers after
 * the target, as a 1 × 1 activation (for the usual last conv → global pooling → dense head this is
 * the classifier applied to the concept, as pytorch-grad-cam does), giving its class scores; its top
 * classes name it. As a method panel the map is that of the concept whose scores favour the explained
 * class most (the concept with the highest softmax probability for it); with show = combined the
 * panel draws all k concepts in distinct colours instead (the map stays the class's concept, for the
 * metrics), and the result carries each concept's map and top classes (HeatmapMethodMap.concepts).
 *
 * NMF: Lee & Seung's multiplicative updates for the Frobenius norm (NeurIPS 2000),
 *   H ← H ⊙ (WᵀV) / (WᵀWH + ε),   W ← W ⊙ (VHᵀ) / (WHHᵀ + ε),
 * from a seeded uniform start scaled to V's mean (scikit-learn's init='random' scale), 200 rounds.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import { layerActivation } from './cam';
import { seededRandom } from './perturbation';
import { downstreamSteps, forwardLogits } from '../executor/forward';
import { isTokenGridSlot } from '../onnx/onnx-tokens';
import type { Concepts } from '../../shared/types';

const NMF_SEED = 20_180_906;
const EPSILON = 1e-10;

/** V ≈ W H, V (rows × cols) ≥ 0 row-major; W rows × k, H k × cols (exported for the tests). */
export function nmf(v: Float64Array, rows: number, cols: number, k: number, iterations = 200, seed = NMF_SEED): { w: Float64Array; h: Float64Array } {
  const random = seededRandom(seed);
  let mean = 0;
  for (let i = 0; i < v.length; i++) mean += v[i] ?? 0;
  mean /= Math.max(1, v.length);
  const scale = Math.sqrt(mean / k);
  const w = Float64Array.from({ length: rows * k }, () => scale * random());
  const h = Float64Array.from({ length: k * cols }, () => scale * random());
  const wtv = new Float64Array(k * cols);
  const wtw = new Float64Array(k * k);
  const vht = new Float64Array(rows * k);
  const hht = new Float64Array(k * k);
  for (let round = 0; round < iterations; round++) {
    // H ← H ⊙ (WᵀV) / (WᵀW H)
    wtv.fill(0);
    wtw.fill(0);
    for (let r = 0; r < rows; r++) {
      for (let a = 0; a < k; a++) {
        const wra = w[r * k + a] ?? 0;
        if (wra === 0) continue;
        for (let c = 0; c < cols; c++) wtv[a * cols + c] = (wtv[a * cols + c] ?? 0) + wra * (v[r * cols + c] ?? 0);
        for (let b = 0; b < k; b++) wtw[a * k + b] = (wtw[a * k + b] ?? 0) + wra * (w[r * k + b] ?? 0);
      }
    }
    for (let a = 0; a < k; a++) for (let c = 0; c < cols; c++) {
      let denominator = 0;
      for (let b = 0; b < k; b++) denominator += (wtw[a * k + b] ?? 0) * (h[b * cols + c] ?? 0);
      h[a * cols + c] = (h[a * cols + c] ?? 0) * (wtv[a * cols + c] ?? 0) / (denominator + EPSILON);
    }
    // W ← W ⊙ (V Hᵀ) / (W H Hᵀ)
    vht.fill(0);
    hht.fill(0);
    for (let a = 0; a < k; a++) {
      for (let c = 0; c < cols; c++) {
        const hac = h[a * cols + c] ?? 0;
        if (hac === 0) continue;
        for (let r = 0; r < rows; r++) vht[r * k + a] = (vht[r * k + a] ?? 0) + (v[r * cols + c] ?? 0) * hac;
        for (let b = 0; b < k; b++) hht[a * k + b] = (hht[a * k + b] ?? 0) + hac * (h[b * cols + c] ?? 0);
      }
    }
    for (let r = 0; r < rows; r++) for (let a = 0; a < k; a++) {
      let denominator = 0;
      for (let b = 0; b < k; b++) denominator += (w[r * k + b] ?? 0) * (hht[b * k + a] ?? 0);
      w[r * k + a] = (w[r * k + a] ?? 0) * (vht[r * k + a] ?? 0) / (denominator + EPSILON);
    }
  }
  return { w, h };
}

export interface DffConcept {
  /** The concept's map at the layer's resolution, [h · w] row-major, ≥ 0. */
  map: Float32Array;
  /** Softmax over the classes of the head's scores for the concept vector. */
  probabilities: Float32Array;
  /** Class indices by decreasing probability (all of them). */
  ranked: number[];
}

/** The k concepts at the context's layer (option concepts), each with its map and class probabilities. */
export async function dffConcepts(ctx: ExplainContext): Promise<{ concepts: DffConcept[]; height: number; width: number }> {
  const a = layerActivation(ctx);
  const [, height, width, channels] = a.shape;
  const k = Math.max(1, Math.min(Number(ctx.options.concepts ?? 4), channels, height * width));
  const positions = height * width;
  const data = await a.data();
  // V: C × (h·w), each channel shifted by its minimum.
  const offset = new Float64Array(channels).fill(Infinity);
  for (let p = 0; p < positions; p++) for (let c = 0; c < channels; c++) offset[c] = Math.min(offset[c] ?? Infinity, data[p * channels + c] ?? 0);
  const v = new Float64Array(channels * positions);
  for (let c = 0; c < channels; c++) for (let p = 0; p < positions; p++) v[c * positions + p] = (data[p * channels + c] ?? 0) - (offset[c] ?? 0);
  const { w, h } = nmf(v, channels, positions, k, Number(ctx.options.iterations ?? 200));
  // The concept vectors (W's columns plus the shift) through the layers after the target, as 1 × 1 activations.
  const vectors = new Float32Array(k * channels);
  for (let j = 0; j < k; j++) for (let c = 0; c < channels; c++) vectors[j * channels + c] = (w[c * k + j] ?? 0) + (offset[c] ?? 0);
  const logitsT = tf.tidy(() => {
    // A transformer's token grid: the concept in every patch token (a 1 × 1 grid is not its token count).
    const concept = tf.tensor4d(vectors, [k, 1, 1, channels]);
    const given = new Map([[ctx.slot, isTokenGridSlot(ctx.program, ctx.slot) ? tf.tile(concept, [1, height, width, 1]) : concept]]);
    const logits = forwardLogits(ctx.program, downstreamSteps(ctx.program, ctx.slot), given, ctx.values, { fast: ctx.path === 'fast' });
    return tf.softmax(logits.reshape([k, -1]));
  });
  const probabilities = await logitsT.data();
  const classes = probabilities.length / k;
  logitsT.dispose();
  const concepts = Array.from({ length: k }, (_, j): DffConcept => {
    const p = Float32Array.from(probabilities.subarray(j * classes, (j + 1) * classes));
    return {
      map: Float32Array.from({ length: positions }, (_, q) => h[j * positions + q] ?? 0),
      probabilities: p,
      ranked: Array.from({ length: classes }, (_, i) => i).sort((x, y) => (p[y] ?? 0) - (p[x] ?? 0)),
    };
  });
  return { concepts, height, width };
}

/** The concept that favours class `cls` most (the highest probability for it). */
export function conceptFor(concepts: readonly DffConcept[], cls: number): number {
  let best = 0;
  concepts.forEach((c, j) => {
    if ((c.probabilities[cls] ?? 0) > (concepts[best]?.probabilities[cls] ?? 0)) best = j;
  });
  return best;
}

/** Distinct colours for up to 16 concepts (matplotlib's tab10, then six more). */
export const CONCEPT_COLOURS: ReadonlyArray<[number, number, number]> = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127],
  [188, 189, 34], [23, 190, 207], [0, 0, 128], [128, 128, 0], [0, 128, 128], [128, 0, 128], [255, 215, 0], [0, 0, 0],
];

/** Every concept for the panel (show = combined): maps scaled to [0, 1], top three classes, colours. */
export function conceptsForPanel(concepts: readonly DffConcept[], height: number, width: number): Concepts {
  const maps = new Float32Array(concepts.length * height * width);
  concepts.forEach((c, j) => {
    let max = 0;
    for (const v of c.map) max = Math.max(max, v);
    c.map.forEach((v, q) => (maps[j * height * width + q] = max > 0 ? v / max : 0));
  });
  return {
    width, height, count: concepts.length, maps,
    topClasses: concepts.map((c) => c.ranked.slice(0, 3).map((index) => ({ index, probability: c.probabilities[index] ?? 0 }))),
    colours: concepts.map((_, j) => CONCEPT_COLOURS[j % CONCEPT_COLOURS.length] ?? [0, 0, 0]),
  };
}

export const deepFeatureFactorization: MethodImplementation = {
  id: 'dff',
  async run(ctx) {
    const { concepts, height, width } = await dffConcepts(ctx);
    if (ctx.options.show === 'combined') ctx.attachConcepts?.(conceptsForPanel(concepts, height, width));
    const chosen = concepts[conceptFor(concepts, ctx.classIndex)];
    return tf.tensor2d(chosen?.map ?? new Float32Array(height * width), [height, width]);
  },
};
