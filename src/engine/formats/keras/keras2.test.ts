import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import * as hdf5 from 'jsfive';
import { PNG } from 'pngjs';
import { fromBytes } from '../../files';
import { keras3Reader, kerasH5Reader } from './index';
import { exportLayersModelAsTfjs } from '../export-tfjs';
import type { OpenedModel } from '../reader';

const FIXTURE = resolve(process.cwd(), '../shared/fixtures/models/fer-mini-xception-h5/fer2013_mini_XCEPTION.102-0.66.hdf5');
const HAS_FIXTURE = existsSync(FIXTURE);
const ASTRONAUT = resolve(process.cwd(), '../shared/fixtures/images/skimage_astronaut.png');
const LABELS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

/** A deterministic batch in [-1, 1] (the model's input range): two different smooth patterns. */
function testBatch(): tf.Tensor4D {
  const values = new Float32Array(2 * 64 * 64);
  for (let b = 0; b < 2; b++)
    for (let y = 0; y < 64; y++)
      for (let x = 0; x < 64; x++) values[b * 4096 + y * 64 + x] = Math.sin((x + 1) * (y + 2) * (b + 1) * 0.013) * Math.cos(x * 0.21 - y * 0.07 * (b + 1));
  return tf.tensor4d(values, [2, 64, 64, 1]);
}

describe.skipIf(!HAS_FIXTURE)('Keras 2.0.5 HDF5 fixture fer2013_mini_XCEPTION (skipped: ../shared/fixtures absent)', () => {
  let bytes: Uint8Array;
  let opened: OpenedModel;
  let model: tf.LayersModel;

  beforeAll(async () => {
    await tf.setBackend('wasm');
    bytes = new Uint8Array(readFileSync(FIXTURE));
    const files = [fromBytes('fer2013_mini_XCEPTION.102-0.66.hdf5', bytes), fromBytes('labels.txt', new TextEncoder().encode(LABELS.map((l, i) => `${i} ${l}`).join('\n') + '\n'))];
    expect(await kerasH5Reader.match(files)).toBe(true);
    expect(await keras3Reader.match(files)).toBe(false);
    opened = await kerasH5Reader.open(files);
    model = await tf.loadLayersModel(tf.io.fromMemory(opened.artifacts));
  });

  it('opens as a 46-layer functional model with a 64×64×1 input, 7 outputs and the labels.txt labels', () => {
    expect(opened.format).toBe('keras-h5');
    expect(model.layers).toHaveLength(46);
    expect(model.inputs[0].shape).toEqual([null, 64, 64, 1]);
    expect(model.outputs[0].shape).toEqual([null, 7]);
    expect(opened.labels).toEqual(LABELS);
    const topology = opened.artifacts.modelTopology as { class_name: string; keras_version: string };
    expect(topology.class_name).toBe('Model');
    expect(topology.keras_version).toBe('2.0.5');
    expect(model.layers.filter((l) => l.getClassName() === 'SeparableConv2D')).toHaveLength(8);
  });

  it('puts every value of the file into the variable of the layer whose group holds it', () => {
    // Independent read of the file: model_weights/<layer>/<weight_name> → <layer>/<variable>.
    const file = new hdf5.File(bytes.slice().buffer, 'x.h5');
    const byName = new Map(model.weights.map((w) => [w.originalName, w]));
    let checked = 0;
    for (const layer of model.layers) {
      const group = file.get(`model_weights/${layer.name}`) as hdf5.Group;
      const names = (group.attrs.weight_names ?? []) as string[];
      for (const raw of names) {
        const name = raw.replace(/\0+$/, '');
        const dataset = group.get(name) as hdf5.Dataset;
        const variable = byName.get(`${layer.name}/${name.replace(/:0$/, '').split('/').pop()}`);
        expect(variable, name).toBeDefined();
        expect(variable!.shape).toEqual(dataset.shape);
        const actual = variable!.read().dataSync();
        const expected = Float32Array.from(dataset.value as ArrayLike<number>);
        expect(tf.util.arraysEqual(actual, expected), name).toBe(true);
        checked++;
      }
    }
    expect(checked).toBe(model.weights.length);
    // BatchNormalization variances are positive: a sign of values landing in the right variables.
    for (const w of model.weights.filter((v) => v.originalName.endsWith('moving_variance'))) expect(w.read().min().dataSync()[0]).toBeGreaterThan(0);
  });

  it('predicts probabilities that the same model exported as TF.js and reloaded reproduces (≤ 1e-5)', async () => {
    const input = testBatch();
    const probabilities = model.predict(input) as tf.Tensor;
    const sums = probabilities.sum(1).arraySync() as number[];
    for (const s of sums) expect(s).toBeCloseTo(1, 5);

    const files = await exportLayersModelAsTfjs(model, LABELS);
    expect(files.map((f) => f.name)).toEqual(['model.json', 'weights.bin', 'metadata.json']);
    const modelJson = JSON.parse(new TextDecoder().decode(files[0].data)) as { format: string; modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(JSON.parse(new TextDecoder().decode(files[2].data)).labels).toEqual(LABELS);
    const weights = files[1].data;
    const reloaded = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData: weights.slice().buffer }),
    );
    const again = reloaded.predict(input) as tf.Tensor;
    const diff = tf.max(tf.abs(tf.sub(probabilities, again))).dataSync()[0];
    expect(diff).toBeLessThanOrEqual(1e-5);
    // The two inputs differ, and so do their predictions: the comparison is not of constants.
    const rows = probabilities.arraySync() as number[][];
    expect(Math.max(...rows[0].map((p, i) => Math.abs(p - rows[1][i])))).toBeGreaterThan(1e-4);
    tf.dispose([input, probabilities, again]);
    reloaded.dispose();
  });

  it.skipIf(!existsSync(ASTRONAUT))('reads a smiling face as happy (the weights are the trained ones, in the right places)', () => {
    const png = PNG.sync.read(readFileSync(ASTRONAUT));
    const probabilities = tf.tidy(() => {
      const rgb = tf.tensor3d(Float32Array.from(png.data), [png.height, png.width, 4]).slice([0, 0, 0], [-1, -1, 3]);
      // The astronaut's face: grayscale, 64×64, x/255 then (x - 0.5) * 2 as the model was trained.
      const face = rgb.mean(2, true).slice([60, 160, 0], [120, 120, 1]) as tf.Tensor3D;
      const input = tf.image.resizeBilinear(face, [64, 64]).div(255).sub(0.5).mul(2).expandDims(0);
      return Array.from((model.predict(input) as tf.Tensor).dataSync());
    });
    const top = probabilities.indexOf(Math.max(...probabilities));
    expect(LABELS[top]).toBe('happy');
    expect(probabilities[top]).toBeGreaterThan(0.9);
  });
});
