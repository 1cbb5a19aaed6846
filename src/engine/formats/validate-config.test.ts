/**
 * Degenerate configs are refused with a coded error naming the layer and the value, before tfjs
 * builds or runs them — on WASM, where they used to corrupt the backend ("memory access out of
 * bounds") so that every later model failed too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCode } from '../../test-support/expect-code';
import { fromBytes } from '../files';
import { loadModel } from '../model';
import { buildLayersModel } from './build';
import { validateModelConfig } from './validate-config';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

/** A small nested model (Sequential › functional base) saved to artifacts, so each test edits real JSON. */
async function artifactsOf(): Promise<tf.io.ModelArtifacts> {
  const input = tf.input({ shape: [16, 16, 3] });
  const a = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'conv_a' }).apply(input) as tf.SymbolicTensor;
  const b = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu', name: 'conv_b' }).apply(a) as tf.SymbolicTensor;
  const base = tf.model({ inputs: input, outputs: b, name: 'base' });
  const outer = tf.sequential({ name: 'outer' });
  outer.add(tf.layers.inputLayer({ inputShape: [16, 16, 3], name: 'image' }));
  outer.add(base);
  outer.add(tf.layers.globalAveragePooling2d({ name: 'gap' }));
  outer.add(tf.layers.dense({ units: 3, activation: 'softmax', name: 'head' }));
  let saved!: tf.io.ModelArtifacts;
  await outer.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  outer.dispose();
  return saved;
}

/** The artifacts with the JSON text edited (every occurrence). */
function edited(artifacts: tf.io.ModelArtifacts, from: string | RegExp, to: string): tf.io.ModelArtifacts {
  const text = JSON.stringify(artifacts.modelTopology);
  const next = text.replace(from instanceof RegExp ? from : new RegExp(from.replace(/[[\]]/g, '\\$&'), 'g'), to);
  expect(next).not.toBe(text);
  return { ...artifacts, modelTopology: JSON.parse(next) };
}

describe('validateModelConfig / validateBuiltShapes', () => {
  it('the unedited model builds', async () => {
    const model = await buildLayersModel(await artifactsOf());
    expect(model.outputs[0].shape).toEqual([null, 3]);
    model.dispose();
  });

  it.each([
    ['[null,1,1,3]', 'INPUT_SIZE_INVALID', /at least 2×2 pixels, this one is 1×1/],
    ['[null,0,0,3]', 'INPUT_SIZE_INVALID', /dimension of 0/],
    ['[null,-4,-4,3]', 'INPUT_SIZE_INVALID', /dimension of -4/],
    ['[null,100000,100000,3]', 'INPUT_SIZE_INVALID', /111\.8 GB/],
    ['[null,2.5,16,3]', 'INPUT_SIZE_INVALID', /dimension of 2\.5/],
  ])('input shape %s → %s', async (shape, code, message) => {
    const artifacts = edited(await artifactsOf(), /"batch_input_shape":\[null,16,16,3\]/g, `"batch_input_shape":${shape}`);
    const tensors = tf.memory().numTensors;
    const error = await expectCode(buildLayersModel(artifacts), code);
    expect(error.message).toMatch(message);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('a 4×4 input that a stride-2 valid conv turns into nothing: LAYER_OUTPUT_EMPTY names the leaf layer inside the base', async () => {
    const artifacts = edited(await artifactsOf(), /"batch_input_shape":\[null,16,16,3\]/g, '"batch_input_shape":[null,2,2,3]');
    const tensors = tf.memory().numTensors;
    const error = await expectCode(buildLayersModel(artifacts), 'LAYER_OUTPUT_EMPTY');
    expect(error.message).toContain('"outer/base/conv_b"');
    expect(error.message).toContain('2×2 input');
    expect(tf.memory().numTensors).toBe(tensors); // the built model was freed
  });

  it.each([
    ['"strides":[2,2]', '"strides":[0,0]', 'strides [0,0]'],
    ['"strides":[2,2]', '"strides":[-1,2]', 'strides [-1,2]'],
    ['"kernel_size":[3,3]', '"kernel_size":[0,3]', 'kernel_size [0,3]'],
    ['"filters":4', '"filters":0', 'filters 0'],
    ['"units":3', '"units":-3', 'units -3'],
    ['"dilation_rate":[1,1]', '"dilation_rate":[0,0]', 'dilation_rate [0,0]'],
  ])('%s edited to %s → MODEL_CONFIG_INVALID naming the layer', async (from, to, shown) => {
    const artifacts = edited(await artifactsOf(), from, to);
    const error = await expectCode(buildLayersModel(artifacts), 'MODEL_CONFIG_INVALID');
    expect(error.message).toMatch(/^Layer "(conv_a|conv_b|head)" has /);
    expect(error.message).toContain(shown);
  });

  it.each(['__proto__', 'toString', 'constructor', 'hasOwnProperty'])('a layer named %s is refused with a reason, not a tfjs TypeError', async (name) => {
    const artifacts = edited(await artifactsOf(), /"conv_b"/g, JSON.stringify(name));
    const error = await expectCode(buildLayersModel(artifacts), 'MODEL_CONFIG_INVALID');
    expect(error.message).toContain(`Layer "${name}" has name`);
    expect(error.message).toMatch(/reserved in JavaScript/);
  });

  it('accepts what real configs hold: null dimensions, padding names, explicit zero padding', () => {
    expect(() =>
      validateModelConfig({
        class_name: 'Sequential',
        config: {
          name: 's',
          layers: [
            { class_name: 'ZeroPadding2D', config: { name: 'pad', padding: [[0, 1], [0, 1]], batch_input_shape: [null, null, null, 3] } },
            { class_name: 'Conv2D', config: { name: 'c', filters: 2, kernel_size: [3, 3], strides: [1, 1], padding: 'same', dilation_rate: [1, 1] } },
            { class_name: 'Cropping2D', config: { name: 'crop', cropping: [[0, 0], [1, 1]] } },
          ],
        },
      }),
    ).not.toThrow();
  });
});

const tm = resolve(process.cwd(), '../shared/fixtures/models/tm-gestures');

describe.skipIf(!existsSync(tm))('the Teachable Machine export with degenerate input shapes (skipped without ../shared/fixtures)', () => {
  const files = (shape: string) => {
    const json = readFileSync(resolve(tm, 'model.json'), 'utf8').replace('"batch_input_shape":[null,224,224,3]', `"batch_input_shape":${shape}`);
    return [fromBytes('model.json', new TextEncoder().encode(json)), fromBytes('weights.bin', readFileSync(resolve(tm, 'weights.bin'))), fromBytes('metadata.json', readFileSync(resolve(tm, 'metadata.json')))];
  };

  it.each([
    ['[null,1,1,3]', 'INPUT_SIZE_INVALID'],
    ['[null,0,0,3]', 'INPUT_SIZE_INVALID'],
    ['[null,8,8,3]', 'LAYER_OUTPUT_EMPTY'],
    ['[null,100000,100000,3]', 'INPUT_SIZE_INVALID'],
  ])('%s → %s, and the backend still loads the real model afterwards', async (shape, code) => {
    const tensors = tf.memory().numTensors;
    const started = performance.now();
    await expectCode(loadModel(files(shape)), code);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(tf.memory().numTensors).toBe(tensors);
    const good = await loadModel(files('[null,224,224,3]'));
    expect(good.summary.imageSize).toEqual([224, 224, 3]);
    good.dispose();
  });
});
