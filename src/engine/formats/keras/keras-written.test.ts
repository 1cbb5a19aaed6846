/**
 * Keras files written by the tests themselves, with h5wasm (the HDF5 C library; devDependency,
 * tests only) so that jsfive reads what real HDF5 writers produce: a Teachable-Machine-style nested
 * Keras 2 .h5 (Sequential > Sequential > Model), a Keras 3 .keras zip, and broken files.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import * as h5wasm from 'h5wasm/node';
import { zipSync, strToU8 } from 'fflate';
import { fromBytes } from '../../files';
import { StudioError } from '../../../shared/errors';
import { keras3Reader, kerasH5Reader } from './index';
import { normalizeKerasConfig, type JsonObject } from './config';
import { nestedConfig } from './test-configs';
import { compileProgram } from '../../executor/program';
import { buildLayerTree, flattenTree } from '../../tree';

const workDir = mkdtempSync(join(tmpdir(), 'keras-written-'));
let fileCount = 0;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await h5wasm.ready;
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Write an HDF5 file with h5wasm and return its bytes. */
function writeH5(build: (file: h5wasm.File) => void): Uint8Array {
  const path = join(workDir, `file${fileCount++}.h5`);
  const file = new h5wasm.File(path, 'w');
  try {
    build(file);
  } finally {
    file.close();
  }
  return new Uint8Array(readFileSync(path));
}

/** h5py writes Keras's string attributes as fixed-length (NUL-padded) byte strings. */
function fixedString(node: h5wasm.Group, name: string, value: string): void {
  node.create_attribute(name, value, null, `S${Math.max(1, new TextEncoder().encode(value).length)}`);
}
function fixedStrings(node: h5wasm.Group, name: string, values: string[]): void {
  const width = Math.max(1, ...values.map((v) => new TextEncoder().encode(v).length));
  node.create_attribute(name, values, [values.length], `S${width}`);
}

function groupAt(root: h5wasm.Group, path: string[]): h5wasm.Group {
  let group = root;
  for (const part of path) {
    const child = group.keys().includes(part) ? group.get(part) : null;
    group = child instanceof h5wasm.Group ? child : group.create_group(part);
  }
  return group;
}

function writeDataset(root: h5wasm.Group, path: string, shape: number[], data: Float32Array): void {
  const parts = path.split('/');
  groupAt(root, parts.slice(0, -1)).create_dataset({ name: parts[parts.length - 1], data, shape, dtype: '<f' });
}

/** Give every variable distinct deterministic values (variances positive) so a misplaced weight shows. */
function setDistinctWeights(model: tf.LayersModel): void {
  const values = model.weights.map((w, k) => {
    const size = w.shape.reduce((a: number, b) => a * (b as number), 1);
    const positive = w.originalName.endsWith('moving_variance') || w.originalName.endsWith('gamma');
    return tf.tensor(Float32Array.from({ length: size }, (_, i) => (positive ? 0.5 + ((i * 7 + k) % 11) / 10 : Math.sin(i * 1.7 + k * 3.1) * 0.5)), w.shape as number[]);
  });
  model.setWeights(values);
  tf.dispose(values);
}

function randomImages(shape: number[]): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.37) * Math.cos(i * 0.011)), shape);
}

async function maxDiff(a: tf.LayersModel, b: tf.LayersModel, input: tf.Tensor): Promise<number> {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a.predict(input) as tf.Tensor, b.predict(input) as tf.Tensor))).dataSync()[0]);
}

async function rejection(promise: Promise<unknown>): Promise<StudioError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(StudioError);
    return e as StudioError;
  }
  throw new Error('expected a StudioError');
}

// --- A Teachable-Machine-style Keras 2 model: Sequential > [Sequential > [Model(MobileNet-like), GAP], Sequential > [Dense, Dense]] ---
function k2(className: string, name: string, config: JsonObject, inbound?: string[]): JsonObject {
  const out: JsonObject = { class_name: className, config: { name, trainable: true, dtype: 'float32', ...config } };
  if (inbound) {
    out.name = name;
    out.inbound_nodes = inbound.length ? [inbound.map((source) => [source, 0, 0, {}])] : [];
  }
  return out;
}

function teachableMachineKeras2Config(): JsonObject {
  const convCfg = (filters: number, size: number, strides = 1): JsonObject => ({ filters, kernel_size: [size, size], strides: [strides, strides], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'linear', use_bias: false, kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } } });
  const bn: JsonObject = { axis: -1, momentum: 0.999, epsilon: 0.001, center: true, scale: true };
  const base = {
    class_name: 'Model',
    config: {
      name: 'model1',
      layers: [
        k2('InputLayer', 'input_1', { batch_input_shape: [null, 16, 16, 3], sparse: false }, []),
        k2('Conv2D', 'Conv1', convCfg(8, 3, 2), ['input_1']),
        k2('BatchNormalization', 'bn_Conv1', bn, ['Conv1']),
        k2('ReLU', 'Conv1_relu', { max_value: 6.0 }, ['bn_Conv1']),
        k2('DepthwiseConv2D', 'expanded_conv_depthwise', { kernel_size: [3, 3], strides: [1, 1], padding: 'same', depth_multiplier: 1, activation: 'linear', use_bias: false }, ['Conv1_relu']),
        k2('BatchNormalization', 'expanded_conv_depthwise_BN', bn, ['expanded_conv_depthwise']),
        k2('ReLU', 'expanded_conv_depthwise_relu', { max_value: 6.0 }, ['expanded_conv_depthwise_BN']),
        k2('Conv2D', 'expanded_conv_project', convCfg(8, 1), ['expanded_conv_depthwise_relu']),
        k2('BatchNormalization', 'expanded_conv_project_BN', bn, ['expanded_conv_project']),
        k2('Add', 'expanded_conv_add', {}, ['Conv1_relu', 'expanded_conv_project_BN']),
        k2('Conv2D', 'Conv_1', convCfg(12, 1), ['expanded_conv_add']),
        k2('ReLU', 'out_relu', { max_value: 6.0 }, ['Conv_1']),
      ],
      input_layers: [['input_1', 0, 0]],
      output_layers: [['out_relu', 0, 0]],
    },
  };
  return {
    class_name: 'Sequential',
    config: {
      name: 'sequential_4',
      layers: [
        { class_name: 'Sequential', config: { name: 'sequential_1', layers: [base, k2('GlobalAveragePooling2D', 'global_average_pooling2d_GlobalAveragePooling2D1', { data_format: 'channels_last' })] } },
        {
          class_name: 'Sequential',
          config: {
            name: 'sequential_3',
            layers: [
              k2('Dense', 'dense_Dense1', { units: 6, activation: 'relu', use_bias: true, batch_input_shape: [null, 12] }),
              k2('Dense', 'dense_Dense2', { units: 3, activation: 'softmax', use_bias: false }),
            ],
          },
        },
      ],
    },
  };
}

/** Write `model` as Keras 2's `model.save('keras_model.h5')` would: root config attrs, model_weights/<top layer>/… */
function writeKeras2H5(model: tf.LayersModel, config: JsonObject, prefixNested: boolean): Uint8Array {
  return writeH5((file) => {
    fixedString(file, 'model_config', JSON.stringify(config));
    fixedString(file, 'keras_version', '2.4.0');
    fixedString(file, 'backend', 'tensorflow');
    const weightsRoot = file.create_group('model_weights');
    fixedStrings(weightsRoot, 'layer_names', model.layers.map((l) => l.name));
    fixedString(weightsRoot, 'backend', 'tensorflow');
    for (const top of model.layers) {
      const group = weightsRoot.create_group(top.name);
      // Keras 2 lists a layer's trainable weights, then its non-trainable ones (BN statistics last).
      const weights = [...top.trainableWeights, ...top.nonTrainableWeights];
      // A nested model's weights are stored under the nested model's name (`model1/Conv1/kernel:0`) in some versions.
      const names = weights.map((w) => `${prefixNested && top.name === 'sequential_1' ? 'model1/' : ''}${w.originalName}:0`);
      fixedStrings(group, 'weight_names', names);
      weights.forEach((w, i) => writeDataset(group, names[i], w.shape as number[], w.read().dataSync() as Float32Array));
    }
  });
}

describe('a nested Keras 2 HDF5 (Teachable Machine layout) written by the test', () => {
  let reference: tf.LayersModel;
  const config = teachableMachineKeras2Config();

  beforeAll(async () => {
    reference = await tf.models.modelFromJSON({ modelTopology: JSON.parse(JSON.stringify(config)) } as tf.io.ModelJSON);
    setDistinctWeights(reference);
  });

  it.each([true, false])('loads with identical predictions and the labels.txt labels (nested names prefixed: %s)', async (prefixNested) => {
    const bytes = writeKeras2H5(reference, config, prefixNested);
    const files = [fromBytes('keras_model.h5', bytes, 'converted_keras/keras_model.h5'), fromBytes('labels.txt', strToU8('0 Cat\n1 Dog\n2 Bird\n'), 'converted_keras/labels.txt')];
    expect(await kerasH5Reader.match(files)).toBe(true);
    const opened = await kerasH5Reader.open(files);
    expect(opened.labels).toEqual(['Cat', 'Dog', 'Bird']);
    expect(opened.preprocess?.normalization).toBe('symmetric');
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(opened.artifacts));
    const input = randomImages([2, 16, 16, 3]);
    expect(await maxDiff(reference, loaded, input)).toBeLessThanOrEqual(1e-6);
    const inner = (loaded.getLayer('sequential_1') as tf.LayersModel).getLayer('model1') as tf.LayersModel;
    expect(inner.layers.map((l) => l.name)).toContain('expanded_conv_depthwise');
    input.dispose();
    loaded.dispose();
  });

  it("shows the base's layers in the layer tree, the inner conv layers explainable", async () => {
    const opened = await kerasH5Reader.open([fromBytes('keras_model.h5', writeKeras2H5(reference, config, true))]);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(opened.artifacts));
    const nodes = flattenTree(buildLayerTree(compileProgram(loaded)));
    const outRelu = nodes.find((n) => n.name === 'out_relu');
    expect(outRelu?.path).toMatch(/sequential_1\/model1\/out_relu$/);
    expect(outRelu?.explainable).toBe(true);
    expect(outRelu?.outputShape).toEqual([null, 8, 8, 12]);
    expect(nodes.some((n) => n.name === 'expanded_conv_depthwise' && n.explainable)).toBe(true);
    loaded.dispose();
  });

  it('reads layer_names / weight_names split into numbered chunks (Keras does this above 64 KiB)', async () => {
    const config = { class_name: 'Sequential', config: { name: 'sequential', layers: [k2('Dense', 'dense_1', { units: 3, activation: 'relu', batch_input_shape: [null, 4] }), k2('Dense', 'dense_2', { units: 2, activation: 'linear' })] } };
    const small = await tf.models.modelFromJSON({ modelTopology: JSON.parse(JSON.stringify(config)) } as tf.io.ModelJSON);
    setDistinctWeights(small);
    const bytes = writeH5((file) => {
      fixedString(file, 'model_config', JSON.stringify(config));
      const weightsRoot = file.create_group('model_weights');
      fixedStrings(weightsRoot, 'layer_names0', ['dense_1']);
      fixedStrings(weightsRoot, 'layer_names1', ['dense_2']);
      for (const layer of small.layers) {
        const group = weightsRoot.create_group(layer.name);
        const names = layer.weights.map((w) => `${w.originalName}:0`);
        names.forEach((name, i) => fixedStrings(group, `weight_names${i}`, [name]));
        layer.weights.forEach((w, i) => writeDataset(group, names[i], w.shape as number[], w.read().dataSync() as Float32Array));
      }
    });
    const opened = await kerasH5Reader.open([fromBytes('small.h5', bytes)]);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(opened.artifacts));
    const input = randomImages([3, 4]);
    expect(await maxDiff(small, loaded, input)).toBeLessThanOrEqual(1e-6);
    tf.dispose(input);
    small.dispose();
    loaded.dispose();
  });

  it('rejects a weights-only file (save_weights) with the reason', async () => {
    const bytes = writeH5((file) => {
      fixedStrings(file, 'layer_names', ['dense']);
      const group = file.create_group('dense');
      fixedStrings(group, 'weight_names', ['dense/kernel:0']);
      writeDataset(group, 'dense/kernel:0', [2, 2], new Float32Array(4));
    });
    const error = await rejection(kerasH5Reader.open([fromBytes('weights.h5', bytes)]));
    expect(error.code).toBe('KERAS_UNSUPPORTED');
    expect(error.message).toContain('only weights');
  });

  it('rejects a Lambda layer naming the layer and class, and a wrong weight shape naming both shapes', async () => {
    const withLambda = teachableMachineKeras2Config();
    const head = (((withLambda.config as JsonObject).layers as JsonObject[])[1].config as JsonObject).layers as JsonObject[];
    head.push({ class_name: 'Lambda', config: { name: 'temperature', function: ['4wEAAAAA', null, null], function_type: 'lambda' } });
    const lambdaError = await rejection(kerasH5Reader.open([fromBytes('m.h5', writeKeras2H5(reference, withLambda, false))]));
    expect(lambdaError.code).toBe('UNSUPPORTED_LAYER');
    expect(lambdaError.message).toContain('"temperature"');
    expect(lambdaError.message).toContain('Lambda');

    const wider = teachableMachineKeras2Config();
    const dense1 = ((((wider.config as JsonObject).layers as JsonObject[])[1].config as JsonObject).layers as JsonObject[])[0];
    (dense1.config as JsonObject).units = 7;
    const shapeError = await rejection(kerasH5Reader.open([fromBytes('m.h5', writeKeras2H5(reference, wider, false))]));
    expect(shapeError.code).toBe('WEIGHT_SHAPE_MISMATCH');
    expect(shapeError.message).toContain('[12, 6]');
    expect(shapeError.message).toContain('[12, 7]');
  });

  afterAll(() => reference?.dispose());
});

describe('a Keras 3 .keras written by the test', () => {
  // Where Keras 3 saves each variable of nestedConfig(): by object path, class-named.
  const layout: Record<string, string[]> = {
    'layers/functional/layers/conv2d': ['stem/kernel', 'stem/bias'],
    'layers/functional/layers/batch_normalization': ['stem_bn/gamma', 'stem_bn/beta', 'stem_bn/moving_mean', 'stem_bn/moving_variance'],
    'layers/functional/layers/conv2d_1': ['top_conv/kernel', 'top_conv/bias'],
    'layers/dense': ['head/kernel', 'head/bias'],
  };

  function kerasZip(reference: tf.LayersModel, raw: JsonObject): Uint8Array {
    const byName = new Map(reference.weights.map((w) => [w.originalName, w]));
    const weightsH5 = writeH5((file) => {
      file.create_group('vars');
      for (const [objectPath, names] of Object.entries(layout)) {
        names.forEach((name, i) => {
          const w = byName.get(name)!;
          writeDataset(file, `${objectPath}/vars/${i}`, w.shape as number[], w.read().dataSync() as Float32Array);
        });
      }
      writeDataset(file, 'optimizer/vars/0', [1], new Float32Array([3]));
    });
    return zipSync({
      'metadata.json': strToU8(JSON.stringify({ keras_version: '3.5.0', date_saved: '2026-11-28@07:00:00' })),
      'config.json': strToU8(JSON.stringify(raw)),
      'model.weights.h5': weightsH5,
    });
  }

  it('opens with the weights in the right variables: predictions equal the reference model', async () => {
    const raw = nestedConfig();
    const reference = await tf.models.modelFromJSON({ modelTopology: normalizeKerasConfig(raw) } as unknown as tf.io.ModelJSON);
    setDistinctWeights(reference);
    const zip = kerasZip(reference, raw);
    const files = [fromBytes('classifier.keras', zip), fromBytes('labels.txt', strToU8('red\ngreen\nblue\n'))];
    expect(await keras3Reader.match(files)).toBe(true);
    expect(await kerasH5Reader.match(files)).toBe(false);
    const opened = await keras3Reader.open(files);
    expect(opened.format).toBe('keras-v3');
    expect(opened.labels).toEqual(['red', 'green', 'blue']);
    expect((opened.artifacts.modelTopology as { keras_version?: string }).keras_version).toBe('3.5.0');
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(opened.artifacts));
    const input = randomImages([2, 8, 8, 3]);
    expect(await maxDiff(reference, loaded, input)).toBeLessThanOrEqual(1e-6);
    // A zip under another name holding the same members is recognised too.
    expect(await keras3Reader.match([fromBytes('classifier.zip', zip)])).toBe(true);
    input.dispose();
    loaded.dispose();
    reference.dispose();
  });

  it('says what is missing from a .keras without model.weights.h5', async () => {
    const zip = zipSync({ 'config.json': strToU8(JSON.stringify(nestedConfig())), 'metadata.json': strToU8('{}') });
    const error = await rejection(keras3Reader.open([fromBytes('m.keras', zip)]));
    expect(error.code).toBe('KERAS_UNSUPPORTED');
    expect(error.message).toContain('model.weights.h5');
  });
});
