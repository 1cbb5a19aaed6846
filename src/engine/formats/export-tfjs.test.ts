import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { fromBytes } from '../files';
import { exportLayersModelAsTfjs } from './export-tfjs';
import { openModel } from './index';

/** Sequential > [Functional base (conv, BN, depthwise), GAP, Dense softmax]: nesting survives the round trip. */
function nestedModel(): tf.LayersModel {
  const input = tf.input({ shape: [12, 12, 3], name: 'image' });
  let x = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'stem' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'stem_bn' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu', name: 'dw' }).apply(x) as tf.SymbolicTensor;
  const base = tf.model({ inputs: input, outputs: x, name: 'base' });
  const model = tf.sequential({ name: 'classifier' });
  model.add(base);
  model.add(tf.layers.globalAveragePooling2d({ name: 'pool' }));
  model.add(tf.layers.dense({ units: 4, activation: 'softmax', name: 'head' }));
  // Non-default BN statistics, so that forgetting non-trainable weights would show.
  const bn = base.getLayer('stem_bn');
  bn.setWeights(bn.getWeights().map((w, i) => tf.add(w, tf.fill(w.shape, 0.3 * (i + 1)))));
  return model;
}

describe('exportLayersModelAsTfjs', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('writes model.json + weights.bin + metadata.json that reload to the same predictions (≤ 1e-5), nesting and labels kept', async () => {
    const model = nestedModel();
    const labels = ['cat', 'dog', 'bird', 'fish'];
    const files = await exportLayersModelAsTfjs(model, labels);
    expect(files.map((f) => f.name)).toEqual(['model.json', 'weights.bin', 'metadata.json']);
    const modelJson = JSON.parse(new TextDecoder().decode(files[0].data));
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.weightsManifest).toHaveLength(1);
    expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    const expectedBytes = model.weights.reduce((sum, w) => sum + w.shape.reduce((a: number, b) => a * (b as number), 1) * 4, 0);
    expect(files[1].data.byteLength).toBe(expectedBytes);
    expect(JSON.parse(new TextDecoder().decode(files[2].data)).labels).toEqual(labels);

    // Through the app's own loader, as a user dropping the three downloaded files would.
    const opened = await openModel(files.map((f) => fromBytes(f.name, f.data)));
    expect(opened.labels).toEqual(labels);
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(opened.artifacts));
    expect((reloaded.getLayer('base') as tf.LayersModel).layers.map((l) => l.name)).toEqual(['image', 'stem', 'stem_bn', 'dw']);

    const input = tf.tensor4d(Float32Array.from({ length: 2 * 12 * 12 * 3 }, (_, i) => Math.sin(i * 0.31)), [2, 12, 12, 3]);
    const before = model.predict(input) as tf.Tensor;
    const after = reloaded.predict(input) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(before, after))).dataSync()[0]).toBeLessThanOrEqual(1e-5);
    tf.dispose([input, before, after]);
    model.dispose();
    reloaded.dispose();
  });

  it('writes the preprocessing into metadata.json, and the app reads it back', async () => {
    const model = tf.sequential({ layers: [tf.layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [8, 8, 3] }), tf.layers.flatten(), tf.layers.dense({ units: 2, activation: 'softmax' })] });
    const files = await exportLayersModelAsTfjs(model, ['a', 'b'], { normalization: 'symmetric', resize: 'center-crop' });
    expect(JSON.parse(new TextDecoder().decode(files[2].data)).preprocess).toEqual({ normalization: 'symmetric', resize: 'center-crop' });
    const opened = await openModel(files.map((f) => fromBytes(f.name, f.data)));
    expect(opened.preprocess).toMatchObject({ normalization: 'symmetric', resize: 'center-crop' });
    model.dispose();
  });

  it('omits labels from metadata.json when there are none', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    const files = await exportLayersModelAsTfjs(model);
    expect(JSON.parse(new TextDecoder().decode(files[2].data)).labels).toBeUndefined();
    model.dispose();
  });
});
