import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { StudioError } from '../../../shared/errors';
import { assertSupportedLayers, kerasSnakeCase, keras3ObjectPaths, normalizeKerasConfig, type JsonObject } from './config';
import { buildSkeleton, isKnownTfjsClass } from './skeleton';
import { mapKeras2Weights, mapKeras3Weights, toArtifacts, type StoredWeight } from './weights';
import { functionalConfig, functionalTransferConfig, layer, model, nestedConfig, sequentialConfig, sharedLayerConfig, inputLayer, call, tensor } from './test-configs';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

function thrown(fn: () => unknown): StudioError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StudioError);
    return e as StudioError;
  }
  throw new Error('expected a StudioError');
}

async function thrownAsync(fn: () => Promise<unknown>): Promise<StudioError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StudioError);
    return e as StudioError;
  }
  throw new Error('expected a StudioError');
}

/** A stored weight with distinct, recognisable values: `seed + i / 1000`. */
function stored(shape: number[], seed: number): StoredWeight {
  const size = shape.reduce((a, b) => a * b, 1);
  return { shape, read: () => Float32Array.from({ length: size }, (_, i) => seed + i / 1000) };
}

describe('kerasSnakeCase (Keras naming.to_snake_case)', () => {
  it.each([
    ['Conv2D', 'conv2d'],
    ['BatchNormalization', 'batch_normalization'],
    ['SeparableConv2D', 'separable_conv2d'],
    ['GlobalAveragePooling2D', 'global_average_pooling2d'],
    ['DepthwiseConv2D', 'depthwise_conv2d'],
    ['ReLU', 're_lu'],
    ['Functional', 'functional'],
  ])('%s → %s', (name, snake) => expect(kerasSnakeCase(name)).toBe(snake));
});

describe('normalizeKerasConfig', () => {
  it('rewrites the Keras 3 forms tfjs-layers 4.22 rejects and leaves nothing Keras-3-only behind', () => {
    const topology = normalizeKerasConfig(functionalConfig(), { keras_version: '3.5.0' });
    const text = JSON.stringify(topology);
    for (const gone of ['"module"', 'registered_name', 'build_config', '__keras_tensor__', 'DTypePolicy', '"batch_shape"', '"args"']) expect(text).not.toContain(gone);
    expect(topology.class_name).toBe('Model');
    expect(topology.keras_version).toBe('3.5.0');
    const config = topology.config as JsonObject;
    expect(config.input_layers).toEqual([['input_layer', 0, 0]]);
    expect(config.output_layers).toEqual([['dense', 0, 0]]);
    const layers = config.layers as JsonObject[];
    expect((layers[0].config as JsonObject).batch_input_shape).toEqual([null, 8, 8, 3]);
    expect((layers[1].config as JsonObject).dtype).toBe('float32');
    expect(layers[1].inbound_nodes).toEqual([[['input_layer', 0, 0, {}]]]);
    // Add's single list argument becomes two inbound tensors of one node.
    expect(layers[4].inbound_nodes).toEqual([[['conv2d', 0, 0, {}], ['conv2d_1', 0, 0, {}]]]);
    expect((layers[1].config as JsonObject).kernel_initializer).toEqual({ class_name: 'GlorotUniform', config: { seed: null } });
  });

  it('leaves a Keras 2 config without nested models as it is', () => {
    const keras2 = normalizeKerasConfig(functionalConfig());
    expect(normalizeKerasConfig(keras2)).toEqual(keras2);
  });

  it.each([
    ['functional', functionalConfig, [null, 8, 8, 3], [null, 3], 7],
    ['Sequential', sequentialConfig, [null, 8, 8, 3], [null, 2], 7],
    ['nested Sequential > Functional', nestedConfig, [null, 8, 8, 3], [null, 3], 4],
    ['shared layer called twice', sharedLayerConfig, [null, 4], [null, 2], 5],
    ['functional calling a nested functional base', functionalTransferConfig, [null, 8, 8, 3], [null, 3], 5],
  ] as const)('normalises a %s model into one tfjs-layers builds and runs', async (_, make, inputShape, outputShape, layerCount) => {
    const { model: built } = await buildSkeleton(make());
    try {
      expect(built.inputs[0].shape).toEqual(inputShape);
      expect(built.outputs[0].shape).toEqual(outputShape);
      expect(built.layers).toHaveLength(layerCount);
      const inputs = built.inputs.map((input) => tf.ones([2, ...(input.shape.slice(1) as number[])]));
      const out = built.predict(inputs.length === 1 ? inputs[0] : inputs) as tf.Tensor;
      expect(out.shape).toEqual([2, outputShape[1]]);
      expect(Number.isFinite(out.sum().dataSync()[0])).toBe(true);
      tf.dispose([...inputs, out]);
    } finally {
      built.dispose();
    }
  });

  it('shifts calls of a nested model past its construction node, as Keras does when loading', () => {
    const config = normalizeKerasConfig(functionalTransferConfig()).config as JsonObject;
    const gap = (config.layers as JsonObject[]).find((l) => l.name === 'gap')!;
    expect(gap.inbound_nodes).toEqual([[['mobilenet', 1, 0, {}]]]);
    const base = (config.layers as JsonObject[]).find((l) => l.name === 'mobilenet')!;
    expect(base.inbound_nodes).toEqual([[['input_layer_1', 0, 0, { training: false }]]]);
    expect((base.config as JsonObject).output_layers).toEqual([['out_relu', 0, 0]]);
  });

  it('keeps the nested base as a model with its own layers', async () => {
    const { model: built } = await buildSkeleton(nestedConfig());
    const base = built.getLayer('base') as tf.LayersModel;
    expect(base.layers.map((l) => l.name)).toEqual(['image', 'stem', 'stem_bn', 'top_conv', 'top_relu']);
    built.dispose();
  });
});

describe('assertSupportedLayers', () => {
  it('names a Lambda layer and its class, even nested', () => {
    const config = nestedConfig();
    const base = ((config.config as JsonObject).layers as JsonObject[])[1];
    ((base.config as JsonObject).layers as JsonObject[]).push(layer('Lambda', 'scale_by_two', { function: { class_name: '__lambda__', config: { code: '...' } } }, [call(tensor('top_relu'))]));
    const error = thrown(() => assertSupportedLayers(config, isKnownTfjsClass));
    expect(error.code).toBe('UNSUPPORTED_LAYER');
    expect(error.message).toContain('"scale_by_two"');
    expect(error.message).toContain('Lambda');
  });

  it('names a custom class (unknown to tfjs, or registered as Package>Name)', () => {
    const unknown = model('Functional', { name: 'm', layers: [inputLayer('x', [null, 4], true), layer('MyAttention', 'attn', {}, [call(tensor('x'))])], input_layers: [['x', 0, 0]], output_layers: [['attn', 0, 0]] });
    expect(thrown(() => assertSupportedLayers(unknown, isKnownTfjsClass)).message).toContain('Layer "attn" uses class MyAttention');
    const registered = sequentialConfig();
    ((registered.config as JsonObject).layers as JsonObject[])[5].registered_name = 'my_package>Dense';
    const error = thrown(() => assertSupportedLayers(registered, isKnownTfjsClass));
    expect(error.code).toBe('UNSUPPORTED_LAYER');
    expect(error.message).toContain('"dense"');
  });

  it('accepts the built-in layers of all four test models', () => {
    for (const make of [functionalConfig, sequentialConfig, nestedConfig, sharedLayerConfig]) expect(() => assertSupportedLayers(make(), isKnownTfjsClass)).not.toThrow();
  });
});

describe('Keras 3 weight paths', () => {
  it('reproduces Keras object paths: snake_case class, _N per class within each container, nested under layers/', () => {
    const paths = keras3ObjectPaths(nestedConfig());
    expect(Object.fromEntries(paths)).toEqual({
      input_layer: 'layers/input_layer',
      base: 'layers/functional',
      'base/image': 'layers/functional/layers/input_layer',
      'base/stem': 'layers/functional/layers/conv2d',
      'base/stem_bn': 'layers/functional/layers/batch_normalization',
      'base/top_conv': 'layers/functional/layers/conv2d_1',
      'base/top_relu': 'layers/functional/layers/re_lu',
      pool: 'layers/global_average_pooling2d',
      head: 'layers/dense',
    });
  });

  // Paths written by hand as Keras 3 saves them, for each test model.
  const cases: [string, () => JsonObject, Record<string, string[]>][] = [
    ['functional', functionalConfig, { 'layers/conv2d': ['conv2d/kernel', 'conv2d/bias'], 'layers/batch_normalization': ['batch_normalization/gamma', 'batch_normalization/beta', 'batch_normalization/moving_mean', 'batch_normalization/moving_variance'], 'layers/conv2d_1': ['conv2d_1/kernel', 'conv2d_1/bias'], 'layers/dense': ['dense/kernel', 'dense/bias'] }],
    ['Sequential', sequentialConfig, { 'layers/conv2d': ['conv2d/kernel', 'conv2d/bias'], 'layers/conv2d_1': ['conv2d_1/kernel', 'conv2d_1/bias'], 'layers/dense': ['dense/kernel', 'dense/bias'], 'layers/dense_1': ['dense_1/kernel', 'dense_1/bias'] }],
    ['nested', nestedConfig, { 'layers/functional/layers/conv2d': ['stem/kernel', 'stem/bias'], 'layers/functional/layers/batch_normalization': ['stem_bn/gamma', 'stem_bn/beta', 'stem_bn/moving_mean', 'stem_bn/moving_variance'], 'layers/functional/layers/conv2d_1': ['top_conv/kernel', 'top_conv/bias'], 'layers/dense': ['head/kernel', 'head/bias'] }],
    ['shared layer', sharedLayerConfig, { 'layers/dense': ['shared/kernel', 'shared/bias'], 'layers/dense_1': ['dense/kernel', 'dense/bias'] }],
    ['functional > functional', functionalTransferConfig, { 'layers/functional/layers/conv2d': ['Conv1/kernel', 'Conv1/bias'], 'layers/functional/layers/batch_normalization': ['bn_Conv1/gamma', 'bn_Conv1/beta', 'bn_Conv1/moving_mean', 'bn_Conv1/moving_variance'], 'layers/dense': ['dense/kernel', 'dense/bias'] }],
  ];

  it.each(cases)('maps every vars/<i> of a %s model onto the right variable, and the model runs with them', async (_, make, layout) => {
    const raw = make();
    const { topology, model: skeleton } = await buildSkeleton(raw);
    const shapes = new Map(skeleton.weights.map((w) => [w.originalName, w.shape as number[]]));
    const store = new Map<string, StoredWeight>();
    const expectedFirstValue = new Map<string, number>();
    let seed = 1;
    for (const [objectPath, names] of Object.entries(layout)) {
      names.forEach((name, i) => {
        store.set(`${objectPath}/vars/${i}`, stored(shapes.get(name)!, seed));
        expectedFirstValue.set(name, seed++);
      });
    }
    store.set('optimizer/vars/0', stored([1], 99)); // ignored
    const mapped = mapKeras3Weights(skeleton, keras3ObjectPaths(raw), store);
    skeleton.dispose();
    expect(mapped.map((w) => w.name).sort()).toEqual([...expectedFirstValue.keys()].sort());
    for (const w of mapped) expect(w.data[0], w.name).toBeCloseTo(expectedFirstValue.get(w.name)!, 6);

    const loaded = await tf.loadLayersModel(tf.io.fromMemory(toArtifacts(topology, mapped)));
    for (const w of loaded.weights) expect(w.read().dataSync()[0], w.originalName).toBeCloseTo(expectedFirstValue.get(w.originalName)!, 6);
    loaded.dispose();
  });

  it('reports a shape mismatch naming both shapes, and a missing path', async () => {
    const raw = sequentialConfig();
    const { model: skeleton } = await buildSkeleton(raw);
    const shapes = new Map(skeleton.weights.map((w) => [w.originalName, w.shape as number[]]));
    const good = (): Map<string, StoredWeight> =>
      new Map([
        ['layers/conv2d/vars/0', stored(shapes.get('conv2d/kernel')!, 1)],
        ['layers/conv2d/vars/1', stored(shapes.get('conv2d/bias')!, 2)],
        ['layers/conv2d_1/vars/0', stored(shapes.get('conv2d_1/kernel')!, 3)],
        ['layers/conv2d_1/vars/1', stored(shapes.get('conv2d_1/bias')!, 4)],
        ['layers/dense/vars/0', stored(shapes.get('dense/kernel')!, 5)],
        ['layers/dense/vars/1', stored(shapes.get('dense/bias')!, 6)],
        ['layers/dense_1/vars/0', stored(shapes.get('dense_1/kernel')!, 7)],
        ['layers/dense_1/vars/1', stored(shapes.get('dense_1/bias')!, 8)],
      ]);
    const paths = keras3ObjectPaths(raw);
    expect(mapKeras3Weights(skeleton, paths, good())).toHaveLength(8);
    const wrong = good();
    wrong.set('layers/conv2d_1/vars/0', stored([3, 3, 4, 7], 3));
    const mismatch = thrown(() => mapKeras3Weights(skeleton, paths, wrong));
    expect(mismatch.code).toBe('WEIGHT_SHAPE_MISMATCH');
    expect(mismatch.message).toContain('conv2d_1/kernel');
    expect(mismatch.message).toContain('[3, 3, 4, 7]');
    expect(mismatch.message).toContain('[3, 3, 4, 6]');
    const missing = good();
    missing.delete('layers/dense_1/vars/1');
    const error = thrown(() => mapKeras3Weights(skeleton, paths, missing));
    expect(error.code).toBe('KERAS_UNSUPPORTED');
    expect(error.message).toContain('layers/dense_1/vars/1');
    skeleton.dispose();
  });
});

describe('Keras 2 weight groups', () => {
  it('matches nested weights by name whatever their order, with or without the nested model prefix', async () => {
    const raw = nestedConfig();
    const { model: skeleton } = await buildSkeleton(raw);
    const shapes = new Map(skeleton.weights.map((w) => [w.originalName, w.shape as number[]]));
    // Keras 2 order for a frozen nested model: everything trainable first, moving statistics last.
    const baseNames = ['base/stem/kernel:0', 'stem/bias:0', 'base/stem_bn/gamma:0', 'stem_bn/beta:0', 'base/top_conv/kernel:0', 'base/top_conv/bias:0', 'stem_bn/moving_mean:0', 'base/stem_bn/moving_variance:0'];
    const groups = [
      { layer: 'base', weights: baseNames.map((name, i) => ({ name, weight: stored(shapes.get(name.replace(/^base\//, '').replace(':0', ''))!, 10 + i) })) },
      { layer: 'pool', weights: [] },
      { layer: 'head', weights: ['head/kernel:0', 'head/bias:0'].map((name, i) => ({ name, weight: stored(shapes.get(name.replace(':0', ''))!, 20 + i) })) },
    ];
    const mapped = new Map(mapKeras2Weights(skeleton, groups).map((w) => [w.name, w.data[0]]));
    expect(mapped.get('stem_bn/moving_mean')).toBeCloseTo(16, 6);
    expect(mapped.get('stem_bn/moving_variance')).toBeCloseTo(17, 6);
    expect(mapped.get('top_conv/kernel')).toBeCloseTo(14, 6);
    expect(mapped.get('head/bias')).toBeCloseTo(21, 6);
    expect(mapped.size).toBe(10);

    const bad = groups.map((g) => ({ ...g, weights: [...g.weights] }));
    bad[2].weights[0] = { name: 'head/kernel:0', weight: stored([5, 4], 0) };
    const error = thrown(() => mapKeras2Weights(skeleton, bad));
    expect(error.code).toBe('WEIGHT_SHAPE_MISMATCH');
    expect(error.message).toContain('[5, 4]');
    expect(error.message).toContain('[5, 3]');
    skeleton.dispose();
  });

  it('says which layer has no weights in the file', async () => {
    const { model: skeleton } = await buildSkeleton(sequentialConfig());
    const error = await thrownAsync(async () => mapKeras2Weights(skeleton, []));
    expect(error.code).toBe('KERAS_UNSUPPORTED');
    expect(error.message).toContain('"conv2d"');
    skeleton.dispose();
  });
});
