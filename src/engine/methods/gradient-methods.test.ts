/**
 * The new gradient-based methods against their definitions, written out with plain loops over values
 * read back from tfjs and gradients from the tape through model.apply / the plain path (never the
 * engine's written-out backward pass): SmoothGrad², VarGrad and SquareGrad over the same noise draws,
 * GradientSHAP over the same α and noise, KPCA-CAM by a full eigendecomposition of the centred kernel,
 * Finer-CAM from each compared class's gradient. Class and counterfactual; CPU backend.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildTestModel, testImage, type TestModelCase } from '../../test-support/test-models';
import { loadedModelFromLayersModel, type LoadedModel } from '../model';
import { preprocessImage } from '../preprocess';
import { inputGradientRef, jacobiEigen, layerGradientRef, logits, plainValues, read3 } from '../../test-support/method-reference';
import { smoothGradNoise } from './smoothgrad';
import { gradientShapAlpha, gradientShapNoise } from './gradient-shap';
import { expectMatches, heat } from '../../test-support/expect-maps';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const IMAGE = testImage();
const PREPROCESS = { normalization: 'unit', resize: 'stretch' } as const;

interface Setup {
  lm: LoadedModel;
  model: tf.LayersModel;
  x: tf.Tensor4D;
  values: tf.Tensor[];
  inner: string;
  last: string;
  dispose(): void;
}

async function setup(kind: TestModelCase, classes = 4): Promise<Setup> {
  const t = buildTestModel(kind, { head: 'linear', seed: 7, classes });
  const lm = await loadedModelFromLayersModel(t.model);
  const x = preprocessImage(IMAGE, lm.summary.imageSize, PREPROCESS);
  const values = plainValues(lm.program, x);
  return {
    lm, model: t.model, x, values, inner: t.innerLayerPath, last: lm.summary.defaultLayerPath ?? '',
    dispose() {
      tf.dispose([x, ...values]);
      lm.dispose();
    },
  };
}



/** The engine's normalised map equals reference / max(reference) within `tolerance`. */
function expectEqualsNormalised(engine: ArrayLike<number>, reference: ArrayLike<number>, what: string, tolerance = 1e-4): void {
  const max = Math.max(...Array.from(reference));
  expect(max, `${what}: the reference must not be zero`).toBeGreaterThan(0);
  let worst = 0;
  for (let i = 0; i < reference.length; i++) worst = Math.max(worst, Math.abs((engine[i] ?? 0) - (reference[i] ?? 0) / max));
  expect(worst, what).toBeLessThanOrEqual(tolerance);
}

const relu = (v: number) => Math.max(0, v);

describe('noise-tunnel methods and GradientSHAP = their definitions over the same draws', () => {
  for (const kind of ['b', 'd'] as const) {
    it(`SmoothGrad², VarGrad, SquareGrad, GradientSHAP, case (${kind}), class and counterfactual`, async () => {
      const s = await setup(kind);
      const cls = 3;
      const xd = s.x.dataSync();
      const c = s.x.shape[3];
      const pixels = xd.length / c;
      const range = Math.max(...xd) - Math.min(...xd);
      for (const counterfactual of [false, true]) {
        const sign = counterfactual ? -1 : 1;
        const tag = `(${kind})${counterfactual ? ', counterfactual' : ''}`;
        const r = await s.lm.explain(IMAGE, {
          methods: ['smoothgrad-sq', 'vargrad', 'squaregrad', 'gradient-shap'], target: cls, counterfactual,
          methodOptions: {
            'smoothgrad-sq': { samples: 5, noise: 0.2, batchSize: 2 },
            'vargrad': { samples: 5, noise: 0.2, batchSize: 2 },
            'squaregrad': { samples: 5, noise: 0.2, batchSize: 2 },
            'gradient-shap': { samples: 6, noise: 0.1, baseline: 'zero', batchSize: 4 },
          },
        });
        // The gradients at the same noisy copies (batches 2 + 2 + 1, seeded by their first sample).
        const grads: Float32Array[] = [];
        for (const [first, count] of [[0, 2], [2, 2], [4, 1]] as const) {
          const noisy = tf.tidy(() => tf.add(s.x, smoothGradNoise(s.x.shape, count, 0.2 * range, first)));
          for (let i = 0; i < count; i++) {
            const one = noisy.slice([i, 0, 0, 0], [1, ...s.x.shape.slice(1)]);
            const g = inputGradientRef(s.model, one, cls, sign);
            grads.push(Float32Array.from(g.dataSync()));
            tf.dispose([one, g]);
          }
          noisy.dispose();
        }
        const perPixel = (f: (i: number) => number) => Float64Array.from({ length: pixels }, (_, p) => {
          let sum = 0;
          for (let k = 0; k < c; k++) sum += f(p * c + k);
          return sum;
        });
        const meanSquare = perPixel((i) => grads.reduce((a, g) => a + (g[i] ?? 0) ** 2, 0) / 5);
        const variance = perPixel((i) => {
          const mean = grads.reduce((a, g) => a + (g[i] ?? 0), 0) / 5;
          return grads.reduce((a, g) => a + ((g[i] ?? 0) - mean) ** 2, 0) / 5;
        });
        expectEqualsNormalised(heat(r.maps['smoothgrad-sq']).map.data, meanSquare, `SmoothGrad² ${tag}`);
        expectEqualsNormalised(heat(r.maps.squaregrad).map.data, meanSquare, `SquareGrad ${tag}`);
        expectEqualsNormalised(heat(r.maps.vargrad).map.data, variance, `VarGrad ${tag}`);

        // GradientSHAP from the zero baseline: (x − 0) ⊙ mean_i ∇S(α_i (x + ε_i)).
        const mean = new Float64Array(xd.length);
        for (let i = 0; i < 6; i++) {
          const point = tf.tidy(() => tf.mul(tf.add(s.x, gradientShapNoise(s.x.shape, 0.1 * range, i)), gradientShapAlpha(i)));
          const g = inputGradientRef(s.model, point, cls, sign);
          g.dataSync().forEach((v, j) => (mean[j] = (mean[j] ?? 0) + v / 6));
          tf.dispose([point, g]);
        }
        expectMatches(heat(r.maps['gradient-shap']).map.data, perPixel((i) => (xd[i] ?? 0) * (mean[i] ?? 0)).map(relu), `GradientSHAP ${tag}`);
      }
      s.dispose();
    });
  }
});

describe('KPCA-CAM and Finer-CAM = their reference formulas', () => {
  for (const kind of ['a', 'c', 'e'] as const) {
    it(`case (${kind}), inner and default layer`, async () => {
      const s = await setup(kind, 6);
      for (const layerPath of [s.inner, s.last]) {
        const slot = s.lm.program.slotsByPath.get(layerPath) ?? -1;
        const a = read3(s.values[slot] as tf.Tensor);
        const n = a.h * a.w;
        // KPCA: centred activations, kernel over positions, centred in feature space, top eigenpair.
        const x = Array.from({ length: n }, (_, i) => Array.from({ length: a.c }, (_, q) => {
          let mean = 0;
          for (let j = 0; j < n; j++) mean += (a.data[j * a.c + q] ?? 0) / n;
          return (a.data[i * a.c + q] ?? 0) - mean;
        }));
        for (const kernel of ['sigmoid', 'rbf', 'poly'] as const) {
          const k = x.map((xi) => x.map((xj) => {
            const dot = xi.reduce((acc, v, q) => acc + v * (xj[q] ?? 0), 0);
            const d2 = xi.reduce((acc, v, q) => acc + (v - (xj[q] ?? 0)) ** 2, 0);
            return kernel === 'rbf' ? Math.exp(-d2 / a.c) : kernel === 'poly' ? (dot / a.c + 1) ** 3 : Math.tanh(dot / a.c + 1);
          }));
          const one = 1 / n;
          const centred = k.map((row, i) => row.map((_, j) => {
            let v = k[i]?.[j] ?? 0;
            for (let t = 0; t < n; t++) v -= one * ((k[t]?.[j] ?? 0) + (k[i]?.[t] ?? 0));
            for (let t = 0; t < n; t++) for (let u = 0; u < n; u++) v += one * one * (k[t]?.[u] ?? 0);
            return v;
          }));
          const { values, vectors } = jacobiEigen(centred);
          const top = values.indexOf(Math.max(...values));
          const projection = vectors.map((row) => (row[top] ?? 0) * Math.sqrt(Math.max(0, values[top] ?? 0)));
          let agreement = 0;
          for (let i = 0; i < n; i++) for (let q = 0; q < a.c; q++) agreement += (projection[i] ?? 0) * (a.data[i * a.c + q] ?? 0);
          const r = await s.lm.explain(IMAGE, { methods: ['kpca-cam'], layerPath, target: 1, methodOptions: { 'kpca-cam': { kernel } } });
          expectMatches(heat(r.maps['kpca-cam']).map.data, projection.map((p) => relu(agreement < 0 ? -p : p)), `KPCA-CAM ${kernel} (${kind}) at ${layerPath}`);
        }
        // Finer-CAM: the 3 classes with the nearest logits, S′ = Σ_k (S_c − S_k), Grad-CAM of S′.
        for (const counterfactual of [false, true]) {
          const sign = counterfactual ? -1 : 1;
          const cls = 2;
          const z = Array.from({ length: 6 }, (_, k) => logits(s.model, s.x, k)[0] ?? 0);
          const compared = [0, 1, 3, 4, 5].sort((p, q) => Math.abs((z[p] ?? 0) - (z[cls] ?? 0)) - Math.abs((z[q] ?? 0) - (z[cls] ?? 0)) || p - q).slice(0, 3);
          const gradOf = (k: number) => {
            const g = layerGradientRef(s.lm.program, s.values, slot, k, sign);
            const d = Float32Array.from(g.dataSync());
            g.dispose();
            return d;
          };
          const gc = gradOf(cls);
          const gk = compared.map(gradOf);
          const weights = new Float64Array(a.c);
          for (let i = 0; i < gc.length; i++) weights[i % a.c] = (weights[i % a.c] ?? 0) + (3 * (gc[i] ?? 0) - gk.reduce((acc, g) => acc + (g[i] ?? 0), 0)) / n;
          const reference = Float64Array.from({ length: n }, (_, i) => relu(Array.from(weights).reduce((acc, w, q) => acc + w * (a.data[i * a.c + q] ?? 0), 0)));
          const r = await s.lm.explain(IMAGE, { methods: ['finer-cam'], layerPath, target: cls, counterfactual });
          if (!counterfactual) expect(Math.max(...reference), 'Finer-CAM has evidence').toBeGreaterThan(0);
          expectMatches(heat(r.maps['finer-cam']).map.data, reference, `Finer-CAM (${kind}) at ${layerPath}${counterfactual ? ', counterfactual' : ''}`);
        }
      }
      s.dispose();
    });
  }
});

describe('the costly new gradient methods', () => {
  it('stop between batches when the signal aborts (CANCELLED), leaving no tensor behind; progress reaches 1 otherwise', async () => {
    const { StudioError } = await import('../../shared/errors');
    const s = await setup('c');
    await s.lm.explain(IMAGE, { methods: ['integrated-gradients'], methodOptions: { 'integrated-gradients': { steps: 2 } } }); // the image cache
    const cases = [
      ['smoothgrad-sq', { samples: 10, batchSize: 1 }],
      ['vargrad', { samples: 10, batchSize: 1 }],
      ['gradient-shap', { samples: 10, batchSize: 1 }],
      ['deeplift-shap', { samples: 6 }],
    ] as const;
    for (const [id, options] of cases) {
      const before = tf.memory().numTensors;
      const controller = new AbortController();
      const fractions: number[] = [];
      let error: unknown = null;
      try {
        await s.lm.explain(IMAGE, { methods: [id], methodOptions: { [id]: options } }, controller.signal, (p) => {
          fractions.push(p.fraction);
          if (p.fraction > 0.2) controller.abort();
        });
      } catch (e) {
        error = e;
      }
      expect(error instanceof StudioError && error.code, id).toBe('CANCELLED');
      expect(Math.max(...fractions), `${id} stopped early`).toBeLessThan(0.5);
      expect(tf.memory().numTensors, id).toBe(before);
      const done: number[] = [];
      await s.lm.explain(IMAGE, { methods: [id], methodOptions: { [id]: options } }, undefined, (p) => done.push(p.fraction));
      expect(done.filter((f) => f > 0 && f < 1).length, `${id} reports progress`).toBeGreaterThan(2);
      expect(tf.memory().numTensors, id).toBe(before);
    }
    s.dispose();
  });
});
