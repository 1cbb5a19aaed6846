/**
 * ONNX's own backend conformance suite (Debian's libonnx-testdata: node/<case>/model.onnx +
 * test_data_set_0/input_N.pb, output_N.pb) for every case made only of ops the reader claims
 * (SUPPORTED_ONNX_OPS), run through the same translation and op layers as a model: the first input
 * is the "image" (held NHWC when 4-D, as a model's is), the other inputs are weights. Tolerance:
 * the suite's own (rtol 1e-3, atol 1e-7). A case the reader refuses with ONNX_OP_UNSUPPORTED (an
 * attribute it does not run, e.g. auto_pad SAME_LOWER, a Reshape to a shape computed at run time)
 * must be listed in KNOWN_REFUSALS: a refusal anywhere else fails. Skips when the package is absent.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { StudioError } from '../../shared/errors';
import { opLayer, type OpInput } from '../graph/graph-ops';
import { decodeOnnxModel, decodeTensorProto, isFloatType, type OnnxModel, type OnnxTensor } from './onnx-proto';
import { translateOnnx } from './onnx-translate';
import { onnxConverter } from './load-onnx';
import { SUPPORTED_ONNX_OPS } from './onnx-node-rules';
import { TO_NCHW, TO_NHWC } from './onnx-layout';

const ROOT = '/usr/share/libonnx-testdata/data/node';
const supported = new Set(SUPPORTED_ONNX_OPS);

/** Cases refused on purpose, with the reason the message gives. */
const KNOWN_REFUSALS: Record<string, string> = {
  test_averagepool_1d_default: 'only 2-D pooling',
  test_averagepool_3d_default: 'only 2-D pooling',
  test_maxpool_1d_default: 'only 2-D pooling',
  test_maxpool_3d_default: 'only 2-D pooling',
  test_maxpool_2d_dilations: 'dilated pooling',
  test_averagepool_2d_same_lower: 'auto_pad SAME_LOWER',
  test_maxpool_2d_same_lower: 'auto_pad SAME_LOWER',
  test_conv_with_autopad_same: 'auto_pad SAME_LOWER',
  test_batchnorm_epsilon_training_mode: 'training mode',
  test_batchnorm_example_training_mode: 'training mode',
  test_training_dropout: 'training mode',
  test_training_dropout_default: 'training mode',
  test_training_dropout_mask: 'training mode',
  test_training_dropout_default_mask: 'training mode',
  test_training_dropout_zero_ratio_mask: 'training mode',
};

function readCase(dir: string): { model: OnnxModel; inputs: OnnxTensor[]; outputs: OnnxTensor[] } | null {
  const data = join(dir, 'test_data_set_0');
  if (!existsSync(data)) return null;
  const model = decodeOnnxModel(new Uint8Array(readFileSync(join(dir, 'model.onnx'))));
  const read = (prefix: string) =>
    readdirSync(data)
      .filter((f) => f.startsWith(prefix))
      .sort((a, b) => Number(/\d+/.exec(a)?.[0]) - Number(/\d+/.exec(b)?.[0]))
      .map((f) => decodeTensorProto(new Uint8Array(readFileSync(join(data, f)))));
  return { model, inputs: read('input_'), outputs: read('output_') };
}

const cases = existsSync(ROOT)
  ? readdirSync(ROOT)
      .filter((name) => name.startsWith('test_'))
      .sort()
      .flatMap((name) => {
        try {
          const c = readCase(join(ROOT, name));
          if (!c || c.model.nodes.some((n) => !supported.has(n.opType))) return [];
          const first = c.inputs[0];
          // Float data in, float data out: what a model's image path carries.
          if (!first || !isFloatType(first.dataType) || c.outputs.some((o) => !isFloatType(o.dataType))) return [];
          // Sequences and optionals are not tensors.
          if (first.data.length !== first.dims.reduce((p, d) => p * d, 1)) return [];
          return [{ name, ...c }];
        } catch {
          return [];
        }
      })
  : [];

/** Runs the translated nodes one by one with the program's own op layers. */
function run(model: OnnxModel, inputs: OnnxTensor[]): tf.Tensor[] {
  const [first, ...rest] = model.inputs;
  if (!first) throw new Error('no input');
  rest.forEach((info, k) => {
    const t = inputs[k + 1];
    if (t) model.initializers.set(info.name, { ...t, name: info.name });
  });
  const x = inputs[0]!;
  const rank = x.dims.length;
  const [n = 1, c = 1, h = 1, w = 1] = x.dims;
  const translation = translateOnnx(model, { name: first.name, nhwcShape: rank === 4 ? [n, h, w, c] : x.dims, nchw: rank === 4, rank });
  try {
    return tf.tidy(() => {
      const values = new Map<string, tf.Tensor>();
      const feed = tf.tensor(x.data, x.dims, 'float32');
      values.set(translation.def.input.name, rank === 4 ? tf.transpose(feed, TO_NHWC) : feed);
      const converter = onnxConverter(translation.custom);
      for (const node of translation.def.nodes) {
        if (node.op === 'Placeholder') continue;
        const ins: OpInput[] = node.inputs.map((t) => {
          if (values.has(t)) return { slot: t };
          const c = translation.weights[t]?.[0];
          if (!c) throw new Error(`${node.name} reads ${t}, which has no value`);
          return { constant: c };
        });
        const layer = opLayer(node, ins, 1, converter);
        const out = layer.apply(node.inputs.filter((t) => values.has(t)).map((t) => values.get(t)!));
        values.set(node.name, Array.isArray(out) ? out[0]! : out);
        tf.dispose(layer.owned);
      }
      return translation.def.outputs.map((ref) => {
        const v = values.get(ref);
        if (!v) throw new Error(`output ${ref} was not computed`);
        return translation.permuted.has(ref) ? tf.transpose(v, TO_NCHW) : tf.clone(v);
      });
    });
  } finally {
    tf.dispose(translation.owned);
  }
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

describe.skipIf(cases.length === 0)(`ONNX backend node tests for the claimed ops (${ROOT})`, () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (name, c) => {
    let outs: tf.Tensor[];
    try {
      outs = run(c.model, c.inputs);
    } catch (e) {
      if (e instanceof StudioError && e.code === 'ONNX_OP_UNSUPPORTED') {
        expect(e.message, `${name} is refused but not listed in KNOWN_REFUSALS`).toContain(KNOWN_REFUSALS[name] ?? '(not a known refusal)');
        return;
      }
      throw e;
    }
    expect(KNOWN_REFUSALS[name], `${name} runs now: drop it from KNOWN_REFUSALS`).toBeUndefined();
    c.outputs.forEach((expected, k) => {
      const t = outs[k];
      expect(t, `output ${k}`).toBeDefined();
      expect(t!.shape).toEqual(expected.dims);
      const got = t!.dataSync();
      let worst = 0;
      expected.data.forEach((e, i) => {
        const g = got[i] ?? NaN;
        const excess = Math.abs(g - e) - (1e-7 + 1e-3 * Math.abs(e));
        if (!(excess <= 0) && !(Number.isNaN(e) && Number.isNaN(g))) worst = Math.max(worst, Number.isNaN(excess) ? Infinity : excess);
      });
      expect(worst, `output ${k} beyond tolerance`).toBe(0);
    });
    tf.dispose(outs);
  });
});
