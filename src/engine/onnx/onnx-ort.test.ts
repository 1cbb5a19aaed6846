/**
 * The forward pass against onnxruntime-node (a dev dependency installed with its install script
 * skipped; its bundled CPU library is enough) on every fixture in test-fixtures/onnx, on an input
 * of its own (not the PyTorch reference's). Skips when onnxruntime-node cannot load.
 */
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { runForward } from '../executor/forward';
import { seeded } from '../node/onnx-builder';
import { decodeOnnxModel } from './onnx-proto';
import { buildOnnxProgram } from './load-onnx';

const DIR = resolve(process.cwd(), 'test-fixtures/onnx');
const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith('.onnx')).sort() : [];

type Ort = typeof import('onnxruntime-node');
let ort: Ort | null = null;
try {
  ort = await import('onnxruntime-node');
} catch {
  ort = null;
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

describe.skipIf(!ort || files.length === 0)('forward pass = onnxruntime-node on every fixture', () => {
  it.each(files)('%s', async (name) => {
    const bytes = new Uint8Array(readFileSync(resolve(DIR, name)));
    const built = buildOnnxProgram(decodeOnnxModel(bytes), name);
    const [h, w, c] = built.host.inputShape.slice(1).map((d) => d ?? 0) as [number, number, number];
    const nchw = Float32Array.from(seeded(c * h * w, 42));
    const session = await ort!.InferenceSession.create(bytes);
    const inputName = session.inputNames[0]!;
    const result = await session.run({ [inputName]: new ort!.Tensor('float32', nchw, [1, c, h, w]) });
    const expected = Array.from(result[session.outputNames[0]!]!.data as Float32Array);
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(nchw, [1, c, h, w]), [0, 2, 3, 1]));
    const values = tf.tidy(() => runForward(built.host.program, x));
    const ours = Array.from(values[built.host.program.outputSlots[0]!]!.dataSync());
    tf.dispose(values.filter((v): v is tf.Tensor => !!v));
    built.host.dispose();
    const scale = Math.max(...expected.map(Math.abs));
    const diff = Math.max(...ours.map((v, i) => Math.abs(v - (expected[i] ?? NaN))));
    console.log(`${name}: max|diff| vs onnxruntime ${diff.toExponential(2)} (max |logit| ${scale.toFixed(3)})`);
    expect(ours).toHaveLength(expected.length);
    expect(diff).toBeLessThanOrEqual(1e-4 * scale);
  });
});
