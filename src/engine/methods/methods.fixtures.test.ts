/**
 * The methods on real models nobody on this project made (../shared/fixtures), on WASM with the fast
 * gradient kernels — a MobileNetV2 two models deep (Teachable Machine), a darknet with LeakyReLU and
 * max pooling, a Keras mini-Xception with separable convs (grayscale) — against the references of
 * src/test-support/method-reference.ts (tape gradients through the executor's plain path): Pearson correlation
 * ≥ 0.999. The batched passes (Integrated Gradients, SmoothGrad, Score-CAM, Ablation-CAM) run here
 * with batches of several images through the written-out backward pass. Skips cleanly when the
 * folder is absent.
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
import { scoreFunction } from '../executor/gradient';
import { smoothGradNoise } from './smoothgrad';
import type { MethodId } from '../../shared/methods';
import type { HeatmapMethodMap, RgbMethodMap } from '../../shared/types';
import {
  CAM_REFERENCES, guidedGradientRef, layerGradientRef, pearson, plainValues, read3, resize,
} from '../../test-support/method-reference';

const FIXTURES = resolve(process.cwd(), '../shared/fixtures');
const hasFixtures = existsSync(resolve(FIXTURES, 'models')) && existsSync(resolve(FIXTURES, 'images'));

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastWasmGradients();
});

const MIN_CORRELATION = 0.999;

/** Largest and smallest value (no spread: these arrays can be too long for Math.max(...a)). */
function extent(a: ArrayLike<number>): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < a.length; i++) {
    low = Math.min(low, a[i]!);
    high = Math.max(high, a[i]!);
  }
  return [low, high];
}

function expectMatches(engine: ArrayLike<number>, reference: ArrayLike<number>, what: string): void {
  if (!(extent(reference)[1] > 0)) {
    expect(extent(engine)[1], `${what}: the reference is all zero`).toBe(0);
    return;
  }
  const r = pearson(engine, reference);
  expect(r, what).toBeGreaterThanOrEqual(MIN_CORRELATION);
  lowest[what] = r;
}

const lowest: Record<string, number> = {};


const MODELS = [
  { name: 'tm-gestures', image: 'skimage_astronaut.png', cls: 1, ablation: true, scoreCam: false, input: true },
  { name: 'darknet-tiny-imagenet/model.json', image: 'skimage_coffee_cup.png', cls: null, ablation: true, scoreCam: false, input: false },
  { name: 'fer-mini-xception-h5', image: 'skimage_astronaut.png', cls: 3, ablation: true, scoreCam: true, input: true },
];

describe.skipIf(!hasFixtures)(`methods on the real fixtures (skipped without ${FIXTURES})`, () => {
  for (const m of MODELS) {
    it(`${m.name}: the layer methods at the default layer${m.input ? ' and the input methods' : ''} equal their references`, async () => {
      const lm = await loadModel(await filesFromPaths([resolve(FIXTURES, 'models', m.name)]));
      const { program } = lm;
      const image = await decodeImageFile(resolve(FIXTURES, 'images', m.image));
      const x = preprocessImage(image, lm.summary.imageSize, resolvePreprocess(lm.summary.preprocess));
      const values = plainValues(program, x);
      const cls = m.cls ?? (await lm.predict(image))[0]!.index; // darknet: the top-1 class (espresso)
      const layerPath = lm.summary.defaultLayerPath!;
      const slot = program.slotsByPath.get(layerPath)!;
      const a = read3(values[slot]!);
      const gT = layerGradientRef(program, values, slot, cls);
      const g = read3(gT);
      gT.dispose();
      const layerMethods: MethodId[] = [...CAM_REFERENCES.map(([id]) => id), ...(m.ablation ? ['ablationcam' as const] : []), ...(m.scoreCam ? ['scorecam' as const] : [])];
      const r = await lm.explain(image, { methods: layerMethods, target: cls, methodOptions: { ablationcam: { batchSize: 64 }, scorecam: { batchSize: 4 } } });
      for (const [id, reference] of CAM_REFERENCES) expectMatches((r.maps[id] as HeatmapMethodMap).map.data, reference(a, g), `${m.name} ${id}`);
      const score = tf.tidy(() => scoreFunction(program, values, slot, cls, { path: 'plain' })(values[slot]!).dataSync()[0]!);
      if (m.ablation) {
        // Channel k zeroed, the rest through tfjs-layers' own calls.
        const weights = Array.from({ length: a.c }, (_, k) => tf.tidy(() => {
          const zeroed = tf.mul(values[slot]!, tf.sub(1, tf.oneHot([k], a.c).reshape([1, 1, 1, a.c])));
          return (score - scoreFunction(program, values, slot, cls, { path: 'plain' })(zeroed).dataSync()[0]!) / score;
        }));
        const reference = new Float64Array(a.h * a.w).map((_, i) => Math.max(0, weights.reduce((sum, w, k) => sum + w * a.data[i * a.c + k]!, 0)));
        expectMatches((r.maps.ablationcam as HeatmapMethodMap).map.data, reference, `${m.name} Ablation-CAM`);
      }
      if (m.scoreCam) {
        const [, height, width] = x.shape;
        const scores = Array.from({ length: a.c }, (_, k) => tf.tidy(() => {
          const up = resize(Array.from({ length: a.h * a.w }, (_, i) => a.data[i * a.c + k]!), a.h, a.w, [height, width]);
          const [low, high] = extent(up);
          const masked = tf.mul(x, tf.tensor4d(Float32Array.from(up, (v) => (v - low) / (high - low + 1e-8)), [1, height, width, 1]));
          const maskedValues = runPlain(program, masked);
          return scoreFunction(program, maskedValues, program.inputSlot, cls, { path: 'plain' })(masked).dataSync()[0]!;
        }));
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((p, q) => p + q, 0);
        const reference = new Float64Array(a.h * a.w).map((_, i) => Math.max(0, exps.reduce((sum, e, k) => sum + (e / total) * a.data[i * a.c + k]!, 0)));
        expectMatches((r.maps.scorecam as HeatmapMethodMap).map.data, reference, `${m.name} Score-CAM`);
      }
      if (m.input) {
        const steps = 8;
        const samples = 4;
        const ri = await lm.explain(image, {
          methods: ['vanilla-gradient', 'gradient-x-input', 'integrated-gradients', 'smoothgrad', 'guided-backprop'], target: cls,
          methodOptions: { 'integrated-gradients': { steps, baseline: 'zero', batchSize: 4 }, 'smoothgrad': { samples, noise: 0.1, batchSize: 2 } },
        });
        const gradientAtInput = (input: tf.Tensor) => {
          const vs = runPlain(program, input);
          const gradient = layerGradientRef(program, vs, program.inputSlot, cls);
          const data = gradient.dataSync().slice();
          tf.dispose([gradient, ...vs.filter((v) => v !== input)]);
          return data;
        };
        const gx = gradientAtInput(x);
        const xd = x.dataSync();
        const c = x.shape[3];
        const pixels = gx.length / c;
        const perPixel = (f: (i: number) => number, abs: boolean) => Float64Array.from({ length: pixels }, (_, p) => {
          let sum = 0;
          for (let k = 0; k < c; k++) sum += abs ? Math.abs(f(p * c + k)) : f(p * c + k);
          return abs ? sum : Math.max(0, sum);
        });
        expectMatches((ri.maps['vanilla-gradient'] as HeatmapMethodMap).map.data, perPixel((i) => gx[i]!, true), `${m.name} vanilla gradient`);
        expectMatches((ri.maps['gradient-x-input'] as HeatmapMethodMap).map.data, perPixel((i) => gx[i]! * xd[i]!, false), `${m.name} gradient × input`);
        const integral = new Float64Array(gx.length);
        for (let k = 0; k < steps; k++) {
          const point = tf.mul(x, (k + 0.5) / steps);
          gradientAtInput(point).forEach((v, j) => (integral[j] += v / steps));
          point.dispose();
        }
        expectMatches((ri.maps['integrated-gradients'] as HeatmapMethodMap).map.data, perPixel((i) => xd[i]! * integral[i]!, false), `${m.name} Integrated Gradients`);
        const [low, high] = extent(xd);
        const range = high - low;
        const mean = new Float64Array(gx.length);
        for (const first of [0, 2]) {
          const noisy = tf.tidy(() => tf.add(x, smoothGradNoise(x.shape, 2, 0.1 * range, first)));
          for (let i = 0; i < 2; i++) {
            const one = noisy.slice([i, 0, 0, 0], [1, ...x.shape.slice(1)]);
            gradientAtInput(one).forEach((v, j) => (mean[j] += v / samples));
            one.dispose();
          }
          noisy.dispose();
        }
        expectMatches((ri.maps.smoothgrad as HeatmapMethodMap).map.data, perPixel((i) => mean[i]!, true), `${m.name} SmoothGrad`);
        const guided = guidedGradientRef(program, values, cls);
        const gd = guided.dataSync();
        expectMatches((ri.maps['guided-backprop'] as RgbMethodMap).saliency.data, perPixel((i) => gd[i]!, true), `${m.name} guided backprop`);
        guided.dispose();
      }
      tf.dispose(values);
      lm.dispose();
    }, 240_000);
  }

  it('prints the correlations', () => {
    console.log('Pearson correlation, engine vs reference, on the fixtures:\n' + Object.entries(lowest).map(([k, v]) => `  ${k}: ${v.toFixed(6)}`).join('\n'));
  });
});

function runPlain(program: Parameters<typeof plainValues>[0], input: tf.Tensor): tf.Tensor[] {
  return plainValues(program, input);
}
