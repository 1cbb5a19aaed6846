import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCode } from '../../test-support/expect-code';
import { fromBytes, type InputFile } from '../files';
import type { LoadProgress } from '../../shared/types';
import { openModel } from './index';
import { buildLayersModel } from './build';
import { findTopologyProblem, findUnsupportedLayers } from './tfjs-layers';

type Json = Record<string, unknown>;
const enc = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const file = (path: string, data: Uint8Array | string | Json) => fromBytes(path, typeof data === 'object' && !(data instanceof Uint8Array) ? enc(data) : typeof data === 'string' ? enc(data) : data, path);

interface Saved {
  topology: Json;
  specs: tf.io.WeightsManifestEntry[];
  data: Uint8Array;
  input: tf.Tensor;
  expected: Float32Array;
}

/** A tiny transfer-learning-shaped net: a functional conv base nested in a Sequential, added first. */
async function buildAndSave(): Promise<Saved> {
  const baseIn = tf.input({ shape: [8, 8, 3] });
  const conv1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', name: 'conv_a' }).apply(baseIn) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ name: 'bn_a' }).apply(conv1) as tf.SymbolicTensor;
  const conv2 = tf.layers.conv2d({ filters: 5, kernelSize: 3, activation: 'relu', name: 'conv_b' }).apply(bn) as tf.SymbolicTensor;
  const base = tf.model({ inputs: baseIn, outputs: conv2, name: 'base' });
  const model = tf.sequential({ name: 'outer' });
  model.add(base);
  model.add(tf.layers.globalAveragePooling2d({ name: 'gap' }));
  model.add(tf.layers.dense({ units: 3, activation: 'softmax', name: 'head' }));
  // Non-trivial batch-norm statistics so that a wrong weight order would show in the predictions.
  const bnLayer = base.getLayer('bn_a');
  bnLayer.setWeights(bnLayer.getWeights().map((w, i) => tf.add(tf.mul(tf.randomUniform(w.shape, 0, 1, 'float32', 10 + i), 0.5), 0.5)));
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const input = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 7);
  const expected = (model.predict(input) as tf.Tensor).dataSync() as Float32Array;
  model.dispose();
  const a = artifacts as tf.io.ModelArtifacts;
  return { topology: a.modelTopology as Json, specs: a.weightSpecs ?? [], data: new Uint8Array(a.weightData as ArrayBuffer), input, expected };
}

async function predictOpened(files: InputFile[]): Promise<{ out: Float32Array; format: string; labels?: string[] }> {
  const opened = await openModel(files);
  const before = tf.memory().numTensors;
  const model = await buildLayersModel(opened);
  const prediction = model.predict(saved.input) as tf.Tensor;
  const out = prediction.dataSync() as Float32Array;
  prediction.dispose();
  model.dispose();
  // Building then disposing leaves nothing behind.
  expect(tf.memory().numTensors).toBe(before);
  return { out, format: opened.format, labels: opened.labels };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

/** Byte ranges of each weight in the concatenated buffer. */
function weightRanges(specs: tf.io.WeightsManifestEntry[]): { spec: tf.io.WeightsManifestEntry; start: number; end: number }[] {
  let offset = 0;
  return specs.map((spec) => {
    const start = offset;
    offset += spec.shape.reduce((a, b) => a * b, 1) * 4;
    return { spec, start, end: offset };
  });
}

function float16Bits(value: number): number {
  const bits = new Uint32Array(new Float32Array([value]).buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  const mant = bits & 0x7fffff;
  if (exp <= 0) return exp < -10 ? sign : sign | (((mant | 0x800000) >> (1 - exp)) + 0x1000) >> 13;
  if (exp >= 31) return sign | 0x7c00;
  return sign | ((exp << 10) + ((mant + 0x1000) >> 13));
}

/** Re-encode every float32 weight with tfjs's quantization scheme. */
function quantize(specs: tf.io.WeightsManifestEntry[], data: Uint8Array, dtype: 'uint8' | 'uint16' | 'float16') {
  const chunks: Uint8Array[] = [];
  const outSpecs = weightRanges(specs).map(({ spec, start, end }) => {
    const values = new Float32Array(data.slice(start, end).buffer);
    if (dtype === 'float16') {
      chunks.push(new Uint8Array(Uint16Array.from(values, float16Bits).buffer));
      return { ...spec, quantization: { dtype } };
    }
    const min = Math.min(...values);
    const max = Math.max(...values);
    const levels = dtype === 'uint8' ? 255 : 65535;
    const scale = max > min ? (max - min) / levels : 1;
    const q = values.map((v) => Math.round((v - min) / scale));
    chunks.push(new Uint8Array((dtype === 'uint8' ? Uint8Array.from(q) : Uint16Array.from(q)).buffer));
    return { ...spec, quantization: { dtype, min, scale } };
  });
  const total = chunks.reduce((s, c) => s + c.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return { specs: outSpecs, data: out };
}

let saved: Saved;

beforeAll(async () => {
  await tf.setBackend('cpu');
  saved = await buildAndSave();
});

function tmLayout(): InputFile[] {
  return [
    file('model.json', { modelTopology: saved.topology, weightsManifest: [{ paths: ['weights.bin'], weights: saved.specs }] }),
    file('weights.bin', saved.data),
    file('metadata.json', { tfjsVersion: '1.3.1', tmVersion: '2.2.2', packageName: '@teachablemachine/image', labels: ['a', 'b', 'c'] }),
  ];
}

function converterLayout(): InputFile[] {
  const half = Math.floor(saved.data.length / 8) * 4;
  return [
    file('m/model.json', {
      format: 'layers-model',
      generatedBy: 'keras v2.4.0',
      convertedBy: 'TensorFlow.js Converter v3.0.0',
      modelTopology: { keras_version: '2.4.0', backend: 'tensorflow', model_config: saved.topology, training_config: { loss: 'no_such_loss' } },
      weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: saved.specs }],
    }),
    // Shards in another folder, listed out of order, with unrelated files around them.
    file('m/weights/group1-shard2of2.bin', saved.data.slice(half)),
    file('m/weights/group1-shard1of2.bin', saved.data.slice(0, half)),
    file('m/LICENSE', 'MIT'),
    file('m/README.md', '# model'),
    file('m/labels.txt', '0 x\n1 y\n2 z\n'),
  ];
}

/** tfjs 0.x: one weight group per layer, shards without `.bin`. */
function legacyLayout(): InputFile[] {
  const groups: { paths: string[]; weights: tf.io.WeightsManifestEntry[]; start: number; end: number }[] = [];
  for (const { spec, start, end } of weightRanges(saved.specs)) {
    const layer = spec.name.split('/').slice(0, -1).join('/');
    const last = groups[groups.length - 1];
    if (last && last.weights[0].name.split('/').slice(0, -1).join('/') === layer) {
      last.weights.push(spec);
      last.end = end;
    } else {
      groups.push({ paths: [`group${groups.length + 1}-shard1of1`], weights: [spec], start, end });
    }
  }
  const manifest = groups.map(({ paths, weights }) => ({ paths, weights }));
  const shards = groups.map((g) => file(g.paths[0], saved.data.slice(g.start, g.end)));
  return [file('model.json', { modelTopology: saved.topology, weightsManifest: manifest }), ...shards];
}

describe('tfjs layers reader: layouts', () => {
  it('Teachable Machine layout (no format key, no model_config wrapper) predicts like the original, with TM labels and preprocessing', async () => {
    const opened = await openModel(tmLayout());
    expect(opened.format).toBe('tfjs-layers');
    expect(opened.labels).toEqual(['a', 'b', 'c']);
    expect(opened.preprocess).toEqual({ normalization: 'symmetric', resize: 'center-crop', source: 'metadata.json (Teachable Machine)' });
    expect(opened.warnings).toEqual([]);
    const { out } = await predictOpened(tmLayout());
    expect(maxAbsDiff(out, saved.expected)).toBeLessThanOrEqual(1e-6);
  });

  it('converter layout (format, model_config wrapper, 2 shards in a sub-folder, extra files) predicts like the original', async () => {
    const { out, format, labels } = await predictOpened(converterLayout());
    expect(format).toBe('tfjs-layers');
    expect(labels).toEqual(['x', 'y', 'z']);
    expect(maxAbsDiff(out, saved.expected)).toBeLessThanOrEqual(1e-6);
  });

  it('legacy layout (one group per layer, shards without .bin) predicts like the original', async () => {
    const files = legacyLayout();
    expect(files.length).toBeGreaterThan(3);
    const { out, format } = await predictOpened(files);
    expect(format).toBe('tfjs-layers (legacy)');
    expect(maxAbsDiff(out, saved.expected)).toBeLessThanOrEqual(1e-6);
  });

  it('accepts a manifest path with .bin when the file has none, and the reverse', async () => {
    const files = legacyLayout().map((f) => (f.name === 'group1-shard1of1' ? { ...f, name: 'group1-shard1of1.bin', path: 'group1-shard1of1.bin' } : f));
    const { out } = await predictOpened(files);
    expect(maxAbsDiff(out, saved.expected)).toBeLessThanOrEqual(1e-6);
  });

  it('reports reading progress up to the total byte count', async () => {
    const events: LoadProgress[] = [];
    await openModel(converterLayout(), (p) => events.push(p));
    const reading = events.filter((e) => e.phase === 'reading');
    expect(reading.length).toBe(3);
    expect(reading[reading.length - 1].bytesRead).toBe(saved.data.length);
    expect(reading[0].bytesTotal).toBe(saved.data.length);
    expect(events.some((e) => e.phase === 'weights')).toBe(true);
  });

  for (const [dtype, tolerance] of [['uint8', 0.05], ['uint16', 1e-3], ['float16', 1e-3]] as const) {
    it(`${dtype}-quantized weights decode (tf.io.decodeWeights) and predict within the quantization error`, async () => {
      const q = quantize(saved.specs, saved.data, dtype);
      expect(q.data.length).toBe((saved.data.length / 4) * (dtype === 'uint8' ? 1 : 2));
      const files = [file('model.json', { modelTopology: saved.topology, weightsManifest: [{ paths: ['w.bin'], weights: q.specs }] }), file('w.bin', q.data)];
      const opened = await openModel(files);
      // Each dequantized weight is within half a quantization step (or float16 rounding) of the original.
      const decoded = tf.io.decodeWeights(opened.artifacts.weightData as ArrayBuffer, opened.artifacts.weightSpecs ?? []);
      for (const { spec, start, end } of weightRanges(saved.specs)) {
        const original = new Float32Array(saved.data.slice(start, end).buffer);
        const values = decoded[spec.name].dataSync();
        const step = (q.specs.find((s) => s.name === spec.name)?.quantization as { scale?: number }).scale;
        const bound = step !== undefined ? step / 2 + 1e-6 : Math.max(...original.map(Math.abs)) * 1e-3 + 1e-6;
        original.forEach((v, i) => expect(Math.abs(values[i] - v)).toBeLessThanOrEqual(bound));
      }
      tf.dispose(Object.values(decoded));
      const { out } = await predictOpened(files);
      const diff = maxAbsDiff(out, saved.expected);
      expect(diff).toBeLessThanOrEqual(tolerance);
      if (dtype === 'uint8') expect(diff).toBeGreaterThan(0);
    });
  }
});

describe('tfjs layers reader: errors', () => {
  it('not JSON / truncated → MODEL_JSON_INVALID with the reason', async () => {
    const truncated = JSON.stringify({ modelTopology: saved.topology }).slice(0, 300);
    const e = await expectCode(openModel([file('model.json', truncated)]), 'MODEL_JSON_INVALID');
    expect(e.message).toContain('model.json');
    expect((e.detail as { reason: string }).reason).toMatch(/JSON|end|Unterminated|position/i);
    await expectCode(openModel([file('model.json', 'hello')]), 'MODEL_JSON_INVALID');
  });

  it('JSON that is not a layers model → NOT_A_TFJS_MODEL (also under another name)', async () => {
    await expectCode(openModel([file('model.json', { hello: 1 })]), 'NOT_A_TFJS_MODEL');
    await expectCode(openModel([file('model.json', '[1, 2]')]), 'NOT_A_TFJS_MODEL');
    const e = await expectCode(openModel([file('config.json', { modelTopology: { foo: 1 } })]), 'NOT_A_TFJS_MODEL');
    expect(e.message).toContain('config.json');
  });

  it('a graph model goes to the graph reader, which checks its structure before reading weights', async () => {
    const e = await expectCode(openModel([file('model.json', { format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] })]), 'GRAPH_MODEL_INVALID');
    expect(e.message).toContain('no input');
    await expectCode(openModel([file('model.json', { modelTopology: { node: [], library: {} }, weightsManifest: [] })]), 'GRAPH_MODEL_INVALID');
    const loop = { node: [{ name: 'x', op: 'Placeholder' }, { name: 'w', op: 'While', input: ['x'] }] };
    const op = await expectCode(openModel([file('any-name.json', { format: 'graph-model', modelTopology: loop, weightsManifest: [] })]), 'GRAPH_OP_UNSUPPORTED');
    expect(op.message).toContain('While');
    await expectCode(openModel([file('m.json', { format: 'graph-model', modelTopology: { node: [{ name: 'a', op: 'Relu', input: ['nowhere'] }] }, weightsManifest: [] })]), 'GRAPH_MODEL_INVALID');
  });

  it('no model among the files → NO_MODEL_FILE', async () => {
    await expectCode(openModel([file('notes.txt', 'hi'), file('metadata.json', { labels: [] })]), 'NO_MODEL_FILE');
    await expectCode(openModel([]), 'NO_MODEL_FILE');
  });

  it('missing shard → MISSING_SHARD naming it', async () => {
    const files = converterLayout().filter((f) => f.name !== 'group1-shard2of2.bin');
    const e = await expectCode(openModel(files), 'MISSING_SHARD');
    expect(e.message).toContain('group1-shard2of2.bin');
  });

  it('shard shorter or longer than the manifest → SHARD_SIZE_MISMATCH with both byte counts', async () => {
    const n = saved.data.length;
    for (const data of [saved.data.slice(0, n - 4), new Uint8Array([...saved.data, 0, 0, 0, 0])]) {
      const files = tmLayout().map((f) => (f.name === 'weights.bin' ? file('weights.bin', data) : f));
      const e = await expectCode(openModel(files), 'SHARD_SIZE_MISMATCH');
      expect(e.message).toContain(String(n));
      expect(e.message).toContain(String(data.length));
      expect(e.message).toContain('weights.bin');
    }
  });

  it('NaN/Infinity in the weights → WEIGHTS_NONFINITE warning naming the weight, model still opens', async () => {
    const data = saved.data.slice();
    const ranges = weightRanges(saved.specs);
    const target = ranges[ranges.length - 1];
    new DataView(data.buffer).setFloat32(target.start, NaN, true);
    new DataView(data.buffer).setFloat32(ranges[0].start, Infinity, true);
    const files = tmLayout().map((f) => (f.name === 'weights.bin' ? file('weights.bin', data) : f));
    const opened = await openModel(files);
    expect(opened.warnings.map((w) => w.code)).toEqual(['WEIGHTS_NONFINITE']);
    expect(opened.warnings[0].message).toContain(target.spec.name);
    expect(opened.warnings[0].message).toContain(ranges[0].spec.name);
  });

  it('float16 NaN is detected too', async () => {
    const q = quantize(saved.specs, saved.data, 'float16');
    new DataView(q.data.buffer).setUint16(2, 0x7e00, true);
    const opened = await openModel([file('model.json', { modelTopology: saved.topology, weightsManifest: [{ paths: ['w.bin'], weights: q.specs }] }), file('w.bin', q.data)]);
    expect(opened.warnings[0]?.code).toBe('WEIGHTS_NONFINITE');
  });

  it('a Lambda or custom layer inside a nested model → UNSUPPORTED_LAYER naming layer and class', async () => {
    for (const className of ['Lambda', 'MyCustomBlock']) {
      const topology = structuredClone(saved.topology) as Json;
      const baseLayer = ((topology.config as Json).layers as Json[])[0];
      ((baseLayer.config as Json).layers as Json[])[2].class_name = className;
      const files = tmLayout().map((f) => (f.name === 'model.json' ? file('model.json', { modelTopology: topology, weightsManifest: [{ paths: ['weights.bin'], weights: saved.specs }] }) : f));
      const e = await expectCode(openModel(files), 'UNSUPPORTED_LAYER');
      expect(e.detail).toEqual({ layer: 'bn_a', className });
      expect(e.message).toContain('bn_a');
      expect(e.message).toContain(className);
    }
  });

  it('unsupported dtype in the manifest → WEIGHTS_MANIFEST_INVALID naming the weight', async () => {
    const specs = saved.specs.map((s, i) => (i === 1 ? { ...s, dtype: 'float64' } : s));
    const files = tmLayout().map((f) => (f.name === 'model.json' ? file('model.json', { modelTopology: saved.topology, weightsManifest: [{ paths: ['weights.bin'], weights: specs }] }) : f));
    const e = await expectCode(openModel(files), 'WEIGHTS_MANIFEST_INVALID');
    expect(e.message).toContain(saved.specs[1].name);
    expect(e.message).toContain('float64');
  });

  it('a weight whose shape disagrees with its layer → WEIGHT_SHAPE_MISMATCH at build, no variables leaked', async () => {
    const kernel = saved.specs.find((s) => s.name.endsWith('conv_a/kernel')) as tf.io.WeightsManifestEntry;
    const specs = saved.specs.map((s) => (s === kernel ? { ...s, shape: [3, 3, 4, 3] } : s));
    const files = tmLayout().map((f) => (f.name === 'model.json' ? file('model.json', { modelTopology: saved.topology, weightsManifest: [{ paths: ['weights.bin'], weights: specs }] }) : f));
    const opened = await openModel(files);
    const before = tf.memory().numTensors;
    const e = await expectCode(buildLayersModel(opened), 'WEIGHT_SHAPE_MISMATCH');
    expect(e.message).toContain('3,3,3,4');
    expect(e.message).toContain('3,3,4,3');
    expect(e.message).toContain(kernel.name);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a weight the model does not have → MODEL_BUILD_FAILED with tfjs\'s reason', async () => {
    const specs = saved.specs.map((s, i) => (i === 0 ? { ...s, name: 'nowhere/kernel' } : s));
    const files = tmLayout().map((f) => (f.name === 'model.json' ? file('model.json', { modelTopology: saved.topology, weightsManifest: [{ paths: ['weights.bin'], weights: specs }] }) : f));
    const opened = await openModel(files);
    const before = tf.memory().numTensors;
    const e = await expectCode(buildLayersModel(opened), 'MODEL_BUILD_FAILED');
    expect(tf.memory().numTensors).toBe(before);
    expect(e.message).toContain('nowhere/kernel');
  });
});

describe('findUnsupportedLayers', () => {
  it('walks nested Sequential/Model/Functional configs at any depth, wrapped or not, and wrapper layers', () => {
    const leaf = (name: string, className: string) => ({ class_name: className, config: { name } });
    const topology = {
      class_name: 'Sequential',
      config: {
        name: 'outer',
        layers: [
          {
            class_name: 'Sequential',
            config: {
              name: 'mid',
              layers: [
                { class_name: 'Functional', config: { name: 'inner', layers: [leaf('c1', 'Conv2D'), { ...leaf('lam', 'Lambda'), name: 'lam' }] } },
                leaf('ok', 'Dense'),
              ],
            },
          },
          { class_name: 'TimeDistributed', config: { name: 'td', layer: leaf('td_inner', 'SwishCustom') } },
          // Keras 2.1 wrote a Sequential's config as a plain list.
          { class_name: 'Sequential', config: [leaf('old_ok', 'Dense'), leaf('old_bad', 'KerasLayer')] },
        ],
      },
    };
    const expected = [
      { layer: 'lam', className: 'Lambda' },
      { layer: 'td_inner', className: 'SwishCustom' },
      { layer: 'old_bad', className: 'KerasLayer' },
    ];
    expect(findUnsupportedLayers(topology)).toEqual(expected);
    expect(findUnsupportedLayers({ keras_version: '2.4', model_config: topology })).toEqual(expected);
    expect(findUnsupportedLayers(saved.topology)).toEqual([]);
  });
});

describe('findTopologyProblem (connections tfjs-layers would loop forever on)', () => {
  const functional = (layers: Json[]) => ({ class_name: 'Model', config: { name: 'm', layers, input_layers: [['in', 0, 0]], output_layers: [['b', 0, 0]] } });
  const inputLayer = { name: 'in', class_name: 'InputLayer', config: { name: 'in', batch_input_shape: [null, 4] }, inbound_nodes: [] };
  const dense = (name: string, from: string, node = 0) => ({ name, class_name: 'Dense', config: { name, units: 2 }, inbound_nodes: [[[from, node, 0, {}]]] });

  it('accepts real configs (nested Sequential > Model, a model called as a layer with node index 1)', () => {
    expect(findTopologyProblem(saved.topology)).toBeNull();
    const nested = { ...functional([inputLayer, dense('a', 'in'), dense('b', 'a')]), name: 'inner' };
    const outer = functional([inputLayer, { ...nested, name: 'inner', inbound_nodes: [[['in', 0, 0, {}]]] }, dense('b', 'inner', 1)]);
    expect(findTopologyProblem(outer)).toBeNull();
  });

  it('names an unknown inbound layer, a node index never produced, a cycle, duplicate names', () => {
    expect(findTopologyProblem(functional([inputLayer, dense('b', 'nope')]))).toMatch(/"b" takes input from "nope"/);
    expect(findTopologyProblem(functional([inputLayer, dense('a', 'in'), dense('b', 'a', 3)]))).toMatch(/"b" waits for node 3 of "a"/);
    expect(findTopologyProblem(functional([inputLayer, dense('a', 'b'), dense('b', 'a')]))).toMatch(/waits for node 0/);
    expect(findTopologyProblem(functional([inputLayer, dense('a', 'in'), dense('a', 'in')]))).toMatch(/two layers .* "a"/);
    expect(findTopologyProblem(functional([inputLayer, { ...dense('b', 'in'), inbound_nodes: [['in']] }]))).toMatch(/malformed inbound node/);
  });

  it('the reader reports such a model as MODEL_BUILD_FAILED instead of hanging in tfjs', async () => {
    const topology = structuredClone(saved.topology) as Json;
    const base = ((topology.config as Json).layers as Json[])[0];
    const layers = (base.config as Json).layers as Json[];
    layers[1].name = 'renamed';
    const files = tmLayout().map((f) => (f.name === 'model.json' ? file('model.json', { modelTopology: topology, weightsManifest: [{ paths: ['weights.bin'], weights: saved.specs }] }) : f));
    const e = await expectCode(openModel(files), 'MODEL_BUILD_FAILED');
    expect(e.message).toContain('conv_a');
  });
});

describe('converter-made model.json with a nested functional base', () => {
  it('loads despite Keras numbering the nested call as node 0 (tfjs would say "Graph disconnected")', async () => {
    const baseIn = tf.input({ shape: [6, 6, 3] });
    const conv = tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', name: 'inner_conv' }).apply(baseIn) as tf.SymbolicTensor;
    const base = tf.model({ inputs: baseIn, outputs: conv, name: 'inner_base' });
    const input = tf.input({ shape: [6, 6, 3], name: 'image' });
    const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(base.apply(input) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2, name: 'logits' }).apply(pooled) as tf.SymbolicTensor });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const x = tf.randomUniform([1, 6, 6, 3], 0, 1, 'float32', 3);
    const expected = (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
    // Rewrite tfjs's numbering (the nested call is node 1) into Keras's (node 0), as the converter writes it.
    const topology = JSON.parse(JSON.stringify(artifacts!.modelTopology)) as { config: { layers: { inbound_nodes: unknown[][] }[]; output_layers: unknown[][] } };
    const toKeras = (ref: unknown): unknown => (Array.isArray(ref) && ref[0] === 'inner_base' ? [ref[0], (ref[1] as number) - 1, ...ref.slice(2)] : ref);
    for (const layer of topology.config.layers) layer.inbound_nodes = layer.inbound_nodes.map((node) => node.map(toKeras));
    const modelJson = { format: 'layers-model', generatedBy: 'keras v2.15.0', convertedBy: 'TensorFlow.js Converter v4.22.0', modelTopology: topology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: artifacts!.weightSpecs }] };
    const opened = await openModel([file('model.json', modelJson as unknown as Json), file('group1-shard1of1.bin', new Uint8Array(artifacts!.weightData as ArrayBuffer))]);
    const rebuilt = await buildLayersModel(opened);
    const out = (rebuilt.predict(x) as tf.Tensor).dataSync() as Float32Array;
    expect(maxAbsDiff(out, expected)).toBeLessThanOrEqual(1e-6);
    rebuilt.dispose();
    model.dispose();
    x.dispose();
  });
});
