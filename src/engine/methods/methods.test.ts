/**
 * Every method against a straightforward reference of its formula (src/test-support/method-reference.ts: loops
 * over arrays, gradients from the tfjs tape through model.apply or the executor's plain path — never
 * the engine's written-out backward pass), on the five nested test models, at a layer inside the
 * nested base and at the default layer, for a class and its counterfactual: Pearson correlation of
 * the maps ≥ 0.999. Then the identities that must hold, the CAM options (eigen-smoothing, flip
 * smoothing, fusion), cancelling, progress and tensor counts. CPU backend.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildTestModel, testImage, type TestModelCase } from '../../test-support/test-models';
import { loadedModelFromLayersModel, type LoadedModel } from '../model';
import { preprocessImage } from '../preprocess';
import { createContext } from './context';
import { gradCamPlusPlusWeights } from './gradcam-plus-plus';
import { scoreCamChannelScores, softmax } from './scorecam';
import { integratedGradients } from './integrated-gradients';
import { ablationSlot } from './ablationcam';
import { smoothGradNoise } from './smoothgrad';
import { StudioError } from '../../shared/errors';
import { scoreFunction } from '../executor/gradient';
import { METHODS, type MethodId } from '../../shared/methods';
import type { RgbMethodMap } from '../../shared/types';
import {
  CAM_REFERENCES, eigenRef, gradCamPlusPlusWeightsRef, gradCamRef, guidedGradientRef, inputGradientRef, layerGradientRef, logits, normalised, pearson, plainValues, read3, resize, type Layer3,
} from '../../test-support/method-reference';
import { expectMatches, heat, MIN_CORRELATION } from '../../test-support/expect-maps';

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

async function setup(kind: TestModelCase, seed = 7): Promise<Setup> {
  const t = buildTestModel(kind, { head: 'linear', seed });
  const lm = await loadedModelFromLayersModel(t.model);
  const x = preprocessImage(IMAGE, lm.summary.imageSize, PREPROCESS);
  const values = plainValues(lm.program, x);
  return {
    lm, model: t.model, x, values, inner: t.innerLayerPath, last: lm.summary.defaultLayerPath!,
    dispose() {
      tf.dispose(values);
      lm.dispose();
    },
  };
}



function layerAndGradient(s: Setup, path: string, cls: number, sign: number): { a: Layer3; g: Layer3 } {
  const slot = s.lm.program.slotsByPath.get(path)!;
  const g = layerGradientRef(s.lm.program, s.values, slot, cls, sign);
  const out = { a: read3(s.values[slot]!), g: read3(g) };
  g.dispose();
  return out;
}


const lowest: Record<string, number> = {};
function record(id: string, r: number) {
  lowest[id] = Math.min(lowest[id] ?? 1, r);
}

describe('layer methods = their reference formulas', () => {
  for (const kind of ['a', 'b', 'c', 'd', 'e'] as const) {
    it(`gradient CAMs and Eigen-CAM, case (${kind}), inner and default layer, class and counterfactual`, async () => {
      const s = await setup(kind);
      for (const layerPath of [s.inner, s.last]) {
        for (const counterfactual of [false, true]) {
          const sign = counterfactual ? -1 : 1;
          const r = await s.lm.explain(IMAGE, { methods: CAM_REFERENCES.map(([id]) => id), layerPath, target: 1, counterfactual });
          const { a, g } = layerAndGradient(s, layerPath, 1, sign);
          for (const [id, reference] of CAM_REFERENCES) {
            const map = heat(r.maps[id]);
            expect(map.map.width * map.map.height).toBe(a.h * a.w);
            record(id, expectMatches(map.map.data, reference(a, g), `${id} (${kind}) at ${layerPath}${counterfactual ? ', counterfactual' : ''}`));
          }
        }
      }
      s.dispose();
    });
  }

  for (const kind of ['c', 'e'] as const) {
    it(`Score-CAM and Ablation-CAM, case (${kind}): masked-image scores through model.apply, ablated scores through the plain path`, async () => {
      const s = await setup(kind);
      const { program } = s.lm;
      for (const layerPath of [s.inner, s.last]) {
        const slot = program.slotsByPath.get(layerPath)!;
        const r = await s.lm.explain(IMAGE, { methods: ['scorecam', 'ablationcam'], layerPath, target: 2, methodOptions: { scorecam: { batchSize: 3 }, ablationcam: { batchSize: 5 } } });
        const a = read3(s.values[slot]!);
        const [, height, width] = s.x.shape;
        // Score-CAM: each channel upsampled, min–max scaled, masks the input; softmax over the masked scores.
        const scores: number[] = [];
        for (let k = 0; k < a.c; k++) {
          const channel = Array.from({ length: a.h * a.w }, (_, i) => a.data[i * a.c + k]!);
          const up = resize(channel, a.h, a.w, [height, width]);
          const low = Math.min(...up);
          const high = Math.max(...up);
          const mask = tf.tensor4d(Float32Array.from(up, (v) => (v - low) / (high - low + 1e-8)), [1, height, width, 1]);
          const masked = tf.mul(s.x, mask);
          scores.push(logits(s.model, masked, 2)[0]!);
          tf.dispose([mask, masked]);
        }
        const max = Math.max(...scores);
        const exps = scores.map((v) => Math.exp(v - max));
        const total = exps.reduce((p, q) => p + q, 0);
        const scoreWeights = exps.map((e) => e / total);
        const scoreRef = new Float64Array(a.h * a.w).map((_, i) => Math.max(0, scoreWeights.reduce((sum, w, k) => sum + w * a.data[i * a.c + k]!, 0)));
        record('scorecam', expectMatches(heat(r.maps.scorecam).map.data, scoreRef, `Score-CAM (${kind}) at ${layerPath}`));
        // Ablation-CAM: channel k zeroed, the rest of the network through tfjs-layers' own calls.
        const score = scoreOf(program, s.values, slot, s.values[slot]!, 2);
        const ablationWeights = Array.from({ length: a.c }, (_, k) => {
          const zeroed = tf.tidy(() => tf.mul(s.values[slot]!, tf.sub(1, tf.oneHot([k], a.c).reshape([1, 1, 1, a.c]))));
          const sk = scoreOf(program, s.values, slot, zeroed, 2);
          zeroed.dispose();
          return (score - sk) / score;
        });
        const ablationRef = new Float64Array(a.h * a.w).map((_, i) => Math.max(0, ablationWeights.reduce((sum, w, k) => sum + w * a.data[i * a.c + k]!, 0)));
        record('ablationcam', expectMatches(heat(r.maps.ablationcam).map.data, ablationRef, `Ablation-CAM (${kind}) at ${layerPath}`));
        // Before global average pooling the channels are zeroed in the pooled vector (the same scores); elsewhere at the layer.
        const cut = ablationSlot(program, s.values, slot);
        if (layerPath === s.last) expect(s.values[cut]!.shape).toEqual([1, a.c]);
        else expect(cut).toBe(slot);
      }
      s.dispose();
    });
  }
});

/** The class score with `value` at `slot`, through the plain path. */
function scoreOf(program: LoadedModel['program'], values: tf.Tensor[], slot: number, value: tf.Tensor, cls: number): number {
  return tf.tidy(() => scoreFunctionPlain(program, values, slot, cls)(value).dataSync()[0]!);
}

function scoreFunctionPlain(program: LoadedModel['program'], values: tf.Tensor[], slot: number, cls: number) {
  return scoreFunction(program, values, slot, cls, { path: 'plain' });
}

describe('input methods = their reference formulas', () => {
  for (const kind of ['b', 'd'] as const) {
    it(`vanilla gradient, gradient × input, SmoothGrad, Integrated Gradients, guided backprop, guided Grad-CAM, case (${kind})`, async () => {
      const s = await setup(kind);
      const { program } = s.lm;
      for (const counterfactual of [false, true]) {
        const sign = counterfactual ? -1 : 1;
        const cls = 3;
        const methods: MethodId[] = ['vanilla-gradient', 'gradient-x-input', 'smoothgrad', 'integrated-gradients', 'guided-backprop', 'guided-gradcam'];
        const r = await s.lm.explain(IMAGE, {
          methods, target: cls, counterfactual, layerPath: s.inner,
          methodOptions: { 'smoothgrad': { samples: 5, noise: 0.2, batchSize: 2 }, 'integrated-gradients': { steps: 24, baseline: 'black', batchSize: 5 } },
        });
        const g = inputGradientRef(s.model, s.x, cls, sign);
        const gd = g.dataSync();
        const xd = s.x.dataSync();
        const c = s.x.shape[3];
        const pixels = gd.length / c;
        const perPixel = (f: (i: number) => number, abs: boolean) => Float64Array.from({ length: pixels }, (_, p) => {
          let sum = 0;
          for (let k = 0; k < c; k++) sum += abs ? Math.abs(f(p * c + k)) : f(p * c + k);
          return abs ? sum : Math.max(0, sum);
        });
        const tag = `(${kind})${counterfactual ? ', counterfactual' : ''}`;
        record('vanilla-gradient', expectMatches(heat(r.maps['vanilla-gradient']).map.data, perPixel((i) => gd[i]!, true), `vanilla gradient ${tag}`));
        record('gradient-x-input', expectMatches(heat(r.maps['gradient-x-input']).map.data, perPixel((i) => gd[i]! * xd[i]!, false), `gradient × input ${tag}`));
        // SmoothGrad: the same seeded noise, the gradients from the tape, batch by batch as requested (2 + 2 + 1).
        const range = Math.max(...xd) - Math.min(...xd);
        const sum = new Float64Array(gd.length);
        for (const [first, count] of [[0, 2], [2, 2], [4, 1]] as const) {
          const noisy = tf.tidy(() => tf.add(s.x, smoothGradNoise(s.x.shape, count, 0.2 * range, first)));
          for (let i = 0; i < count; i++) {
            const one = noisy.slice([i, 0, 0, 0], [1, ...s.x.shape.slice(1)]);
            const gi = inputGradientRef(s.model, one, cls, sign);
            gi.dataSync().forEach((v, j) => (sum[j] += v / 5));
            tf.dispose([one, gi]);
          }
          noisy.dispose();
        }
        record('smoothgrad', expectMatches(heat(r.maps.smoothgrad).map.data, perPixel((i) => sum[i]!, true), `SmoothGrad ${tag}`));
        // Integrated Gradients from the black image (zeros for [0, 1] input), midpoint rule, 24 steps.
        const integral = new Float64Array(gd.length);
        for (let k = 0; k < 24; k++) {
          const point = tf.mul(s.x, (k + 0.5) / 24);
          const gk = inputGradientRef(s.model, point, cls, sign);
          gk.dataSync().forEach((v, j) => (integral[j] += v / 24));
          tf.dispose([point, gk]);
        }
        record('integrated-gradients', expectMatches(heat(r.maps['integrated-gradients']).map.data, perPixel((i) => xd[i]! * integral[i]!, false), `Integrated Gradients ${tag}`));
        // Guided backprop and guided Grad-CAM (saliency = Σ_c |·|; the RGB image = the standard visualisation).
        const guided = guidedGradientRef(program, s.values, cls, sign);
        const gg = guided.dataSync();
        const gb = r.maps['guided-backprop'] as RgbMethodMap;
        expect(gb.kind).toBe('rgb');
        record('guided-backprop', expectMatches(gb.saliency.data, perPixel((i) => gg[i]!, true), `guided backprop ${tag}`));
        expect(pearson(gb.map.data, visualised(guided))).toBeGreaterThanOrEqual(MIN_CORRELATION);
        const { a, g: ga } = layerAndGradient(s, s.inner, cls, sign);
        const cam = normalised(resize(normalised(gradCamRef(a, ga)), a.h, a.w, [s.x.shape[1], s.x.shape[2]]).map((v) => Math.min(1, Math.max(0, v))));
        const camUp = resize(normalised(gradCamRef(a, ga)), a.h, a.w, [s.x.shape[1], s.x.shape[2]]).map((v) => Math.min(1, Math.max(0, v)));
        expect(cam.length).toBe(pixels);
        const ggc = r.maps['guided-gradcam'] as RgbMethodMap;
        record('guided-gradcam', expectMatches(ggc.saliency.data, perPixel((i) => gg[i]! * camUp[Math.floor(i / c)]!, true), `guided Grad-CAM ${tag}`));
        tf.dispose([g, guided]);
      }
      s.dispose();
    });
  }
});

function visualised(gradient: tf.Tensor): Float32Array {
  return tf.tidy(() => {
    const g = gradient.squeeze([0]);
    const centred = g.sub(g.mean());
    const std = tf.sqrt(centred.square().mean());
    const vis = centred.div(std.add(1e-5)).mul(0.1).add(0.5).clipByValue(0, 1);
    return Float32Array.from((vis.shape[2] === 1 ? tf.tile(vis, [1, 1, 3]) : vis).dataSync());
  });
}

describe('identities', () => {
  it('HiResCAM = Grad-CAM where the gradient is spatially constant (global average pooling right after the layer)', async () => {
    for (const kind of ['a', 'e'] as const) {
      const s = await setup(kind);
      // A class with positive evidence at the layer (else both maps are zero, trivially equal).
      let r = await s.lm.explain(IMAGE, { methods: ['gradcam', 'hirescam'], layerPath: s.last, target: 0 });
      for (let cls = 1; cls < 4 && !(heat(r.maps.gradcam).rawMax > 0); cls++) r = await s.lm.explain(IMAGE, { methods: ['gradcam', 'hirescam'], layerPath: s.last, target: cls });
      const a = heat(r.maps.gradcam).map.data;
      const b = heat(r.maps.hirescam).map.data;
      expect(Math.max(...a)).toBeGreaterThan(0);
      expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!)))).toBeLessThanOrEqual(1e-5);
      // …and not at the inner layer, where the gradient varies over the positions.
      const inner = await s.lm.explain(IMAGE, { methods: ['gradcam', 'hirescam'], layerPath: s.inner, target: r.classIndex });
      expect(pearson(heat(inner.maps.gradcam).map.data, heat(inner.maps.hirescam).map.data)).toBeLessThan(0.9999);
      s.dispose();
    }
  });

  it("Grad-CAM++'s weights are ≥ 0 after a ReLU, and equal the reference's", async () => {
    for (const kind of ['a', 'b', 'c', 'd', 'e'] as const) {
      const s = await setup(kind);
      for (const path of [s.inner, s.last]) {
        for (const sign of [1, -1] as const) {
          const slot = s.lm.program.slotsByPath.get(path)!;
          const owned = createContext({ program: s.lm.program, values: s.values, classIndex: 1, sign, slot, layerPath: path });
          const weights = gradCamPlusPlusWeights(owned.ctx);
          const w = Array.from(weights.dataSync());
          expect(Math.min(...w), `${kind} ${path}`).toBeGreaterThanOrEqual(0);
          const { a, g } = layerAndGradient(s, path, 1, sign);
          const ref = gradCamPlusPlusWeightsRef(a, g);
          const scale = Math.max(...ref.map(Math.abs), 1e-12);
          w.forEach((v, k) => expect(Math.abs(v - ref[k]!) / scale).toBeLessThanOrEqual(1e-4));
          weights.dispose();
          owned.dispose();
        }
      }
      s.dispose();
    }
  });

  it("Score-CAM's weights are a softmax over the channels' masked-image scores (they sum to 1, the map is ReLU(Σ w·A))", async () => {
    const s = await setup('e');
    const slot = s.lm.program.slotsByPath.get(s.inner)!;
    const owned = createContext({ program: s.lm.program, values: s.values, classIndex: 0, slot, layerPath: s.inner, options: { batchSize: 4 } });
    const scores = await scoreCamChannelScores(owned.ctx);
    const weights = softmax(scores);
    expect(weights.reduce((p, q) => p + q, 0)).toBeCloseTo(1, 6);
    for (let k = 0; k < scores.length; k++) for (let l = 0; l < scores.length; l++) {
      // softmax: w_k / w_l = exp(s_k − s_l)
      expect(Math.log(weights[k]! / weights[l]!)).toBeCloseTo(scores[k]! - scores[l]!, 3);
    }
    const a = read3(s.values[slot]!);
    const r = await s.lm.explain(IMAGE, { methods: ['scorecam'], layerPath: s.inner, target: 0 });
    const expected = new Float64Array(a.h * a.w).map((_, i) => Math.max(0, Array.from(weights).reduce((sum, w, k) => sum + w * a.data[i * a.c + k]!, 0)));
    expectMatches(heat(r.maps.scorecam).map.data, expected, 'Score-CAM = ReLU(Σ softmax(s)·A)');
    owned.dispose();
    s.dispose();
  });

  it("Integrated Gradients' completeness: Σ attributions = S(x) − S(baseline) within 1 % at 64 steps, for each baseline", async () => {
    for (const kind of ['c', 'e'] as const) {
      const s = await setup(kind);
      for (const baseline of ['black', 'zero', 'blurred', 'mean'] as const) {
        const owned = createContext({ program: s.lm.program, values: s.values, classIndex: 1, options: { steps: 64, baseline, batchSize: 16 } });
        const { integratedGradientsBaseline } = await import('./integrated-gradients');
        const start = integratedGradientsBaseline(owned.ctx);
        const attributions = await integratedGradients(owned.ctx, start);
        const total = tf.sum(attributions).dataSync()[0]!;
        const difference = logits(s.model, s.x, 1)[0]! - logits(s.model, start, 1)[0]!;
        expect(Math.abs(difference), `${kind} ${baseline}: the score must move`).toBeGreaterThan(1e-3);
        expect(Math.abs(total - difference) / Math.abs(difference), `${kind} ${baseline}: Σ ${total} vs ${difference}`).toBeLessThanOrEqual(0.01);
        tf.dispose([start, attributions]);
        owned.dispose();
      }
      s.dispose();
    }
  });

  it('SmoothGrad without noise is the vanilla gradient; Eigen-CAM does not depend on the class', async () => {
    const s = await setup('c');
    const r = await s.lm.explain(IMAGE, { methods: ['vanilla-gradient', 'smoothgrad', 'eigencam'], target: 1, layerPath: s.inner, methodOptions: { smoothgrad: { noise: 0, samples: 3 } } });
    const v = heat(r.maps['vanilla-gradient']).map.data;
    const sg = heat(r.maps.smoothgrad).map.data;
    expect(Math.max(...v.map((x, i) => Math.abs(x - sg[i]!)))).toBeLessThanOrEqual(1e-5);
    const other = await s.lm.explain(IMAGE, { methods: ['eigencam'], target: 3, layerPath: s.inner, counterfactual: true });
    expect(heat(other.maps.eigencam).map.data).toEqual(heat(r.maps.eigencam).map.data);
    s.dispose();
  });
});

describe('CAM options', () => {
  it('eigen-smoothing: the first principal component of the weighted activations (Grad-CAM: w_k·A_k; LayerCAM: ReLU(g)·A)', async () => {
    const s = await setup('b');
    const r = await s.lm.explain(IMAGE, { methods: ['gradcam', 'layercam'], layerPath: s.inner, target: 2, eigenSmooth: true });
    const { a, g } = layerAndGradient(s, s.inner, 2, 1);
    const w = new Float64Array(a.c);
    for (let i = 0; i < g.data.length; i++) w[i % g.c] += g.data[i]! / (g.h * g.w);
    expectMatches(heat(r.maps.gradcam).map.data, eigenRef({ ...a, data: a.data.map((v, i) => v * w[i % a.c]!) }), 'eigen-smoothed Grad-CAM');
    expectMatches(heat(r.maps.layercam).map.data, eigenRef({ ...a, data: a.data.map((v, i) => v * Math.max(0, g.data[i]!)) }), 'eigen-smoothed LayerCAM');
    expect(heat(r.maps.gradcam).settings).toMatchObject({ eigenSmooth: true, augSmooth: false, fusedLayers: 1 });
    s.dispose();
  });

  it('flip smoothing: the mean of the map and the mirrored map of the mirrored image, renormalised', async () => {
    const s = await setup('c');
    const r = await s.lm.explain(IMAGE, { methods: ['gradcam'], layerPath: s.inner, target: 1, augSmooth: true });
    const { a, g } = layerAndGradient(s, s.inner, 1, 1);
    const plain = normalised(gradCamRef(a, g));
    const flippedX = tf.reverse(s.x, 2);
    const flippedValues = plainValues(s.lm.program, flippedX);
    const slot = s.lm.program.slotsByPath.get(s.inner)!;
    const gf = layerGradientRef(s.lm.program, flippedValues, slot, 1);
    const mirrored = normalised(gradCamRef(read3(flippedValues[slot]!), read3(gf)));
    const back = Float64Array.from(mirrored, (_, i) => mirrored[Math.floor(i / a.w) * a.w + (a.w - 1 - (i % a.w))]!);
    expectMatches(heat(r.maps.gradcam).map.data, plain.map((v, i) => (v + back[i]!) / 2), 'flip-smoothed Grad-CAM');
    tf.dispose([flippedX, gf, ...flippedValues]);
    s.dispose();
  });

  it('fusion: the mean of the layers\' normalised maps at input resolution, renormalised', async () => {
    const s = await setup('e');
    const r = await s.lm.explain(IMAGE, { methods: ['gradcam', 'xgradcam', 'guided-gradcam'], layerPaths: [s.inner, s.last], target: 1 });
    const [, height, width] = s.x.shape;
    const fused = new Float64Array(height * width);
    for (const path of [s.inner, s.last]) {
      const { a, g } = layerAndGradient(s, path, 1, 1);
      const up = resize(normalised(gradCamRef(a, g)), a.h, a.w, [height, width]);
      up.forEach((v, i) => (fused[i] += Math.min(1, Math.max(0, v)) / 2));
    }
    const map = heat(r.maps.gradcam);
    expect(map.map).toMatchObject({ width, height });
    expect(map.layerPaths).toEqual([s.inner, s.last]);
    expect(r.layerPaths).toEqual([s.inner, s.last]);
    expect(r.layerPath).toBe(s.inner);
    expectMatches(map.map.data, fused, 'fused Grad-CAM');
    expect(map.settings.fusedLayers).toBe(2);
    s.dispose();
  });
});

describe('running methods', () => {
  it('every method runs on a nested model and gives maps of the right size in [0, 1]; no tensor is left behind', async () => {
    const s = await setup('e');
    // The attention methods need a transformer (attention.fixtures.test.ts).
    const cnnMethods = METHODS.filter((m) => !m.requires);
    const all = cnnMethods.map((m) => m.id);
    const options = { methods: all, target: 1, layerPath: s.inner, methodOptions: {
      'smoothgrad': { samples: 3 }, 'integrated-gradients': { steps: 8 },
      // The perturbation methods at small settings (perturbation.test.ts checks them in full).
      'rise': { samples: 20 }, 'lime': { samples: 20 }, 'kernel-shap': { samples: 20 }, 'shapley-sampling': { permutations: 2 }, 'sobol': { grid: 3, designs: 4 }, 'hsic': { grid: 3, samples: 20 },
    } };
    const progress: string[] = [];
    // The first request fills the image cache (activations, mirrored activations, black image, guided gradient)…
    const first = await s.lm.explain(IMAGE, { ...options, augSmooth: true, eigenSmooth: true }, undefined, (p) => progress.push(`${p.method}:${p.fraction.toFixed(2)}`));
    const before = tf.memory().numTensors;
    // …later ones add nothing to it, and leave nothing behind.
    const second = await s.lm.explain(IMAGE, { ...options, target: 2 });
    await s.lm.explain(IMAGE, { ...options, layerPaths: [s.inner, s.last], counterfactual: true, augSmooth: true });
    expect(tf.memory().numTensors).toBe(before);
    for (const r of [first, second]) {
      for (const info of cnnMethods) {
        const m = r.maps[info.id]!;
        expect(m, info.id).toBeDefined();
        expect(m.kind).toBe(info.output);
        const data = m.kind === 'heatmap' ? [m.map.data, m.upsampled.data] : [m.map.data, m.saliency.data];
        for (const d of data) expect(Math.min(...d) >= 0 && Math.max(...d) <= 1, info.id).toBe(true);
        if (m.kind === 'heatmap') expect(m.upsampled).toMatchObject({ width: 16, height: 16 });
        else expect(m.map.data.length).toBe(16 * 16 * 3);
      }
    }
    for (const id of ['scorecam', 'ablationcam', 'smoothgrad', 'integrated-gradients']) {
      expect(progress.filter((p) => p.startsWith(`${id}:`)).length, id).toBeGreaterThan(2);
      expect(progress).toContain(`${id}:1.00`);
    }
    s.dispose();
  });

  it('the costly methods stop between batches when the signal aborts (CANCELLED), leaving no tensor behind', async () => {
    const s = await setup('c');
    // The image cache (with the black image Integrated Gradients starts from).
    await s.lm.explain(IMAGE, { methods: ['gradcam', 'integrated-gradients'], methodOptions: { 'integrated-gradients': { steps: 2 } } });
    for (const [id, methodOptions] of [
      ['scorecam', { scorecam: { batchSize: 1 } }],
      ['ablationcam', { ablationcam: { batchSize: 1 } }],
      ['smoothgrad', { smoothgrad: { batchSize: 1, samples: 10 } }],
      ['integrated-gradients', { 'integrated-gradients': { batchSize: 1, steps: 10 } }],
    ] as const) {
      const before = tf.memory().numTensors;
      const controller = new AbortController();
      const fractions: number[] = [];
      let error: unknown = null;
      try {
        await s.lm.explain(IMAGE, { methods: [id], layerPath: s.inner, methodOptions }, controller.signal, (p) => {
          fractions.push(p.fraction);
          if (p.fraction > 0.2) controller.abort();
        });
      } catch (e) {
        error = e;
      }
      expect(error instanceof StudioError && error.code, id).toBe('CANCELLED');
      expect(Math.max(...fractions), `${id} stopped early`).toBeLessThan(0.5);
      expect(tf.memory().numTensors, id).toBe(before);
    }
    s.dispose();
  });
});

describe('lowest correlations', () => {
  it('prints them', () => {
    console.log('lowest Pearson correlation per method (engine vs reference):', Object.entries(lowest).map(([k, v]) => `${k} ${v.toFixed(6)}`).join(', '));
  });
});
