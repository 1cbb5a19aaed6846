/**
 * LoadedModel on models built here: checks at load, the per-image cache (reuse and release), targets,
 * methods, warnings, and memory.
 */
import { fusedChains } from '../executor/compiled-forward';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildTestModel, roundTrip, testImage } from '../../test-support/test-models';
import { loadedModelFromLayersModel, loadedModelFromOpened, type LoadedModel } from './index';
import { flattenTree } from '../tree';
import { StudioError } from '../../shared/errors';
import type { RawImage } from '../files';
import { camOf, camRawMaxOf, camUpsampledOf, guidedBackpropOf, guidedGradcamOf } from '../../test-support/result-maps';
import type { MethodId } from '../../shared/methods';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | null> {
  try {
    await (typeof p === 'function' ? p() : p);
    return null;
  } catch (e) {
    return e instanceof StudioError ? e.code : `not a StudioError: ${String(e)}`;
  }
}

async function loaded(kind: 'a' | 'b' | 'c' | 'd' | 'e' = 'e', labels?: string[]): Promise<{ lm: LoadedModel; inner: string }> {
  const t = buildTestModel(kind);
  return { lm: await loadedModelFromLayersModel(t.model, { labels }), inner: t.innerLayerPath };
}

describe('LoadedModel', () => {
  it('summarises the model: nested tree, default layer inside the base, labels, logit head', async () => {
    const progress: string[] = [];
    const t = buildTestModel('e');
    const lm = await loadedModelFromLayersModel(t.model, { labels: ['w', 'x', 'y', 'z'], onProgress: (p) => progress.push(p.phase) });
    const s = lm.summary;
    expect(progress).toContain('warmup');
    expect(s.imageSize).toEqual([16, 16, 3]);
    expect(s.labels).toEqual(['w', 'x', 'y', 'z']);
    expect(s.labelsFromFile).toBe(true);
    expect(s.outputActivation).toBe('softmax');
    expect(s.defaultLayerPath).toBe(`${t.nestedModelPath}/${t.model.name}_model1_out_relu`);
    const nested = flattenTree(s.tree).find((n) => n.path === t.nestedModelPath);
    expect(nested?.children?.length).toBeGreaterThan(3);
    expect(nested?.explainable).toBe(true);
    expect(s.preprocess).toEqual({ normalization: 'unit', resize: 'stretch', source: 'default' });
    expect(s.warnings).toEqual([]);
    lm.dispose();
  });

  it('explains the logit: a softmax head (fused in Dense or a Softmax layer) gives the same maps as the linear head', async () => {
    const image = testImage();
    const results = [];
    for (const head of ['linear', 'softmax', 'softmax-layer'] as const) {
      const t = buildTestModel('c', { head, seed: 3 });
      const lm = await loadedModelFromLayersModel(t.model);
      expect(lm.summary.outputActivation).toBe(head === 'linear' ? 'linear' : 'softmax');
      results.push(await lm.explain(image, { target: 1, layerPath: t.innerLayerPath }));
      lm.dispose();
    }
    const [linear, fused, layer] = results;
    for (const r of [fused, layer]) {
      expect(r.score).toBeCloseTo(linear.score, 5);
      expect(r.predictions.map((p) => p.logit)).toEqual(linear.predictions.map((p) => expect.closeTo(p.logit, 5)));
      expect(Math.max(...camOf(r)!.data.map((v, i) => Math.abs(v - camOf(linear)!.data[i])))).toBeLessThan(1e-5);
      expect(Math.max(...guidedBackpropOf(r)!.data.map((v, i) => Math.abs(v - guidedBackpropOf(linear)!.data[i])))).toBeLessThan(1e-4);
    }
    // The probabilities are the softmax of the logits in every case.
    const logits = linear.predictions.map((p) => p.logit);
    const z = logits.reduce((n, l) => n + Math.exp(l), 0);
    linear.predictions.forEach((p, i) => expect(p.probability).toBeCloseTo(Math.exp(logits[i]) / z, 5));
  });

  it('explains with all three methods by default and with sizes that fit the layer and the input', async () => {
    const { lm, inner } = await loaded('c');
    const image = testImage();
    const r = await lm.explain(image, {});
    expect(r.layerPath).toBe(lm.summary.defaultLayerPath);
    expect(r.classIndex).toBe(r.predictions[0].index);
    expect(r.predictions.reduce((n, p) => n + p.probability, 0)).toBeCloseTo(1, 5);
    expect(camOf(r)).toMatchObject({ width: 8, height: 8 });
    expect(camUpsampledOf(r)).toMatchObject({ width: 16, height: 16 });
    expect(guidedBackpropOf(r)).toMatchObject({ width: 16, height: 16 });
    expect(guidedBackpropOf(r)!.data.length).toBe(16 * 16 * 3);
    expect(guidedGradcamOf(r)!.data.length).toBe(16 * 16 * 3);
    const camMax = Math.max(...camOf(r)!.data);
    expect(camRawMaxOf(r)! > 0 ? camMax : 0).toBeCloseTo(camRawMaxOf(r)! > 0 ? 1 : 0, 6);
    for (const v of [...camOf(r)!.data, ...camUpsampledOf(r)!.data, ...guidedBackpropOf(r)!.data]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    // An inner layer by path, a class by label, and the counterfactual.
    const r2 = await lm.explain(image, { layerPath: inner, target: 'class 2', counterfactual: true, methods: ['gradcam'] });
    expect(r2.layerPath).toBe(inner);
    expect(r2.classIndex).toBe(2);
    expect(r2.counterfactual).toBe(true);
    expect(r2.score).toBeCloseTo(-r2.predictions.find((p) => p.index === 2)!.logit, 5);
    expect(guidedBackpropOf(r2)).toBeUndefined();
    lm.dispose();
  });

  it('reuses the forward pass for a new class or the counterfactual of the same image', async () => {
    const { lm, inner } = await loaded('e');
    const firstLayer = lm.program.steps[0].layer;
    let calls = 0;
    const original = firstLayer.apply.bind(firstLayer);
    firstLayer.apply = ((...args: Parameters<typeof original>) => {
      calls++;
      return original(...args);
    }) as typeof firstLayer.apply;
    const image = testImage();
    await lm.explain(image, { methods: ['gradcam'], layerPath: inner });
    expect(calls).toBe(1);
    await lm.explain(image, { methods: ['gradcam'], layerPath: inner, target: 3 });
    await lm.explain(image, { methods: ['gradcam'], layerPath: inner, target: 3, counterfactual: true });
    await lm.explain(image, { methods: ['gradcam'] }); // another layer, same image
    expect(calls).toBe(1);
    await lm.explain(testImage(), { methods: ['gradcam'] }); // a new image
    expect(calls).toBe(2);
    await lm.explain(image, { methods: ['gradcam'], preprocess: { resize: 'center-crop' } });
    expect(calls).toBe(3);
    lm.dispose();
  });

  it('reuses the guided backprop gradient when only the layer changes', async () => {
    const { lm, inner } = await loaded('e');
    // steps[2] is the depthwise conv: the forward pass calls it; a backward pass never does (it uses
    // its kernel, or the kernel folded with its batch norm).
    const layer = lm.program.steps[2].layer;
    expect(layer.getClassName()).toBe('DepthwiseConv2D');
    let forwardCalls = 0;
    const apply = layer.apply.bind(layer);
    layer.apply = ((...args: Parameters<typeof apply>) => {
      forwardCalls++;
      return apply(...args);
    }) as typeof layer.apply;
    const image = testImage();
    const first = await lm.explain(image, { layerPath: inner, target: 1 });
    // Its conv → BN chain runs as one fused call in the compiled pass (on CPU): the layer is not called.
    const calls = fusedChains(lm.program).has(2) ? 0 : 1;
    expect(forwardCalls).toBe(calls);
    const second = await lm.explain(image, { target: 1 }); // another layer
    expect(forwardCalls).toBe(calls); // activations cached
    expect(guidedBackpropOf(second)!.data).toEqual(guidedBackpropOf(first)!.data); // reused
    expect(guidedGradcamOf(second)!.data).not.toEqual(guidedGradcamOf(first)!.data);
    // A new class and the counterfactual recompute the gradients: backward passes only, no forward pass.
    const third = await lm.explain(image, { target: 2 });
    const fourth = await lm.explain(image, { target: 2, counterfactual: true });
    expect(forwardCalls).toBe(calls);
    expect(guidedBackpropOf(third)!.data).not.toEqual(guidedBackpropOf(first)!.data);
    expect(camOf(fourth)!.data).not.toEqual(camOf(third)!.data);
    lm.dispose();
  });

  it('leaves tensor counts where it found them, and releases the image cache on a new image and on dispose', async () => {
    // tfjs itself leaves a couple of tensors behind when a freshly built model is disposed; measure that first.
    let baseline = tf.memory().numTensors;
    buildTestModel('d').model.dispose();
    const tfjsOwnLeak = tf.memory().numTensors - baseline;
    baseline = tf.memory().numTensors;
    const { lm } = await loaded('d');
    const afterLoad = tf.memory().numTensors;
    const image = testImage();
    await lm.explain(image, {});
    const withCache = tf.memory().numTensors;
    expect(withCache).toBeGreaterThan(afterLoad);
    for (let i = 0; i < 3; i++) await lm.explain(image, { target: i, counterfactual: i === 1 });
    expect(tf.memory().numTensors).toBe(withCache);
    await lm.explain(testImage(30, 10), {}); // new image: old cache released, one cache of the same size
    expect(tf.memory().numTensors).toBe(withCache);
    lm.clearCache();
    expect(tf.memory().numTensors).toBe(afterLoad);
    await lm.predict(image);
    lm.dispose();
    expect(tf.memory().numTensors).toBe(baseline + tfjsOwnLeak);
  });

  it('reports coded errors for a bad layer, class or input and warns on what it can work around', async () => {
    const { lm } = await loaded('a');
    const image = testImage();
    expect(await codeOf(lm.explain(image, { layerPath: 'nope/nothing' }))).toBe('LAYER_NOT_FOUND');
    const denseLeaf = flattenTree(lm.summary.tree).find((n) => n.className === 'Dense')!;
    expect(await codeOf(lm.explain(image, { layerPath: denseLeaf.path }))).toBe('LAYER_NOT_SPATIAL');
    expect(await codeOf(lm.explain(image, { target: 'no such class' }))).toBe('CLASS_NOT_FOUND');
    expect(await codeOf(lm.explain(image, { target: 9 }))).toBe('CLASS_NOT_FOUND');
    // An id the registry does not know (an old bookmark, a typo in a script): a coded error, not INTERNAL.
    expect(await codeOf(lm.explain(image, { methods: ['grad-cam' as MethodId] }))).toBe('METHOD_UNKNOWN');
    const controller = new AbortController();
    controller.abort();
    expect(await codeOf(lm.explain(image, {}, controller.signal))).toBe('CANCELLED');
    lm.dispose();

    const a = tf.input({ shape: [8, 8, 3] });
    const b = tf.input({ shape: [8, 8, 3] });
    const twoIn = tf.model({ inputs: [a, b], outputs: tf.layers.add().apply([a, b]) as tf.SymbolicTensor });
    expect(await codeOf(loadedModelFromLayersModel(twoIn))).toBe('MULTI_INPUT');

    const flat = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [10] })] });
    expect(await codeOf(loadedModelFromLayersModel(flat))).toBe('INPUT_NOT_IMAGE');

    // Multi-output: warning, output 0 explained.
    const inp = tf.input({ shape: [8, 8, 3] });
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }).apply(inp) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(conv) as tf.SymbolicTensor;
    const out1 = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(pooled) as tf.SymbolicTensor;
    const out2 = tf.layers.dense({ units: 1 }).apply(pooled) as tf.SymbolicTensor;
    const multi = await loadedModelFromLayersModel(tf.model({ inputs: inp, outputs: [out1, out2] }));
    expect(multi.summary.warnings.map((w) => w.code)).toContain('MULTI_OUTPUT');
    expect(multi.summary.outputs.map((o) => [o.head, o.labels.length])).toEqual([['softmax', 3], ['binary', 2]]);
    expect(multi.summary.defaultOutput).toBe(0);
    expect((await multi.explain(image, {})).predictions).toHaveLength(3);
    // The output chooser: the single-unit output is explained as its two classes.
    const second = await multi.explain(image, { output: 1, target: 1, methods: ['gradcam'] });
    expect(second.output).toBe(1);
    expect(second.predictions.map((p) => p.label).sort()).toEqual(['class 0', 'not class 0']);
    expect(second.classLabel).toBe('not class 0');
    expect(await codeOf(multi.explain(image, { output: 2 }))).toBe('OUTPUT_NOT_FOUND');
    multi.dispose();

    // No spatial layer: warning at load; guided backprop still works.
    const noSpatial = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [4, 4, 3] }), tf.layers.dense({ units: 2, activation: 'relu' }), tf.layers.dense({ units: 2 })] });
    const ns = await loadedModelFromLayersModel(noSpatial);
    expect(ns.summary.defaultLayerPath).toBeNull();
    expect(ns.summary.warnings.map((w) => w.code)).toContain('NO_SPATIAL_LAYER');
    const r = await ns.explain(image, {});
    expect(guidedBackpropOf(r)).toBeDefined();
    expect(camOf(r)).toBeUndefined();
    expect(r.warnings.map((w) => w.code)).toContain('NO_SPATIAL_LAYER');
    ns.dispose();
  });

  it('warns MAP_ALL_ZERO when a class has no positive evidence at the layer', async () => {
    // A conv whose ReLU output feeds a head that only lowers class 0: its Grad-CAM is ReLU(negative) = 0.
    const input = tf.input({ shape: [6, 6, 3] });
    const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu', kernelInitializer: 'ones', biasInitializer: 'ones', name: 'conv' }).apply(input) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(conv) as tf.SymbolicTensor;
    const dense = tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.constant({ value: -1 }), name: 'head' }).apply(pooled) as tf.SymbolicTensor;
    const lm = await loadedModelFromLayersModel(tf.model({ inputs: input, outputs: dense, name: 'neg' }));
    const r = await lm.explain(testImage(6, 6), { methods: ['gradcam'], target: 0 });
    expect(camRawMaxOf(r)).toBe(0);
    expect(camOf(r)!.data.every((v) => v === 0)).toBe(true);
    expect(r.warnings.map((w) => w.code)).toContain('MAP_ALL_ZERO');
    const cf = await lm.explain(testImage(6, 6), { methods: ['gradcam'], target: 0, counterfactual: true });
    expect(camRawMaxOf(cf)).toBeGreaterThan(0);
    expect(cf.warnings).toEqual([]);
    lm.dispose();
  });

  it('loads from opened artifacts (the path every format reader takes) and maps build failures to codes', async () => {
    const t = buildTestModel('b');
    let artifacts: tf.io.ModelArtifacts | null = null;
    await t.model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const lm = await loadedModelFromOpened({ name: 'm', format: 'tfjs-layers', artifacts: artifacts!, labels: ['p', 'q', 'r', 's'], preprocess: { normalization: 'symmetric', resize: 'center-crop', source: 'metadata.json' }, warnings: [] });
    expect(lm.summary.preprocess).toEqual({ normalization: 'symmetric', resize: 'center-crop', source: 'metadata.json' });
    expect(lm.summary.weightBytes).toBeGreaterThan(0);
    const ours = await lm.predict(testImage());
    expect(ours.map((p) => p.label).sort()).toEqual(['p', 'q', 'r', 's']);
    lm.dispose();
    const broken = { ...artifacts!, modelTopology: { class_name: 'Sequential', config: { name: 'x', layers: [{ class_name: 'NoSuchLayer', config: { name: 'bad', batch_input_shape: [null, 4, 4, 3] } }] } } };
    expect(await codeOf(loadedModelFromOpened({ name: 'bad', format: 'tfjs-layers', artifacts: broken, warnings: [] }))).toMatch(/UNSUPPORTED_LAYER|MODEL_BUILD_FAILED/);
    t.model.dispose();
  });

  it('explains the same after a save/load round trip', async () => {
    const t = buildTestModel('e');
    const reloaded = await roundTrip(t.model);
    const a = await loadedModelFromLayersModel(t.model);
    const b = await loadedModelFromLayersModel(reloaded);
    const image: RawImage = testImage();
    const ra = await a.explain(image, { layerPath: t.innerLayerPath, target: 1 });
    const rb = await b.explain(image, { layerPath: t.innerLayerPath, target: 1 });
    expect(rb.layerPath).toBe(ra.layerPath);
    expect(Math.max(...camOf(ra)!.data.map((v, i) => Math.abs(v - camOf(rb)!.data[i])))).toBeLessThan(1e-5);
    expect(Math.max(...guidedBackpropOf(ra)!.data.map((v, i) => Math.abs(v - guidedBackpropOf(rb)!.data[i])))).toBeLessThan(1e-4);
    a.dispose();
    b.dispose();
  });
});
