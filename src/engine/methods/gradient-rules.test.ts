/**
 * The methods that change the backward pass's rules (on the taped path).
 * DeepLIFT (rescale) and DeepLIFT-SHAP: summation-to-delta on the nested test models (ReLU, ReLU6,
 * batch norm, depthwise conv, skip additions, pooling, dense), for several baselines — Σ a =
 * S(x) − S(x′) within 1 % (DeepLIFT-SHAP: S(x) − mean_b S(x′_b)); and on a one-nonlinearity model
 * against a hand-made reference: the secant multipliers computed in plain loops from the layer's
 * values on x and x′, then (x − x′) ⊙ ∂/∂x Σ m·z(x)·v by the tape of a linear function.
 * Deconvolution against W_convᵀ ReLU(v) written out; LRP-ε = gradient × input as ε → 0 on a bias-free
 * ReLU network, and for ε > 0 the rule written out layer by layer. CPU backend.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildTestModel, testImage } from '../../test-support/test-models';
import { loadedModelFromLayersModel } from '../model';
import { preprocessImage } from '../preprocess';
import { logits, pearson, plainValues } from '../../test-support/method-reference';
import { createContext } from './context';
import { deepLiftAttributions } from './deeplift';
import { deepLiftShap, deepLiftShapBaselines } from './deeplift-shap';
import { integratedGradientsBaseline } from './integrated-gradients';
import type { HeatmapMethodMap } from '../../shared/types';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const IMAGE = testImage();
const PREPROCESS = { normalization: 'unit', resize: 'stretch' } as const;

describe('DeepLIFT (rescale)', () => {
  it('sums to S(x) − S(x′) within 1 % on the nested models, for each baseline and sign; DeepLIFT-SHAP to S(x) − mean S(x′_b)', async () => {
    for (const kind of ['b', 'c', 'e'] as const) {
      const t = buildTestModel(kind, { head: 'linear', seed: 7 });
      const lm = await loadedModelFromLayersModel(t.model);
      const x = preprocessImage(IMAGE, lm.summary.imageSize, PREPROCESS);
      const values = plainValues(lm.program, x);
      for (const sign of [1, -1] as const) {
        for (const baseline of ['black', 'blurred', 'mean'] as const) {
          const owned = createContext({ program: lm.program, values, classIndex: 1, sign, options: { baseline } });
          const start = integratedGradientsBaseline(owned.ctx);
          const a = deepLiftAttributions(owned.ctx, start);
          const total = tf.sum(a).dataSync()[0] ?? 0;
          const delta = (logits(t.model, x, 1, sign)[0] ?? 0) - (logits(t.model, start, 1, sign)[0] ?? 0);
          expect(Math.abs(delta), `${kind} ${baseline}: the score must move`).toBeGreaterThan(1e-3);
          expect(Math.abs(total - delta) / Math.abs(delta), `${kind} ${baseline} sign ${sign}: Σ ${total} vs ${delta}`).toBeLessThanOrEqual(0.01);
          tf.dispose([start, a]);
          owned.dispose();
        }
      }
      const owned = createContext({ program: lm.program, values, classIndex: 2, options: { samples: 2 } });
      const shap = await deepLiftShap(owned.ctx);
      const baselines = deepLiftShapBaselines(owned.ctx, 2);
      const meanBaseline = baselines.reduce((s, b) => s + (logits(t.model, b, 2)[0] ?? 0), 0) / baselines.length;
      const delta = (logits(t.model, x, 2)[0] ?? 0) - meanBaseline;
      expect(Math.abs((tf.sum(shap).dataSync()[0] ?? 0) - delta) / Math.abs(delta), `DeepLIFT-SHAP (${kind})`).toBeLessThanOrEqual(0.01);
      tf.dispose([shap, ...baselines, ...values, x]);
      owned.dispose();
      lm.dispose();
    }
  });

  it('equals a hand-made rescale on conv → ReLU → pooling → dense', async () => {
    const input = tf.input({ shape: [16, 16, 3] });
    const conv = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1', kernelInitializer: tf.initializers.glorotNormal({ seed: 9 }), biasInitializer: tf.initializers.randomNormal({ seed: 10, stddev: 0.2 }) });
    const dense = tf.layers.dense({ units: 3, name: 'd1', kernelInitializer: tf.initializers.glorotNormal({ seed: 11 }) });
    const out = dense.apply(tf.layers.globalAveragePooling2d({}).apply(conv.apply(input) as tf.SymbolicTensor) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const lm = await loadedModelFromLayersModel(model);
    const x = preprocessImage(IMAGE, lm.summary.imageSize, PREPROCESS);
    const r = await lm.explain(IMAGE, { methods: ['deeplift'], target: 0, methodOptions: { deeplift: { baseline: 'blurred' } } });
    const values = plainValues(lm.program, x);
    const owned = createContext({ program: lm.program, values, classIndex: 0, options: { baseline: 'blurred' } });
    const start = integratedGradientsBaseline(owned.ctx);
    // The pre-activations on x and x′ (the conv without its ReLU), and the secant per unit.
    const [kernel, bias] = conv.getWeights();
    const pre = (v: tf.Tensor) => tf.add(tf.conv2d(v as tf.Tensor4D, kernel as tf.Tensor4D, 1, 'same'), bias as tf.Tensor);
    const z = pre(x).dataSync();
    const z0 = pre(start).dataSync();
    const m = Float32Array.from(z, (zi, i) => {
      const d = zi - (z0[i] ?? 0);
      return Math.abs(d) > 1e-6 ? (Math.max(0, zi) - Math.max(0, z0[i] ?? 0)) / d : zi > 0 ? 1 : 0;
    });
    // v = ∂S/∂(ReLU output): the pooled dense weights, the same at every position.
    const [w] = dense.getWeights();
    const wd = (w as tf.Tensor).dataSync();
    const v = Float32Array.from(m, (_, i) => (wd[(i % 6) * 3 + 0] ?? 0) / (16 * 16));
    const mv = tf.tensor4d(Float32Array.from(m, (mi, i) => mi * (v[i] ?? 0)), [1, 16, 16, 6]);
    const g = tf.grad((input4: tf.Tensor) => tf.sum(tf.mul(pre(input4), mv)))(x);
    const a = tf.mul(tf.sub(x, start), g).dataSync();
    const reference = Float64Array.from({ length: 256 }, (_, p) => Math.max(0, (a[p * 3] ?? 0) + (a[p * 3 + 1] ?? 0) + (a[p * 3 + 2] ?? 0)));
    expect(Math.max(...reference)).toBeGreaterThan(0);
    expect(pearson((r.maps.deeplift as HeatmapMethodMap).map.data, reference)).toBeGreaterThanOrEqual(0.999);
    tf.dispose([start, mv, g, x, ...values]);
    owned.dispose();
    lm.dispose();
  });

  it('Deconvolution equals W_convᵀ ReLU(v) on conv → ReLU → pooling → dense (v = ∂S/∂ReLU output), class and counterfactual', async () => {
    const input = tf.input({ shape: [16, 16, 3] });
    const conv = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotNormal({ seed: 19 }) });
    const dense = tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 21 }) });
    const out = dense.apply(tf.layers.globalAveragePooling2d({}).apply(conv.apply(input) as tf.SymbolicTensor) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const lm = await loadedModelFromLayersModel(tf.model({ inputs: input, outputs: out }));
    const x = preprocessImage(IMAGE, lm.summary.imageSize, PREPROCESS);
    const [kernel] = conv.getWeights();
    const wd = (dense.getWeights()[0] as tf.Tensor).dataSync();
    for (const counterfactual of [false, true]) {
      const sign = counterfactual ? -1 : 1;
      const r = await lm.explain(IMAGE, { methods: ['deconvolution'], target: 1, counterfactual });
      // The gradient reaching each ReLU output is sign · w_k1 / (h·w) at every position; ReLU of it, back through the conv.
      const back = tf.tensor4d(Float32Array.from({ length: 256 * 6 }, (_, i) => Math.max(0, (sign * (wd[(i % 6) * 3 + 1] ?? 0)) / 256)), [1, 16, 16, 6]);
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(v as tf.Tensor4D, kernel as tf.Tensor4D, 1, 'same'), back)))(x).dataSync();
      const reference = Float64Array.from({ length: 256 }, (_, p) => Math.abs(g[p * 3] ?? 0) + Math.abs(g[p * 3 + 1] ?? 0) + Math.abs(g[p * 3 + 2] ?? 0));
      const map = r.maps.deconvolution as unknown as { kind: string; saliency: { data: Float32Array } };
      expect(map.kind).toBe('rgb');
      expect(pearson(map.saliency.data, reference)).toBeGreaterThanOrEqual(0.999);
      back.dispose();
    }
    x.dispose();
    lm.dispose();
  });

  it('LRP-ε: ε → 0 on a bias-free ReLU network = gradient × input; ε > 0 = the rule written out on conv → ReLU → pooling → dense', async () => {
    const input = tf.input({ shape: [16, 16, 3] });
    const conv = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', useBias: false, kernelInitializer: tf.initializers.glorotNormal({ seed: 29 }) });
    const conv2 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', useBias: false, kernelInitializer: tf.initializers.glorotNormal({ seed: 30 }) });
    const dense = tf.layers.dense({ units: 3, useBias: false, kernelInitializer: tf.initializers.glorotNormal({ seed: 31 }) });
    const out = dense.apply(tf.layers.globalAveragePooling2d({}).apply(conv2.apply(conv.apply(input) as tf.SymbolicTensor) as tf.SymbolicTensor) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const lm = await loadedModelFromLayersModel(model);
    const x = preprocessImage(IMAGE, lm.summary.imageSize, PREPROCESS);
    const values = plainValues(lm.program, x);
    const { lrpEpsilon } = await import('./lrp');
    const owned = createContext({ program: lm.program, values, classIndex: 0 });
    const r0 = await lrpEpsilon(owned.ctx, 1e-9);
    const gx = tf.mul(x, tf.grad((v: tf.Tensor) => (model.apply(v) as tf.Tensor).slice([0, 0], [1, 1]).sum())(x));
    const scale = tf.max(tf.abs(gx)).dataSync()[0] ?? 0;
    expect(scale).toBeGreaterThan(0);
    expect(tf.max(tf.abs(tf.sub(r0, gx))).dataSync()[0] ?? 1).toBeLessThanOrEqual(1e-5 * scale);
    // ε = 0.5, by hand: c at the second ReLU's output = w_·0 / (h·w) · S/(S + ε sign S); each ReLU scales by step(z)·z/(z + ε sign z).
    const epsilon = 0.5;
    const [k1] = conv.getWeights();
    const [k2] = conv2.getWeights();
    const wd = (dense.getWeights()[0] as tf.Tensor).dataSync();
    const s = logits(model, x, 0)[0] ?? 0;
    const z1 = tf.conv2d(x, k1 as tf.Tensor4D, 1, 'same');
    const z2 = tf.conv2d(tf.relu(z1), k2 as tf.Tensor4D, 1, 'same');
    const rule = (z: tf.Tensor) => tf.mul(tf.step(z), tf.div(z, tf.add(z, tf.mul(epsilon, tf.sign(z)))));
    const c2 = tf.mul(tf.tensor4d(Float32Array.from({ length: 256 * 4 }, (_, i) => ((wd[(i % 4) * 3] ?? 0) / 256) * (s / (s + epsilon * Math.sign(s)))), [1, 16, 16, 4]), rule(z2));
    const a1 = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(v as tf.Tensor4D, k2 as tf.Tensor4D, 1, 'same'), c2)))(tf.relu(z1));
    const c1 = tf.mul(a1, rule(z1));
    const c0 = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(v as tf.Tensor4D, k1 as tf.Tensor4D, 1, 'same'), c1)))(x);
    const relevance = tf.mul(x, c0).dataSync();
    const owned2 = createContext({ program: lm.program, values, classIndex: 0 });
    const engine = (await lrpEpsilon(owned2.ctx, epsilon)).dataSync();
    const big = Math.max(...Array.from(relevance, Math.abs));
    let worst = 0;
    relevance.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (engine[i] ?? 0)))));
    expect(worst).toBeLessThanOrEqual(1e-4 * big);
    tf.dispose([r0, gx, z1, z2, c2, a1, c1, c0, x, ...values]);
    owned.dispose();
    owned2.dispose();
    lm.dispose();
  });
});
