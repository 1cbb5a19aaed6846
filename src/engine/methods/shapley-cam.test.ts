/**
 * ShapleyCAM: the weights mean(g − ½ H A) of the ReST target against a reference built from the plain
 * path's per-class logit gradients (ReST's gradient = 2 g_c − Σ_j softmax_j g_j) and a central finite
 * difference of that gradient along A for H A (the engine's step; on the smooth model also checked
 * against a step ten times smaller, which must agree), on a smooth model (softplus/tanh, where H ≠ 0) and a
 * ReLU model; the map = ReLU(Σ w_k A_k). CPU backend.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildTestModel, testImage } from '../../test-support/test-models';
import { loadedModelFromLayersModel } from '../model';
import { preprocessImage } from '../preprocess';
import { layerGradientRef, pearson, plainValues, read3 } from '../../test-support/method-reference';
import { scoreFunction } from '../executor/gradient';
import type { HeatmapMethodMap } from '../../shared/types';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('ShapleyCAM', () => {
  for (const smooth of [true, false]) {
    it(`weights = mean(g − ½ H A) of ReST by finite differences, ${smooth ? 'smooth' : 'ReLU'} model, class and counterfactual`, async () => {
      const t = buildTestModel('c', { head: 'linear', seed: 7, smooth });
      const lm = await loadedModelFromLayersModel(t.model);
      const image = testImage();
      const x = preprocessImage(image, lm.summary.imageSize, { normalization: 'unit', resize: 'stretch' });
      const values = plainValues(lm.program, x);
      for (const layerPath of [t.innerLayerPath, lm.summary.defaultLayerPath ?? '']) {
        const slot = lm.program.slotsByPath.get(layerPath) ?? -1;
        const a = values[slot] as tf.Tensor;
        const layer = read3(a);
        // ReST's gradient at a value v of the layer: 2 g_c − Σ_j softmax(z(v))_j g_j, times the sign.
        const restGradient = (v: tf.Tensor, cls: number, sign: number): Float64Array => {
          const at = values.map((u, s) => (s === slot ? v : u));
          const z = Array.from({ length: 4 }, (_, j) => tf.tidy(() => scoreFunction(lm.program, at, slot, j, { path: 'plain' })(v).dataSync()[0] ?? 0));
          const max = Math.max(...z);
          const e = z.map((zj) => Math.exp(zj - max));
          const total = e.reduce((p, q) => p + q, 0);
          const out = new Float64Array(v.size);
          for (let j = 0; j < 4; j++) {
            const g = layerGradientRef(lm.program, at, slot, j);
            const coefficient = (j === cls ? 2 : 0) - (e[j] ?? 0) / total;
            g.dataSync().forEach((gv, i) => (out[i] = (out[i] ?? 0) + sign * coefficient * gv));
            g.dispose();
          }
          return out;
        };
        for (const [cls, sign] of [[1, 1], [2, -1]] as const) for (const h of smooth ? [1e-2, 1e-3] : [1e-2]) {
          const g = restGradient(a, cls, sign);
          const up = tf.mul(a, 1 + h);
          const down = tf.mul(a, 1 - h);
          const gu = restGradient(up, cls, sign);
          const gd = restGradient(down, cls, sign);
          tf.dispose([up, down]);
          const n = layer.h * layer.w;
          const weights = new Float64Array(layer.c);
          g.forEach((gv, i) => (weights[i % layer.c] = (weights[i % layer.c] ?? 0) + (gv - 0.5 * ((gu[i] ?? 0) - (gd[i] ?? 0)) / (2 * h)) / n));
          const reference = Float64Array.from({ length: n }, (_, i) => Math.max(0, Array.from(weights).reduce((s, w, k) => s + w * (layer.data[i * layer.c + k] ?? 0), 0)));
          const r = await lm.explain(image, { methods: ['shapley-cam'], layerPath, target: cls, counterfactual: sign === -1 });
          const map = (r.maps['shapley-cam'] as HeatmapMethodMap).map.data;
          if (Math.max(...reference) > 0) expect(pearson(map, reference), `${layerPath} class ${cls} sign ${sign} h ${h}`).toBeGreaterThanOrEqual(0.999);
          else expect(Math.max(...map)).toBe(0);
        }
      }
      tf.dispose([x, ...values]);
      lm.dispose();
    });
  }
});
