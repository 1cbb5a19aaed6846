/**
 * The issue-26 methods on the real fixtures (../shared/fixtures), on WASM with the fast kernels:
 * Occlusion, KernelSHAP and LIME (every perturbed image scored alone through tfjs-layers' own calls),
 * SmoothGrad² and VarGrad (the same noise, tape gradients), KPCA-CAM and Finer-CAM at the default layer
 * (tape gradients through the plain path), against plain-loop references: Pearson ≥ 0.999. Skips
 * cleanly when the folder is absent.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadModel } from '../model';
import { filesFromPaths } from '../node/files';
import { decodeImageFile } from '../node/image';
import { preprocessImage, resolvePreprocess } from '../preprocess';
import { registerFastWasmGradients } from '../kernels/wasm-gradients';
import { logitFromSlots } from '../executor/forward';
import type { HeatmapMethodMap } from '../../shared/types';
import { layerGradientRef, pearson, plainValues, read3 } from '../../test-support/method-reference';
import { constrainedFitRef, ridgeWithInterceptRef } from '../../test-support/perturbation-reference';
import { slic } from './superpixels';
import { kernelShapCoalitions } from './kernel-shap';
import { limeCoalition } from './lime';
import { smoothGradNoise } from './smoothgrad';
import { nearestClasses } from './finer-cam';

const FIXTURES = resolve(process.cwd(), '../shared/fixtures');
const hasFixtures = existsSync(resolve(FIXTURES, 'models')) && existsSync(resolve(FIXTURES, 'images'));

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastWasmGradients();
});

function expectMatches(engine: ArrayLike<number>, reference: ArrayLike<number>, what: string): void {
  let high = -Infinity;
  for (let i = 0; i < reference.length; i++) high = Math.max(high, reference[i] ?? 0);
  expect(high, `${what}: the reference has evidence`).toBeGreaterThan(0);
  expect(pearson(engine, reference), what).toBeGreaterThanOrEqual(0.999);
}

const MODELS = [
  { name: 'fer-mini-xception-h5', image: 'skimage_astronaut.png', cls: 3 },
  { name: 'tm-gestures', image: 'skimage_astronaut.png', cls: 1 },
];

describe.skipIf(!hasFixtures)(`issue-26 methods on the real fixtures (skipped without ${FIXTURES})`, () => {
  for (const m of MODELS) {
    it(`${m.name}: perturbation, noise-tunnel and new CAM methods equal their references`, async () => {
      const lm = await loadModel(await filesFromPaths([resolve(FIXTURES, 'models', m.name)]));
      const { program } = lm;
      const image = await decodeImageFile(resolve(FIXTURES, 'images', m.image));
      const x = preprocessImage(image, lm.summary.imageSize, resolvePreprocess(lm.summary.preprocess));
      const [, H, W, C] = x.shape;
      const xd = x.dataSync();
      const logitsOf = (input: tf.Tensor): Float32Array => tf.tidy(() => {
        const vs = plainValues(program, input);
        const out = Float32Array.from(logitFromSlots(program, (s) => vs[s] as tf.Tensor).dataSync());
        tf.dispose(vs.filter((v) => v !== input));
        return out;
      });
      const scoreOf = (mask: ArrayLike<number>) => {
        const t = tf.tensor4d(Float32Array.from(xd, (v, i) => v * (mask[Math.floor(i / C)] ?? 0)), [1, H, W, C]);
        const s = logitsOf(t)[m.cls] ?? 0;
        t.dispose();
        return s;
      };
      const full = logitsOf(x)[m.cls] ?? 0;
      const r = await lm.explain(image, {
        methods: ['occlusion', 'kernel-shap', 'lime', 'smoothgrad-sq', 'vargrad', 'kpca-cam', 'finer-cam'], target: m.cls,
        methodOptions: {
          'occlusion': { window: Math.floor(H / 4), stride: Math.floor(H / 4), baseline: 'zero', batchSize: 8 },
          'kernel-shap': { segments: 20, samples: 40, baseline: 'zero', batchSize: 8 },
          'lime': { segments: 20, samples: 40, baseline: 'zero', batchSize: 8 },
          'smoothgrad-sq': { samples: 4, noise: 0.1, batchSize: 2 },
          'vargrad': { samples: 4, noise: 0.1, batchSize: 2 },
        },
      });
      // Occlusion: 4 × 4 non-overlapping windows.
      const win = Math.floor(H / 4);
      const occlusion = new Float64Array(H * W);
      for (let y0 = 0; y0 + win <= H; y0 += win) for (let x0 = 0; x0 + win <= W; x0 += win) {
        const mask = new Float32Array(H * W).fill(1);
        for (let y = y0; y < y0 + win; y++) mask.fill(0, y * W + x0, y * W + x0 + win);
        const drop = full - scoreOf(mask);
        for (let y = y0; y < y0 + win; y++) for (let xx = x0; xx < x0 + win; xx++) occlusion[y * W + xx] = Math.max(0, drop);
      }
      expectMatches((r.maps.occlusion as HeatmapMethodMap).map.data, occlusion, `${m.name} Occlusion`);
      // KernelSHAP and LIME over the same SLIC segmentation.
      const seg = slic(xd, H, W, C, 20, 10);
      const paint = (z: ArrayLike<number>) => Float32Array.from(seg.labels, (l) => z[l] ?? 0);
      const { coalitions, weights } = kernelShapCoalitions(seg.count, 40);
      const phi = constrainedFitRef(coalitions, coalitions.map((z) => scoreOf(paint(z))), weights, scoreOf(new Float32Array(H * W)), full);
      expectMatches((r.maps['kernel-shap'] as HeatmapMethodMap).map.data, Float64Array.from(seg.labels, (l) => Math.max(0, phi[l] ?? 0)), `${m.name} KernelSHAP`);
      const limeZ = Array.from({ length: 40 }, (_, i) => limeCoalition(seg.count, i));
      const limePi = limeZ.map((z) => {
        const kept = Array.from(z).reduce((a, b) => a + b, 0);
        return Math.exp(-((1 - kept / (Math.sqrt(kept) * Math.sqrt(seg.count) || 1)) ** 2) / 0.0625);
      });
      const w = ridgeWithInterceptRef(limeZ, limeZ.map((z) => scoreOf(paint(z))), limePi, 1).slice(1);
      expectMatches((r.maps.lime as HeatmapMethodMap).map.data, Float64Array.from(seg.labels, (l) => Math.max(0, w[l] ?? 0)), `${m.name} LIME`);
      // SmoothGrad² and VarGrad over the same noise (batches 2 + 2).
      let low = Infinity;
      let high = -Infinity;
      for (const v of xd) [low, high] = [Math.min(low, v), Math.max(high, v)];
      const grads: Float32Array[] = [];
      for (const first of [0, 2]) {
        const noisy = tf.tidy(() => tf.add(x, smoothGradNoise(x.shape, 2, 0.1 * (high - low), first)));
        for (let i = 0; i < 2; i++) {
          const one = noisy.slice([i, 0, 0, 0], [1, H, W, C]);
          const vs = plainValues(program, one);
          const g = layerGradientRef(program, vs, program.inputSlot, m.cls);
          grads.push(Float32Array.from(g.dataSync()));
          tf.dispose([g, ...vs.filter((v) => v !== one), one]);
        }
        noisy.dispose();
      }
      const perPixel = (f: (i: number) => number) => Float64Array.from({ length: H * W }, (_, p) => {
        let s = 0;
        for (let k = 0; k < C; k++) s += f(p * C + k);
        return s;
      });
      expectMatches((r.maps['smoothgrad-sq'] as HeatmapMethodMap).map.data, perPixel((i) => grads.reduce((a, g) => a + (g[i] ?? 0) ** 2, 0) / 4), `${m.name} SmoothGrad²`);
      expectMatches((r.maps.vargrad as HeatmapMethodMap).map.data, perPixel((i) => {
        const mean = grads.reduce((a, g) => a + (g[i] ?? 0), 0) / 4;
        return grads.reduce((a, g) => a + ((g[i] ?? 0) - mean) ** 2, 0) / 4;
      }), `${m.name} VarGrad`);
      // Finer-CAM at the default layer: Grad-CAM of Σ_k (S_c − S_k) over the 3 nearest classes.
      const values = plainValues(program, x);
      const slot = program.slotsByPath.get(lm.summary.defaultLayerPath ?? '') ?? -1;
      const a = read3(values[slot] as tf.Tensor);
      const compared = nearestClasses(logitsOf(x), m.cls, 3);
      const gradOf = (k: number) => {
        const g = layerGradientRef(program, values, slot, k);
        const d = Float32Array.from(g.dataSync());
        g.dispose();
        return d;
      };
      const gc = gradOf(m.cls);
      const gk = compared.map(gradOf);
      const weightsK = new Float64Array(a.c);
      for (let i = 0; i < gc.length; i++) weightsK[i % a.c] = (weightsK[i % a.c] ?? 0) + (compared.length * (gc[i] ?? 0) - gk.reduce((s, g) => s + (g[i] ?? 0), 0));
      const finer = Float64Array.from({ length: a.h * a.w }, (_, i) => Math.max(0, Array.from(weightsK).reduce((s, wk, q) => s + wk * (a.data[i * a.c + q] ?? 0), 0)));
      expectMatches((r.maps['finer-cam'] as HeatmapMethodMap).map.data, finer, `${m.name} Finer-CAM`);
      expect(Math.max(...(r.maps['kpca-cam'] as HeatmapMethodMap).map.data)).toBeGreaterThan(0);
      tf.dispose([x, ...values]);
      lm.dispose();
    }, 600_000);
  }
});
