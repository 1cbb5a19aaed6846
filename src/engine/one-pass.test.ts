/**
 * A cold guided backprop or Grad-CAM on WASM/CPU computes the activations and the gradient in one
 * pass and keeps the activations as the image cache (gradientWithForward). It must equal the
 * two-pass route (plain forward, then a taped pass over the cached values) and leave a cache that
 * later requests use.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { buildTestModel, testImage, type TestModelCase } from './node/test-models';
import { loadedModelFromLayersModel } from './model';
import { registerFastWasmGradients } from './kernels/wasm-gradients';
import type { ExplainResult, LayerNode } from '../shared/types';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastWasmGradients();
});

function relativeError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    ref = Math.max(ref, Math.abs(b[i]!));
  }
  return diff / Math.max(1e-12, ref);
}

describe('one-pass gradients for a new image (WASM)', () => {
  for (const kind of ['a', 'c', 'e'] as TestModelCase[]) {
    it(`equals the two-pass result, for the top class and for a counterfactual target (case ${kind})`, async () => {
      const { model, innerLayerPath } = buildTestModel(kind, { classes: 4 });
      const loaded = await loadedModelFromLayersModel(model, { name: kind });
      const image = testImage();
      for (const options of [{ target: null }, { target: 2, counterfactual: true }]) {
        const request = { ...options, methods: ['guided-backprop', 'guided-gradcam'] as const, layerPath: innerLayerPath };
        loaded.clearCache();
        const onePass: ExplainResult = await loaded.explain(image, { ...request, methods: [...request.methods] });
        loaded.clearCache();
        await loaded.predict(image); // the plain forward fills the cache first: the two-pass route
        const twoPass: ExplainResult = await loaded.explain(image, { ...request, methods: [...request.methods] });
        expect(onePass.classIndex).toBe(twoPass.classIndex);
        expect(onePass.probability).toBeCloseTo(twoPass.probability, 5);
        expect(relativeError(onePass.guidedBackprop!.data, twoPass.guidedBackprop!.data)).toBeLessThanOrEqual(1e-4);
        expect(relativeError(onePass.guidedGradcam!.data, twoPass.guidedGradcam!.data)).toBeLessThanOrEqual(1e-4);
      }
      // The one-pass cache serves the next request (another layer's Grad-CAM) and frees cleanly.
      loaded.clearCache();
      await loaded.explain(image, { methods: ['guided-backprop'] });
      const before = tf.memory().numTensors;
      const cam = await loaded.explain(image, { methods: ['gradcam'], layerPath: innerLayerPath });
      expect(cam.cam!.data.some((v) => v > 0)).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
      loaded.dispose();
    });
  }

  it('after a one-pass guided backprop, Grad-CAM at every layer (folded conv outputs included) equals the two-pass one', async () => {
    const { model } = buildTestModel('e', { classes: 4 });
    const loaded = await loadedModelFromLayersModel(model, { name: 'every-layer' });
    const image = testImage();
    const paths: string[] = [];
    const visit = (n: LayerNode) => (n.children ? n.children.forEach(visit) : n.explainable && paths.push(n.path));
    visit(loaded.summary.tree);
    expect(paths.length).toBeGreaterThan(3);
    const camsAfter = async (prime: () => Promise<unknown>) => {
      loaded.clearCache();
      await prime();
      const out: Float32Array[] = [];
      for (const layerPath of paths) out.push((await loaded.explain(image, { methods: ['gradcam'], layerPath, target: 1 })).cam!.data);
      return out;
    };
    const onePass = await camsAfter(() => loaded.explain(image, { methods: ['guided-backprop'], target: 1 }));
    const twoPass = await camsAfter(() => loaded.predict(image));
    paths.forEach((path, i) => expect(relativeError(onePass[i]!, twoPass[i]!), path).toBeLessThanOrEqual(1e-4));
    loaded.dispose();
  });

  it('one-pass Grad-CAM for a new image equals the two-pass one at every layer, for the top class and a counterfactual target', async () => {
    const { model } = buildTestModel('e', { classes: 4 });
    const loaded = await loadedModelFromLayersModel(model, { name: 'one-pass-cam' });
    const image = testImage();
    const paths: string[] = [];
    const visit = (n: LayerNode) => (n.children ? n.children.forEach(visit) : n.explainable && paths.push(n.path));
    visit(loaded.summary.tree);
    expect(paths.length).toBeGreaterThan(3);
    const baseline = tf.memory().numTensors;
    for (const layerPath of paths) {
      for (const options of [{ target: null }, { target: 2, counterfactual: true }]) {
        const request = { ...options, methods: ['gradcam' as const], layerPath };
        loaded.clearCache();
        const onePass = await loaded.explain(image, request);
        loaded.clearCache();
        await loaded.predict(image); // the plain forward fills the cache first: the two-pass route
        const twoPass = await loaded.explain(image, request);
        expect(onePass.classIndex, layerPath).toBe(twoPass.classIndex);
        expect(onePass.camRawMax!, layerPath).toBeCloseTo(twoPass.camRawMax!, 4);
        expect(relativeError(onePass.cam!.data, twoPass.cam!.data), layerPath).toBeLessThanOrEqual(1e-4);
      }
    }
    // The one-pass cache serves the next requests (guided backprop, another layer) and frees cleanly.
    loaded.clearCache();
    await loaded.explain(image, { methods: ['gradcam'], layerPath: paths[0] });
    const guided = await loaded.explain(image, { methods: ['guided-backprop'] });
    loaded.clearCache();
    const reference = await loaded.explain(image, { methods: ['guided-backprop'] });
    expect(relativeError(guided.guidedBackprop!.data, reference.guidedBackprop!.data)).toBeLessThanOrEqual(1e-4);
    loaded.clearCache();
    expect(tf.memory().numTensors).toBe(baseline);
    loaded.dispose();
  });

  it('a bad target fails with CLASS_NOT_FOUND and leaks nothing', async () => {
    const { model } = buildTestModel('a', { classes: 3 });
    const loaded = await loadedModelFromLayersModel(model, { name: 'bad-target' });
    const before = tf.memory().numTensors;
    await expect(loaded.explain(testImage(), { methods: ['guided-backprop'], target: 7 })).rejects.toMatchObject({ code: 'CLASS_NOT_FOUND' });
    await expect(loaded.explain(testImage(), { methods: ['gradcam'], target: 7 })).rejects.toMatchObject({ code: 'CLASS_NOT_FOUND' });
    expect(tf.memory().numTensors).toBe(before);
    loaded.dispose();
  });
});
