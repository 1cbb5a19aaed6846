/**
 * The metrics on real models built here (real tfjs ops on the CPU backend): faithfulness through the
 * model's own forward passes, the sanity check on copies of the weights. Tensor counts must not grow,
 * and the user's model must come out unchanged.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildTestModel, testImage } from '../../test-support/test-models';
import { loadedModelFromLayersModel } from '../model';
import { measureFaithfulness, classProbability } from './measure';
import { sanityCheck } from './sanity';
import type { Heatmap } from '../../shared/types';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('measureFaithfulness on a nested model', () => {
  it('scores each map and the references through the model, leaking nothing', async () => {
    const lm = await loadedModelFromLayersModel(buildTestModel('e').model);
    const image = testImage();
    const explained = await lm.explain(image, { methods: ['gradcam', 'guided-backprop'] });
    const gradcam = explained.maps.gradcam!;
    const guided = explained.maps['guided-backprop']!;
    const maps: Record<string, Heatmap> = {
      gradcam: gradcam.kind === 'heatmap' ? gradcam.upsampled : gradcam.saliency,
      'guided-backprop': guided.kind === 'rgb' ? guided.saliency : guided.upsampled,
    };
    lm.clearCache();
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const result = await measureFaithfulness(lm, {
      image, classIndex: explained.classIndex, maps, options: { steps: 10, batchSize: 7 }, onProgress: (f) => progress.push(f),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.probability).toBeCloseTo(explained.probability, 4);
    for (const s of [result.methods.gradcam!, result.methods['guided-backprop']!, result.references.random, result.references.centre]) {
      expect(s.deletion.y).toHaveLength(11);
      // Nothing removed = the image; everything inserted = the image.
      expect(s.deletion.y[0]).toBeCloseTo(explained.probability, 4);
      expect(s.insertion.y[10]).toBeCloseTo(explained.probability, 4);
      expect(s.deletion.auc).toBeGreaterThanOrEqual(0);
      expect(s.deletion.auc).toBeLessThanOrEqual(1);
      expect(s.road.morf).toHaveLength(9);
    }
    // Everything removed is the baseline, whatever the map.
    expect(result.methods.gradcam!.deletion.y[10]).toBeCloseTo(result.references.random.deletion.y[10]!, 5);
    expect(result.forwardPasses).toBe(1 + 4 * (2 * 11 + 18 + 1));
    expect(progress.at(-1)).toBe(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    lm.dispose();
  });

  it('the batch probability is the softmax of the model output', async () => {
    const t = buildTestModel('c');
    const lm = await loadedModelFromLayersModel(t.model);
    const batch = tf.randomUniform([3, 16, 16, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const probability = await classProbability(lm, 1)(batch);
    const expected = tf.tidy(() => (lm.model!.predict(batch) as tf.Tensor2D).slice([0, 1], [3, 1]).reshape([-1]));
    Array.from(await expected.data()).forEach((p, i) => expect(probability[i]).toBeCloseTo(p, 5));
    tf.dispose([batch, expected]);
    lm.dispose();
  });
});

describe('sanityCheck', () => {
  it('randomises a copy from the head down; the user model is unchanged, nothing leaks', async () => {
    const t = buildTestModel('e');
    const lm = await loadedModelFromLayersModel(t.model);
    const image = testImage();
    const weightsBefore = await Promise.all(lm.model!.getWeights().map((w) => w.data()));
    const before = tf.memory().numTensors;
    const fractions: number[] = [];
    const result = await sanityCheck({
      loaded: lm, image, explain: { methods: ['gradcam', 'guided-backprop'] }, classIndex: 0, onStep: (f) => void fractions.push(f),
    });
    lm.clearCache();
    expect(tf.memory().numTensors).toBe(before);
    const weightsAfter = await Promise.all(lm.model!.getWeights().map((w) => w.data()));
    weightsAfter.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(weightsBefore[i]!)));
    expect(result.steps[0]!.label).toBe('original');
    // The head (the dense layer) first, each step adding one more layer.
    expect(result.steps[1]!.randomised).toHaveLength(1);
    expect(result.steps.at(-1)!.randomised.length).toBe(result.steps.length - 1);
    expect(result.steps[1]!.randomised[0]).toMatch(/dense|logits|head|out/i);
    for (const id of ['gradcam', 'guided-backprop'] as const) {
      const s = result.methods[id]!;
      expect(s.spearman).toHaveLength(result.steps.length);
      expect(s.spearman[0]).toBe(1);
      expect(s.spearman.slice(1).some((r) => r < 0.999)).toBe(true);
    }
    expect(fractions.at(-1)).toBe(1);
    lm.dispose();
  });

  it('stops with CANCELLED and frees the copy', async () => {
    const lm = await loadedModelFromLayersModel(buildTestModel('e').model);
    const image = testImage();
    await lm.predict(image);
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const run = sanityCheck({ loaded: lm, image, explain: { methods: ['gradcam'] }, classIndex: 0, mode: 'independent', signal: controller.signal, onStep: () => controller.abort() });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(tf.memory().numTensors).toBe(before);
    lm.dispose();
  });
});
