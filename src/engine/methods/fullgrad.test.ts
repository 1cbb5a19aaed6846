/**
 * FullGrad: completeness on a ReLU network with biases and batch norm (S = Σ x ⊙ ∂S/∂x + Σ b ⊙ ∂S/∂z,
 * dense bias included, ≤ 10⁻⁴ relative), and the map against a reference from the plain path's
 * gradients at each biased layer, post-processed with plain loops (min–max per channel, bilinear
 * upsampling, sum) on a nested test model with ReLU6 and fused ReLUs. CPU backend.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildTestModel, testImage } from '../../test-support/test-models';
import { loadedModelFromLayersModel } from '../model';
import { preprocessImage } from '../preprocess';
import { inputGradientRef, layerGradientRef, logits, pearson, plainValues, resize } from '../../test-support/method-reference';
import { createContext } from './context';
import { fullGradBiasTerms } from './fullgrad';
import type { HeatmapMethodMap } from '../../shared/types';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const IMAGE = testImage();
const PREPROCESS = { normalization: 'unit', resize: 'stretch' } as const;

describe('FullGrad', () => {
  it('completeness on a ReLU network: S = Σ x ⊙ ∂S/∂x + Σ_layers Σ b ⊙ ∂S/∂z', async () => {
    const init = (seed: number) => ({ kernelInitializer: tf.initializers.glorotNormal({ seed }), biasInitializer: tf.initializers.randomNormal({ seed: seed + 50, stddev: 0.3 }) });
    const input = tf.input({ shape: [16, 16, 3] });
    let x = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', ...init(1) }).apply(input) as tf.SymbolicTensor;
    x = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', ...init(2) }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ movingMeanInitializer: tf.initializers.randomNormal({ seed: 3, stddev: 0.2 }), betaInitializer: tf.initializers.randomNormal({ seed: 4, stddev: 0.2 }) }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
    x = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu', depthwiseInitializer: tf.initializers.glorotNormal({ seed: 5 }), biasInitializer: tf.initializers.randomNormal({ seed: 6, stddev: 0.3 }) }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
    x = tf.layers.dense({ units: 5, activation: 'relu', ...init(7) }).apply(x) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, ...init(8) }).apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const lm = await loadedModelFromLayersModel(model);
    const image = preprocessImage(IMAGE, lm.summary.imageSize, PREPROCESS);
    const values = plainValues(lm.program, image);
    for (const [cls, sign] of [[0, 1], [2, 1], [1, -1]] as const) {
      const owned = createContext({ program: lm.program, values, classIndex: cls, sign });
      const terms = fullGradBiasTerms(owned.ctx);
      expect(terms.length).toBe(6); // conv, conv, batch norm, depthwise, dense, dense
      const g = inputGradientRef(model, image, cls, sign);
      const total = (tf.sum(tf.mul(g, image)).dataSync()[0] ?? 0) + terms.reduce((s, t) => s + (tf.sum(t.term).dataSync()[0] ?? 0), 0);
      const score = logits(model, image, cls, sign)[0] ?? 0;
      expect(Math.abs(total - score), `class ${cls} sign ${sign}: ${total} vs ${score}`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(score)));
      tf.dispose([g, ...terms.map((t) => t.term)]);
      owned.dispose();
    }
    tf.dispose([image, ...values]);
    lm.dispose();
  });

  it('the map = ψ(|x ⊙ ∇x|) + Σ ψ(|b ⊙ ∂S/∂z|) from the plain path, on a nested model (ReLU6, fused ReLU, batch norm)', async () => {
    const t = buildTestModel('c', { head: 'linear', seed: 7 });
    const lm = await loadedModelFromLayersModel(t.model);
    const x = preprocessImage(IMAGE, lm.summary.imageSize, PREPROCESS);
    const values = plainValues(lm.program, x);
    const [, H, W] = x.shape;
    const psi = (data: ArrayLike<number>, h: number, w: number, c: number) => {
      const total = new Float64Array(H * W);
      for (let k = 0; k < c; k++) {
        const channel = Array.from({ length: h * w }, (_, i) => Math.abs(data[i * c + k] ?? 0));
        const low = Math.min(...channel);
        const high = Math.max(...channel);
        const up = resize(channel.map((v) => (v - low) / (high - low + 1e-7)), h, w, [H, W]);
        up.forEach((v, i) => (total[i] = (total[i] ?? 0) + v));
      }
      return total;
    };
    const g = inputGradientRef(t.model, x, 1, 1);
    const reference = psi(tf.mul(x, g).dataSync(), H, W, 3);
    // Each biased spatial step: the plain-path gradient at its output, masked by its fused activation, × its bias.
    let layers = 0;
    for (const step of lm.program.steps) {
      const layer = step.layer as unknown as tf.layers.Layer;
      const cls = layer.getClassName();
      const slot = step.outputs[0] ?? -1;
      const value = values[slot];
      if (!value || value.rank !== 4 || !['Conv2D', 'DepthwiseConv2D', 'BatchNormalization'].includes(cls)) continue;
      let bias: Float32Array;
      if (cls === 'BatchNormalization') {
        const [gamma, beta, mean, variance] = layer.getWeights().map((w) => w.dataSync());
        const eps = (layer as unknown as { epsilon: number }).epsilon;
        bias = Float32Array.from(beta ?? [], (b, k) => b - ((gamma?.[k] ?? 1) * (mean?.[k] ?? 0)) / Math.sqrt((variance?.[k] ?? 1) + eps));
      } else {
        const weights = layer.getWeights();
        if (weights.length < 2) continue;
        bias = Float32Array.from((weights[weights.length - 1] as tf.Tensor).dataSync());
      }
      const activation = (layer as unknown as { activation?: { getClassName(): string } }).activation?.getClassName().toLowerCase() ?? 'linear';
      const grad = layerGradientRef(lm.program, values, slot, 1, 1);
      const gd = grad.dataSync();
      const vd = value.dataSync();
      const [, h, w, c] = value.shape as [number, number, number, number];
      const term = Float32Array.from(gd, (gv, i) => {
        const mask = activation === 'relu' ? ((vd[i] ?? 0) > 0 ? 1 : 0) : 1;
        return gv * mask * (bias[i % c] ?? 0);
      });
      psi(term, h, w, c).forEach((v, i) => (reference[i] = (reference[i] ?? 0) + v));
      grad.dispose();
      layers++;
    }
    expect(layers).toBeGreaterThanOrEqual(3);
    const r = await lm.explain(IMAGE, { methods: ['fullgrad'], target: 1 });
    expect(pearson((r.maps.fullgrad as HeatmapMethodMap).map.data, reference)).toBeGreaterThanOrEqual(0.999);
    tf.dispose([g, x, ...values]);
    lm.dispose();
  });
});
