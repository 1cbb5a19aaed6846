import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { BATCHED_METHODS, explainBatch, explainEach } from './batch-explain';
import { loadedModelFromLayersModel } from './model';
import { buildTestModel, testImage } from '../test-support/test-models';
import type { RawImage } from './files';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Three different images of different sizes (the batch is preprocessed to one input size). */
function images(): RawImage[] {
  const a = testImage(24, 20);
  const b = testImage(16, 16);
  const c = testImage(30, 18);
  // Make b and c differ in content, not only in size.
  for (let i = 0; i < b.data.length; i += 4) b.data[i + 1] = 255 - b.data[i + 1]!;
  for (let i = 0; i < c.data.length; i += 4) c.data[i + 2] = (c.data[i]! * 3) % 256;
  return [a, b, c];
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('explainBatch', () => {
  it('gives each image of a batch the map, class and top-5 of the single-image path, each row at its own class', async () => {
    const { model, innerLayerPath } = buildTestModel('e', { classes: 4 });
    const loaded = await loadedModelFromLayersModel(model);
    try {
      const imgs = images();
      const targets = [null, 2, 0];
      const before = tf.memory().numTensors;
      // The batched pass runs the method files' own batch-native formulas (MethodImplementation.weighted).
      expect([...BATCHED_METHODS]).toEqual(expect.arrayContaining(['gradcam', 'gradcam-plus-plus', 'xgradcam', 'hirescam', 'layercam', 'gradcam-elementwise']));
      for (const method of BATCHED_METHODS) {
        for (const layerPath of [null, innerLayerPath]) {
          const batched = await explainBatch(loaded, imgs, { method, layerPath, targets });
          const single = await explainEach(loaded, imgs, { method, layerPath }, targets, 32);
          expect(batched).toHaveLength(3);
          for (const [i, b] of batched.entries()) {
            const s = single[i]!;
            expect(b.classIndex).toBe(s.classIndex);
            expect(b.top5.map((p) => p.index)).toEqual(s.top5.map((p) => p.index));
            expect(b.top5[0]!.probability).toBeCloseTo(s.top5[0]!.probability, 5);
            expect(b.map.width).toBe(32);
            expect(b.rawMax).toBeCloseTo(s.rawMax, 4);
            expect(maxDiff(b.map.data, s.map.data), `${method} at ${layerPath ?? 'the default layer'}, image ${i}`).toBeLessThan(1e-4);
          }
          // The explicit targets are the classes explained; null is the top-1.
          expect(batched[1]!.classIndex).toBe(2);
          expect(batched[2]!.classIndex).toBe(0);
          expect(batched[0]!.classIndex).toBe(batched[0]!.top5[0]!.index);
        }
      }
      // Nothing of the batches is kept.
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      loaded.dispose();
    }
  });

  it('runs any other method image by image (guided backprop: its saliency at the gallery resolution)', async () => {
    const { model } = buildTestModel('a', { classes: 3 });
    const loaded = await loadedModelFromLayersModel(model);
    try {
      const out = await explainBatch(loaded, images().slice(0, 2), { method: 'guided-backprop' });
      expect(out).toHaveLength(2);
      for (const r of out) {
        expect(r.map.data.length).toBe(32 * 32);
        expect(Math.max(...r.map.data)).toBeCloseTo(1, 5);
      }
    } finally {
      loaded.dispose();
    }
  });

  it('a single sigmoid unit: the second class is explained by the negated logit, per row', async () => {
    type T = tf.SymbolicTensor;
    const input = tf.input({ shape: [8, 8, 3], name: 'in' });
    const conv = tf.layers.conv2d({ name: 'features', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(input) as T;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(conv) as T;
    const out = tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(pooled) as T;
    const loaded = await loadedModelFromLayersModel(tf.model({ inputs: input, outputs: out, name: 'bin' }), { labels: ['dog'] });
    try {
      const imgs = images();
      const targets = [0, 1, 1];
      const batched = await explainBatch(loaded, imgs, { method: 'gradcam', targets });
      const single = await explainEach(loaded, imgs, { method: 'gradcam' }, targets, 32);
      for (const [i, b] of batched.entries()) {
        expect(b.classIndex).toBe(targets[i]);
        expect(maxDiff(b.map.data, single[i]!.map.data)).toBeLessThan(1e-4);
      }
    } finally {
      loaded.dispose();
    }
  });

  it('stops with CANCELLED when aborted', async () => {
    const { model } = buildTestModel('c');
    const loaded = await loadedModelFromLayersModel(model);
    try {
      const controller = new AbortController();
      controller.abort();
      await expect(explainBatch(loaded, images(), { method: 'gradcam' }, controller.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
    } finally {
      loaded.dispose();
    }
  });
});
