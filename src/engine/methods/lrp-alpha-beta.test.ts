/**
 * LRP-αβ: on a bias-free dense ReLU network, equal to the rule written out with explicit weight
 * matrices (R_i = Σ_j (α (a_i w_ij)⁺/z⁺_j − β (a_i w_ij)⁻/z⁻_j) R_j, layer by layer from R = S) for
 * α₁β₀ and α₂β₁; on a bias-free conv ReLU network (conv, depthwise, pooling, dense), α₁β₀ conserves
 * relevance: Σ R_input = S. CPU backend.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { testImage } from '../../test-support/test-models';
import { loadedModelFromLayersModel } from '../model';
import { preprocessImage } from '../preprocess';
import { logits, plainValues } from '../../test-support/method-reference';
import { createContext } from './context';
import { lrpAlphaBeta } from './lrp-alpha-beta';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const IMAGE = testImage();
const PREPROCESS = { normalization: 'unit', resize: 'stretch' } as const;

/** One αβ step through y = a W (a [n], W [n × m] row-major), from the output relevance R [m]. */
function alphaBetaStep(a: ArrayLike<number>, w: ArrayLike<number>, n: number, m: number, r: ArrayLike<number>, alpha: number, beta: number): Float64Array {
  const zp = new Float64Array(m);
  const zn = new Float64Array(m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    const v = (a[i] ?? 0) * (w[i * m + j] ?? 0);
    if (v > 0) zp[j] = (zp[j] ?? 0) + v;
    else zn[j] = (zn[j] ?? 0) + v;
  }
  return Float64Array.from({ length: n }, (_, i) => {
    let sum = 0;
    for (let j = 0; j < m; j++) {
      const v = (a[i] ?? 0) * (w[i * m + j] ?? 0);
      if (v > 0 && (zp[j] ?? 0) !== 0) sum += (alpha * v * (r[j] ?? 0)) / (zp[j] ?? 1);
      if (v < 0 && (zn[j] ?? 0) !== 0) sum -= (beta * v * (r[j] ?? 0)) / (zn[j] ?? 1);
    }
    return sum;
  });
}

describe('LRP-αβ', () => {
  it('equals the rule written out with explicit matrices on flatten → dense(ReLU) → dense, for α₁β₀ and α₂β₁', async () => {
    const input = tf.input({ shape: [4, 4, 3] });
    const hidden = tf.layers.dense({ units: 8, activation: 'relu', useBias: false, kernelInitializer: tf.initializers.glorotNormal({ seed: 41 }) });
    const head = tf.layers.dense({ units: 3, useBias: false, kernelInitializer: tf.initializers.glorotNormal({ seed: 42 }) });
    const out = head.apply(hidden.apply(tf.layers.flatten().apply(input) as tf.SymbolicTensor) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const lm = await loadedModelFromLayersModel(model);
    const x = preprocessImage(IMAGE, lm.summary.imageSize, { normalization: 'symmetric', resize: 'stretch' } as const); // negative inputs too
    const xd = x.dataSync();
    const w1 = (hidden.getWeights()[0] as tf.Tensor).dataSync();
    const w2 = (head.getWeights()[0] as tf.Tensor).dataSync();
    const h = Float64Array.from({ length: 8 }, (_, j) => Math.max(0, Array.from({ length: 48 }, (_, i) => (xd[i] ?? 0) * (w1[i * 8 + j] ?? 0)).reduce((p, q) => p + q, 0)));
    const values = plainValues(lm.program, x);
    for (const [alpha, beta] of [[1, 0], [2, 1]] as const) {
      const cls = 1;
      const s = Array.from(h).reduce((acc, hj, j) => acc + hj * (w2[j * 3 + cls] ?? 0), 0);
      expect(s).toBeCloseTo(logits(model, x, cls)[0] ?? 0, 4);
      const rOut = Float64Array.from({ length: 3 }, (_, k) => (k === cls ? s : 0));
      const rHidden = alphaBetaStep(h, w2, 8, 3, rOut, alpha, beta);
      const rInput = alphaBetaStep(xd, w1, 48, 8, rHidden, alpha, beta);
      const owned = createContext({ program: lm.program, values, classIndex: cls });
      const engine = lrpAlphaBeta(owned.ctx, alpha, beta);
      const e = engine.dataSync();
      const scale = Math.max(...Array.from(rInput, Math.abs));
      expect(scale).toBeGreaterThan(0);
      rInput.forEach((v, i) => expect(Math.abs((e[i] ?? 0) - v), `α${alpha}β${beta} input ${i}`).toBeLessThanOrEqual(1e-4 * scale));
      engine.dispose();
      owned.dispose();
    }
    tf.dispose([x, ...values]);
    lm.dispose();
  });

  it('α₁β₀ conserves relevance on a bias-free conv ReLU network: Σ R_input = S', async () => {
    const input = tf.input({ shape: [16, 16, 3] });
    let y = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', useBias: false, kernelInitializer: tf.initializers.glorotNormal({ seed: 51 }) }).apply(input) as tf.SymbolicTensor;
    y = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: tf.initializers.glorotNormal({ seed: 52 }) }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.reLU().apply(y) as tf.SymbolicTensor;
    y = tf.layers.globalAveragePooling2d({}).apply(y) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, useBias: false, kernelInitializer: tf.initializers.glorotNormal({ seed: 53 }) }).apply(y) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const lm = await loadedModelFromLayersModel(model);
    const x = preprocessImage(IMAGE, lm.summary.imageSize, PREPROCESS);
    const values = plainValues(lm.program, x);
    for (const cls of [0, 1, 2]) {
      const owned = createContext({ program: lm.program, values, classIndex: cls });
      const r = lrpAlphaBeta(owned.ctx, 1, 0);
      const total = tf.sum(r).dataSync()[0] ?? 0;
      const s = logits(model, x, cls)[0] ?? 0;
      if (s > 0) expect(Math.abs(total - s), `class ${cls}: Σ R ${total} vs S ${s}`).toBeLessThanOrEqual(1e-4 * Math.abs(s));
      r.dispose();
      owned.dispose();
    }
    const explained = await lm.explain(IMAGE, { methods: ['lrp-alpha-beta'], target: 0, methodOptions: { 'lrp-alpha-beta': { rule: 'a2b1' } } });
    expect(explained.maps['lrp-alpha-beta']?.kind).toBe('heatmap');
    tf.dispose([x, ...values]);
    lm.dispose();
  });
});
