/**
 * Deep Feature Factorization: the NMF recovers an exactly factorisable non-negative matrix and never
 * increases its error; the concepts' class probabilities are the classifier (dense head, read from
 * the model's own weights) applied to the concept vectors; the method's map is the NMF map of the
 * concept that favours the class. CPU backend.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildTestModel, testImage } from '../../test-support/test-models';
import { loadedModelFromLayersModel } from '../model';
import { preprocessImage } from '../preprocess';
import { plainValues, pearson } from '../../test-support/method-reference';
import { createContext } from './context';
import { conceptFor, dffConcepts, nmf } from './dff';
import { seededRandom } from './perturbation';
import type { HeatmapMethodMap } from '../../shared/types';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

function error(v: Float64Array, w: Float64Array, h: Float64Array, rows: number, cols: number, k: number): number {
  let sum = 0;
  let norm = 0;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
    let x = 0;
    for (let a = 0; a < k; a++) x += (w[r * k + a] ?? 0) * (h[a * cols + c] ?? 0);
    sum += ((v[r * cols + c] ?? 0) - x) ** 2;
    norm += (v[r * cols + c] ?? 0) ** 2;
  }
  return Math.sqrt(sum / norm);
}

describe('NMF (multiplicative updates)', () => {
  it('factorises an exactly rank-3 non-negative matrix; the error never grows with more rounds; all factors ≥ 0', () => {
    const random = seededRandom(5);
    const [rows, cols, k] = [12, 30, 3];
    const w0 = Float64Array.from({ length: rows * k }, random);
    const h0 = Float64Array.from({ length: k * cols }, () => (random() < 0.5 ? 0 : random()));
    const v = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) for (let a = 0; a < k; a++) v[r * cols + c] = (v[r * cols + c] ?? 0) + (w0[r * k + a] ?? 0) * (h0[a * cols + c] ?? 0);
    let previous = Infinity;
    for (const rounds of [5, 20, 100, 2000]) {
      const { w, h } = nmf(v, rows, cols, k, rounds);
      const e = error(v, w, h, rows, cols, k);
      expect(e).toBeLessThanOrEqual(previous + 1e-12);
      previous = e;
      expect(Math.min(...w, ...h)).toBeGreaterThanOrEqual(0);
    }
    expect(previous).toBeLessThan(0.01);
  });
});

describe('Deep Feature Factorization', () => {
  it("concepts' class probabilities = softmax(dense(concept vector)); the map is the favouring concept's NMF map", async () => {
    const t = buildTestModel('c', { head: 'linear', seed: 7 });
    const lm = await loadedModelFromLayersModel(t.model);
    const image = testImage();
    const x = preprocessImage(image, lm.summary.imageSize, { normalization: 'unit', resize: 'stretch' });
    const values = plainValues(lm.program, x);
    const layerPath = lm.summary.defaultLayerPath ?? '';
    const slot = lm.program.slotsByPath.get(layerPath) ?? -1;
    const owned = createContext({ program: lm.program, values, classIndex: 1, slot, layerPath, options: { concepts: 3, iterations: 300 } });
    const { concepts, height, width } = await dffConcepts(owned.ctx);
    expect(concepts).toHaveLength(3);
    // The reference: the same NMF on the same V, then the dense layer's own weights on each concept vector.
    const a = values[slot] as tf.Tensor;
    const [, , , channels] = a.shape as number[];
    const data = a.dataSync();
    const c = channels ?? 0;
    const positions = height * width;
    const offset = Array.from({ length: c }, (_, q) => Math.min(...Array.from({ length: positions }, (_, p) => data[p * c + q] ?? 0)));
    const v = Float64Array.from({ length: c * positions }, (_, i) => (data[(i % positions) * c + Math.floor(i / positions)] ?? 0) - (offset[Math.floor(i / positions)] ?? 0));
    const { w, h } = nmf(v, c, positions, 3, 300);
    const dense = t.model.layers.find((l) => l.getClassName() === 'Dense');
    const [kernel, bias] = (dense?.getWeights() ?? []).map((wt) => Array.from(wt.dataSync()));
    const units = (bias ?? []).length;
    concepts.forEach((concept, j) => {
      const vector = Array.from({ length: c }, (_, q) => (w[q * 3 + j] ?? 0) + (offset[q] ?? 0));
      const z = Array.from({ length: units }, (_, u) => (bias?.[u] ?? 0) + vector.reduce((s, vq, q) => s + vq * (kernel?.[q * units + u] ?? 0), 0));
      const max = Math.max(...z);
      const total = z.reduce((s, zu) => s + Math.exp(zu - max), 0);
      z.forEach((zu, u) => expect(Math.abs((concept.probabilities[u] ?? 0) - Math.exp(zu - max) / total)).toBeLessThanOrEqual(1e-5));
      expect(pearson(concept.map, Array.from({ length: positions }, (_, q) => h[j * positions + q] ?? 0))).toBeGreaterThanOrEqual(0.9999);
    });
    const r = await lm.explain(image, { methods: ['dff'], layerPath, target: 1, methodOptions: { dff: { concepts: 3, iterations: 300 } } });
    const chosen = concepts[conceptFor(concepts, 1)];
    expect(pearson((r.maps.dff as HeatmapMethodMap).map.data, chosen?.map ?? [])).toBeGreaterThanOrEqual(0.9999);
    // show = combined: every concept comes back with the map, scaled to [0, 1], its top three classes and a distinct colour.
    const combined = await lm.explain(image, { methods: ['dff'], layerPath, target: 1, methodOptions: { dff: { concepts: 3, iterations: 300, show: 'combined' } } });
    const all = (combined.maps.dff as HeatmapMethodMap).concepts;
    expect(all?.count).toBe(3);
    expect(all?.maps.length).toBe(3 * positions);
    for (let j = 0; j < 3; j++) {
      const m = Array.from(all?.maps.subarray(j * positions, (j + 1) * positions) ?? []);
      expect(Math.max(...m)).toBeCloseTo(1, 6);
      expect(pearson(m, concepts[j]?.map ?? [])).toBeGreaterThanOrEqual(0.9999);
      const top = all?.topClasses[j] ?? [];
      expect(top.map((t) => t.index)).toEqual(concepts[j]?.ranked.slice(0, 3));
      expect(top[0]?.probability ?? 0).toBeGreaterThanOrEqual(top[1]?.probability ?? 0);
    }
    expect(new Set(all?.colours.map((c) => c.join(','))).size).toBe(3);
    expect((r.maps.dff as HeatmapMethodMap).concepts).toBeUndefined(); // only when asked
    tf.dispose(values);
    owned.dispose();
    lm.dispose();
  });
});
