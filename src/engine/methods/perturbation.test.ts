/**
 * The gradient-free perturbation methods (Occlusion, RISE, feature ablation, LIME, KernelSHAP, Shapley
 * value sampling, Sobol, HSIC) against plain-loop references (node/perturbation-reference.ts: every
 * perturbed image scored alone through model.apply, the estimators written out from their formulas),
 * on nested test models, for a class and its counterfactual: Pearson ≥ 0.999. Then the identities:
 * KernelSHAP over all coalitions = exact Shapley values by enumeration, Shapley sampling converges to
 * them, Occlusion on an input-linear model = each patch's exact contribution; and batching, progress,
 * cancelling and tensor counts. CPU backend.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildTestModel, testImage, type TestModelCase } from '../../test-support/test-models';
import { loadedModelFromLayersModel, type LoadedModel } from '../model';
import { preprocessImage } from '../preprocess';
import { StudioError } from '../../shared/errors';
import type { MethodId, MethodOptionValue } from '../../shared/methods';
import { logits, resize } from '../../test-support/method-reference';
import { constrainedFitRef, exactShapleyRef, hsicRef, maskedScoreRef, ridgeWithInterceptRef } from '../../test-support/perturbation-reference';
import { slic } from './superpixels';
import { riseMasks } from './rise';
import { limeCoalition, limeWeight } from './lime';
import { kernelShapCoalitions, kernelShapValues } from './kernel-shap';
import { samplingOrder, shapleySamplingValues } from './shapley-sampling';
import { sobolCells } from './sobol';
import { hsicDesign } from './hsic';
import { createContext } from './context';
import { occlusionAttribution } from './occlusion';
import { sampleRandom } from './perturbation';
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
  zeros: Float32Array;
  dispose(): void;
}

async function setup(kind: TestModelCase, seed = 7): Promise<Setup> {
  const t = buildTestModel(kind, { head: 'linear', seed });
  const lm = await loadedModelFromLayersModel(t.model);
  const x = preprocessImage(IMAGE, lm.summary.imageSize, PREPROCESS);
  return {
    lm, model: t.model, x, zeros: new Float32Array(x.size),
    dispose() {
      x.dispose();
      lm.dispose();
    },
  };
}


const relu = (v: number) => Math.max(0, v);


/** The segment values painted onto the pixels, ReLU'd. */
function painted(labels: Int32Array, values: ArrayLike<number>): Float64Array {
  return Float64Array.from(labels, (l) => relu(values[l] ?? 0));
}

function windowStartsRef(size: number, window: number, stride: number): number[] {
  const starts: number[] = [];
  for (let s = 0; s <= size - window; s += stride) starts.push(s);
  if ((starts[starts.length - 1] ?? 0) + window < size) starts.push(size - window);
  return starts;
}

const H = 16;
const W = 16;

describe('perturbation methods = their plain-loop references', () => {
  for (const kind of ['c', 'e'] as const) {
    it(`Occlusion, RISE, feature ablation, LIME, KernelSHAP, Shapley sampling, Sobol, HSIC, case (${kind}), class and counterfactual`, async () => {
      const s = await setup(kind);
      const cls = 2;
      const segments = 12;
      const options: Partial<Record<MethodId, Record<string, MethodOptionValue>>> = {
        'occlusion': { window: 5, stride: 3, baseline: 'zero', batchSize: 7 },
        'rise': { samples: 60, grid: 4, keep: 0.5, baseline: 'zero', batchSize: 16 },
        'feature-ablation': { segments, baseline: 'zero', batchSize: 5 },
        'lime': { segments, samples: 40, kernelWidth: 0.25, baseline: 'zero', batchSize: 9 },
        'kernel-shap': { segments, samples: 60, baseline: 'zero', batchSize: 16 },
        'shapley-sampling': { segments, permutations: 3, baseline: 'zero', batchSize: 8 },
        'sobol': { grid: 3, designs: 6, baseline: 'zero', batchSize: 16 },
        'hsic': { grid: 3, samples: 24, baseline: 'zero', batchSize: 10 },
      };
      const methods = Object.keys(options) as MethodId[];
      const seg = slic(s.x.dataSync(), H, W, 3, segments, 10);
      const M = seg.count;
      expect(M).toBeGreaterThan(8); // KernelSHAP samples rather than enumerates here
      for (const counterfactual of [false, true]) {
        const sign = counterfactual ? -1 : 1;
        const tag = `(${kind})${counterfactual ? ', counterfactual' : ''}`;
        const r = await s.lm.explain(IMAGE, { methods, target: cls, counterfactual, methodOptions: options });
        const score = (mask: ArrayLike<number>) => maskedScoreRef(s.model, s.x, s.zeros, mask, cls, sign);
        const full = logits(s.model, s.x, cls, sign)[0] ?? 0;
        const keepSegments = (z: ArrayLike<number>) => Float32Array.from(seg.labels, (l) => z[l] ?? 0);

        // Occlusion: the mean drop over the windows covering each pixel.
        const sum = new Float64Array(H * W);
        const covered = new Float64Array(H * W);
        for (const y0 of windowStartsRef(H, 5, 3)) for (const x0 of windowStartsRef(W, 5, 3)) {
          const mask = new Float32Array(H * W).fill(1);
          for (let y = y0; y < y0 + 5; y++) for (let x = x0; x < x0 + 5; x++) mask[y * W + x] = 0;
          const drop = full - score(mask);
          mask.forEach((m, p) => {
            if (m === 0) {
              sum[p] = (sum[p] ?? 0) + drop;
              covered[p] = (covered[p] ?? 0) + 1;
            }
          });
        }
        expectMatches(heat(r.maps.occlusion).map.data, Float64Array.from(sum, (v, p) => relu(v / (covered[p] ?? 1))), `Occlusion ${tag}`);

        // RISE: E[S | pixel kept] − E[S] over the same 60 masks.
        const masks = riseMasks(H, W, 4, 0.5, 0, 60);
        const riseScores = Array.from({ length: 60 }, (_, i) => score(masks.subarray(i * H * W, (i + 1) * H * W)));
        const meanScore = riseScores.reduce((a, b) => a + b, 0) / 60;
        const riseRef = Float64Array.from({ length: H * W }, (_, p) => {
          let num = 0;
          let den = 0;
          riseScores.forEach((sc, i) => {
            num += sc * (masks[i * H * W + p] ?? 0);
            den += masks[i * H * W + p] ?? 0;
          });
          return relu(den > 0 ? num / den - meanScore : 0);
        });
        expectMatches(heat(r.maps.rise).map.data, riseRef, `RISE ${tag}`);

        // Feature ablation: S(x) − S(x without segment j).
        const ablation = Array.from({ length: M }, (_, j) => full - score(keepSegments(Array.from({ length: M }, (_, k) => (k === j ? 0 : 1)))));
        expectMatches(heat(r.maps['feature-ablation']).map.data, painted(seg.labels, ablation), `feature ablation ${tag}`);

        // LIME: ridge (α = 1) with an explicit intercept column, exponential kernel on the cosine distance.
        const limeZ = Array.from({ length: 40 }, (_, i) => limeCoalition(M, i));
        const limeY = limeZ.map((z) => score(keepSegments(z)));
        const limePi = limeZ.map((z) => {
          const kept = Array.from(z).reduce((a, b) => a + b, 0);
          const cosine = kept / (Math.sqrt(kept) * Math.sqrt(M) || 1);
          return Math.exp(-((1 - cosine) ** 2) / 0.25 ** 2);
        });
        limeZ.forEach((z, i) => expect(limeWeight(z, 0.25)).toBeCloseTo(limePi[i] ?? 0, 10));
        const limeFitRef = ridgeWithInterceptRef(limeZ, limeY, limePi, 1).slice(1);
        expectMatches(heat(r.maps.lime).map.data, painted(seg.labels, limeFitRef), `LIME ${tag}`);

        // KernelSHAP (sampled coalitions, weight 1 each): the constrained fit through its KKT system.
        const { coalitions, weights } = kernelShapCoalitions(M, 60);
        const shapRef = constrainedFitRef(coalitions, coalitions.map((z) => score(keepSegments(z))), weights, score(new Float32Array(H * W)), full);
        expectMatches(heat(r.maps['kernel-shap']).map.data, painted(seg.labels, shapRef), `KernelSHAP ${tag}`);

        // Shapley value sampling: marginal contributions along the same 3 orders.
        const phi = new Float64Array(M);
        for (let o = 0; o < 3; o++) {
          const order = samplingOrder(M, o);
          const z = new Float32Array(M);
          let before = score(keepSegments(z));
          for (const player of order) {
            z[player] = 1;
            const after = score(keepSegments(z));
            phi[player] = (phi[player] ?? 0) + (after - before) / 3;
            before = after;
          }
        }
        expectMatches(heat(r.maps['shapley-sampling']).map.data, painted(seg.labels, phi), `Shapley sampling ${tag}`);

        // Sobol: Jansen's total index per cell, the grid upsampled bilinearly.
        const dims = 9;
        const cellMask = (cells: ArrayLike<number>) => Float32Array.from({ length: H * W }, (_, p) => cells[Math.min(2, Math.floor((Math.floor(p / W) * 3) / H)) * 3 + Math.min(2, Math.floor(((p % W) * 3) / W))] ?? 0);
        const f = (row: number) => score(cellMask(sobolCells(dims, 6, row)));
        const fa = Array.from({ length: 6 }, (_, n) => f(n));
        const fb = Array.from({ length: 6 }, (_, n) => f(6 + n));
        const all = [...fa, ...fb];
        const mean = all.reduce((a, b) => a + b, 0) / 12;
        const variance = all.reduce((a, b) => a + (b - mean) ** 2, 0) / 11;
        const st = Array.from({ length: dims }, (_, i) => fa.reduce((acc, v, n) => acc + (v - f(12 + i * 6 + n)) ** 2, 0) / 12 / variance);
        expectMatches(heat(r.maps.sobol).map.data, resize(st, 3, 3, [H, W]).map(relu), `Sobol ${tag}`);

        // HSIC with the explicit K, H, L matrices.
        const design = hsicDesign(24, dims);
        const hsicY = Array.from({ length: 24 }, (_, n) => score(cellMask(design.subarray(n * dims, (n + 1) * dims))));
        const hsicCells = Array.from({ length: dims }, (_, i) => hsicRef(Array.from({ length: 24 }, (_, n) => design[n * dims + i] ?? 0), hsicY));
        expectMatches(heat(r.maps.hsic).map.data, resize(hsicCells, 3, 3, [H, W]).map(relu), `HSIC ${tag}`);
      }
      s.dispose();
    });
  }
});

describe('RISE masks', () => {
  it('are the bilinear (g + 1)-cell canvas cropped at the mask\'s shift, written out pixel by pixel (the same draws)', () => {
    const [H, W, grid, keep] = [37, 29, 5, 0.4];
    const masks = riseMasks(H, W, grid, keep, 3, 4);
    for (let r = 0; r < 4; r++) {
      // The draws in their order: (g + 1)² cells, then the shifts in y and x.
      const random = sampleRandom(7_919, 3 + r);
      const cells = Array.from({ length: (grid + 1) ** 2 }, () => (random() < keep ? 1 : 0));
      const [shiftY, shiftX] = [random() * (H / grid), random() * (W / grid)];
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        const gy = Math.min(grid, Math.max(0, (y + 0.5 + shiftY) / (H / grid) - 0.5));
        const gx = Math.min(grid, Math.max(0, (x + 0.5 + shiftX) / (W / grid) - 0.5));
        const [y0, x0] = [Math.floor(gy), Math.floor(gx)];
        const [y1, x1] = [Math.min(grid, y0 + 1), Math.min(grid, x0 + 1)];
        const c = (a: number, b: number) => cells[a * (grid + 1) + b] ?? 0;
        const want = (1 - (gy - y0)) * ((1 - (gx - x0)) * c(y0, x0) + (gx - x0) * c(y0, x1)) + (gy - y0) * ((1 - (gx - x0)) * c(y1, x0) + (gx - x0) * c(y1, x1));
        expect(masks[r * H * W + y * W + x]).toBe(Math.fround(want));
      }
    }
  });
});

describe('identities', () => {
  it('KernelSHAP over all coalitions of ≤ 8 superpixels = the exact Shapley values by enumeration (≤ 1e-4); Shapley sampling converges to them', async () => {
    const s = await setup('c');
    const owned = createContext({ program: s.lm.program, values: s.lm.program ? (await import('../../test-support/method-reference')).plainValues(s.lm.program, s.x) : [], classIndex: 1, options: { segments: 6, samples: 512, baseline: 'zero' } });
    const seg = slic(s.x.dataSync(), H, W, 3, 6, 10);
    expect(seg.count).toBeLessThanOrEqual(8);
    expect(seg.count).toBeGreaterThanOrEqual(4);
    const exact = exactShapleyRef(s.model, s.x, s.zeros, seg.labels, seg.count, 1);
    const { phi, exact: enumerated } = await kernelShapValues(owned.ctx, seg);
    expect(enumerated).toBe(true);
    const scale = Math.max(...exact.map(Math.abs));
    expect(scale).toBeGreaterThan(1e-3);
    phi.forEach((v, j) => expect(Math.abs(v - (exact[j] ?? 0)), `φ_${j}`).toBeLessThanOrEqual(1e-4));
    // Shapley value sampling: the error shrinks as orders are added, and is small at 400.
    const errorAt = async (permutations: number) => {
      const ctx = createContext({ program: s.lm.program, values: owned.ctx.values, classIndex: 1, options: { permutations, baseline: 'zero', batchSize: 64 } });
      const estimate = await shapleySamplingValues(ctx.ctx, seg);
      ctx.dispose();
      return Math.max(...Array.from(estimate, (v, j) => Math.abs(v - (exact[j] ?? 0)))) / scale;
    };
    const few = await errorAt(4);
    const many = await errorAt(400);
    expect(many).toBeLessThan(few);
    expect(many).toBeLessThanOrEqual(0.1);
    tf.dispose(owned.ctx.values as tf.Tensor[]);
    owned.dispose();
    s.dispose();
  });

  it("Occlusion on a model linear in its input = each patch's exact contribution Σ w·(x − x′)", async () => {
    const input = tf.input({ shape: [16, 16, 3] });
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }), name: 'lin_conv' }).apply(input) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(conv) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 4 }), biasInitializer: tf.initializers.constant({ value: 0.3 }) }).apply(pooled) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const lm = await loadedModelFromLayersModel(model);
    const x = preprocessImage(IMAGE, lm.summary.imageSize, PREPROCESS);
    // The linear model's input weights: the gradient (constant in x).
    const w = tf.grad((v: tf.Tensor) => (model.apply(v) as tf.Tensor).slice([0, 1], [1, 1]).sum())(x).dataSync();
    const xd = x.dataSync();
    const values = (await import('../../test-support/method-reference')).plainValues(lm.program, x);
    const owned = createContext({ program: lm.program, values, classIndex: 1, options: { window: 4, stride: 4, baseline: 'zero' } });
    const a = await occlusionAttribution(owned.ctx);
    for (let y0 = 0; y0 < 16; y0 += 4) for (let x0 = 0; x0 < 16; x0 += 4) {
      let contribution = 0;
      for (let y = y0; y < y0 + 4; y++) for (let xx = x0; xx < x0 + 4; xx++) for (let c = 0; c < 3; c++) contribution += (w[(y * 16 + xx) * 3 + c] ?? 0) * (xd[(y * 16 + xx) * 3 + c] ?? 0);
      for (let y = y0; y < y0 + 4; y++) for (let xx = x0; xx < x0 + 4; xx++) expect(Math.abs((a[y * 16 + xx] ?? 0) - contribution)).toBeLessThanOrEqual(1e-4);
    }
    tf.dispose(values);
    owned.dispose();
    lm.dispose();
  });
});

describe('running the perturbation methods', () => {
  const small: Partial<Record<MethodId, Record<string, MethodOptionValue>>> = {
    'occlusion': { window: 4, stride: 2, batchSize: 4 },
    'rise': { samples: 40, grid: 4, batchSize: 4 },
    'feature-ablation': { segments: 12, batchSize: 2 },
    'lime': { segments: 12, samples: 30, batchSize: 4 },
    'kernel-shap': { segments: 12, samples: 30, batchSize: 4 },
    'shapley-sampling': { segments: 12, permutations: 3, batchSize: 4 },
    'sobol': { grid: 3, designs: 4, batchSize: 4 },
    'hsic': { grid: 3, samples: 30, batchSize: 4 },
  };

  it('the batch size does not change the map (seeded draws per sample); progress is reported; no tensor is left behind', async () => {
    const s = await setup('e');
    const methods = Object.keys(small) as MethodId[];
    await s.lm.explain(IMAGE, { methods: ['integrated-gradients'], methodOptions: { 'integrated-gradients': { steps: 2 } } }); // fill the image cache (the black baseline)
    const before = tf.memory().numTensors;
    const progress: string[] = [];
    const a = await s.lm.explain(IMAGE, { methods, target: 1, methodOptions: small }, undefined, (p) => progress.push(`${p.method}:${p.fraction.toFixed(2)}`));
    const bigBatches = Object.fromEntries(Object.entries(small).map(([id, o]) => [id, { ...o, batchSize: 64 }]));
    const b = await s.lm.explain(IMAGE, { methods, target: 1, methodOptions: bigBatches });
    expect(tf.memory().numTensors).toBe(before);
    // The superpixel methods leave their segmentation for the panel; the others none.
    for (const id of methods) {
      const segments = heat(a.maps[id]).segments;
      if (['feature-ablation', 'lime', 'kernel-shap', 'shapley-sampling'].includes(id)) {
        expect(segments, id).toMatchObject({ width: 16, height: 16 });
        expect(segments?.labels.length).toBe(256);
        expect(Math.max(...(segments?.labels ?? [])) + 1).toBe(segments?.count);
      } else {
        expect(segments, id).toBeUndefined();
      }
    }
    for (const id of methods) {
      const ma = heat(a.maps[id]).map.data;
      const mb = heat(b.maps[id]).map.data;
      expect(Math.max(...ma.map((v, i) => Math.abs(v - (mb[i] ?? 0)))), id).toBeLessThanOrEqual(1e-4);
      expect(Math.max(...ma), `${id} has a map`).toBeGreaterThan(0);
      expect(progress.filter((p) => p.startsWith(`${id}:`)).length, id).toBeGreaterThan(2);
      expect(progress).toContain(`${id}:1.00`);
    }
    s.dispose();
  });

  it('each stops between batches when the signal aborts (CANCELLED), leaving no tensor behind', async () => {
    const s = await setup('c');
    await s.lm.explain(IMAGE, { methods: ['integrated-gradients'], methodOptions: { 'integrated-gradients': { steps: 2 } } });
    for (const id of Object.keys(small) as MethodId[]) {
      const before = tf.memory().numTensors;
      const controller = new AbortController();
      const fractions: number[] = [];
      let error: unknown = null;
      try {
        await s.lm.explain(IMAGE, { methods: [id], methodOptions: { [id]: { ...small[id], batchSize: 1 } } }, controller.signal, (p) => {
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
