/**
 * The default layer on flat networks whose heads end in 1×1 "maps": a converter-style flat
 * MobileNetV2 (out_relu → 1×1 average pooling → flatten → dense) and a Keras MobileNet v1 head
 * (global pooling → reshape_1 1×1 → dropout → conv_preds 1×1 → reshape_2 → softmax). A 1×1 output is
 * rank 4 but not a map: it is marked in the tree and never the default.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { loadedModelFromLayersModel } from './model';
import { flattenTree } from './tree';
import { binaryLabels, headKind } from './model';

type T = tf.SymbolicTensor;
const SIZE = 32;

function relu6(x: T, name: string): T {
  return tf.layers.reLU({ name, maxValue: 6 }).apply(x) as T;
}

/** A small flat MobileNetV2 as the TF.js converter writes it: no nested base model. */
function flatMobileNetV2(): tf.LayersModel {
  const input = tf.input({ shape: [SIZE, SIZE, 3], name: 'input_1' });
  let x = tf.layers.conv2d({ name: 'Conv1', filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false }).apply(input) as T;
  x = relu6(tf.layers.batchNormalization({ name: 'bn_Conv1' }).apply(x) as T, 'Conv1_relu');
  const y = tf.layers.depthwiseConv2d({ name: 'block_1_depthwise', kernelSize: 3, padding: 'same', useBias: false }).apply(x) as T;
  x = tf.layers.add({ name: 'block_1_add' }).apply([x, relu6(y, 'block_1_depthwise_relu')]) as T;
  x = tf.layers.conv2d({ name: 'Conv_1', filters: 16, kernelSize: 1, useBias: false }).apply(x) as T;
  x = relu6(tf.layers.batchNormalization({ name: 'Conv_1_bn' }).apply(x) as T, 'out_relu');
  x = tf.layers.averagePooling2d({ name: 'average_pooling2d', poolSize: SIZE / 2 }).apply(x) as T; // 1×1×16
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as T;
  const out = tf.layers.dense({ name: 'dense', units: 4, activation: 'softmax' }).apply(x) as T;
  return tf.model({ inputs: input, outputs: out, name: 'mobilenetv2_flat' });
}

/** Keras's MobileNet v1 top: pooled features reshaped to 1×1, a 1×1 conv as the classifier. */
function kerasMobileNetV1(): tf.LayersModel {
  const input = tf.input({ shape: [SIZE, SIZE, 3], name: 'input_1' });
  let x = relu6(tf.layers.conv2d({ name: 'conv1', filters: 8, kernelSize: 3, strides: 2, padding: 'same' }).apply(input) as T, 'conv1_relu');
  x = relu6(tf.layers.depthwiseConv2d({ name: 'conv_dw_13', kernelSize: 3, padding: 'same' }).apply(x) as T, 'conv_dw_13_relu');
  x = relu6(tf.layers.conv2d({ name: 'conv_pw_13', filters: 16, kernelSize: 1 }).apply(x) as T, 'conv_pw_13_relu');
  x = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(x) as T;
  x = tf.layers.reshape({ name: 'reshape_1', targetShape: [1, 1, 16] }).apply(x) as T;
  x = tf.layers.dropout({ name: 'dropout', rate: 0.001 }).apply(x) as T;
  x = tf.layers.conv2d({ name: 'conv_preds', filters: 5, kernelSize: 1, padding: 'same' }).apply(x) as T;
  x = tf.layers.reshape({ name: 'reshape_2', targetShape: [5] }).apply(x) as T;
  const out = tf.layers.activation({ name: 'act_softmax', activation: 'softmax' }).apply(x) as T;
  return tf.model({ inputs: input, outputs: out, name: 'mobilenet_1.00_32' });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('default layer on flat networks', () => {
  it('flat MobileNetV2: out_relu, not the 1×1 average pooling; the pooling is marked, still explainable', async () => {
    const lm = await loadedModelFromLayersModel(flatMobileNetV2());
    try {
      expect(lm.summary.defaultLayerPath).toBe('mobilenetv2_flat/out_relu');
      const pooling = flattenTree(lm.summary.tree).find((n) => n.name === 'average_pooling2d')!;
      expect(pooling).toMatchObject({ outputShape: [null, 1, 1, 16], explainable: true });
      expect(pooling.note).toMatch(/flat colour/);
      expect(flattenTree(lm.summary.tree).find((n) => n.name === 'out_relu')!.note).toBeUndefined();
    } finally {
      lm.dispose();
    }
  });

  it('Keras MobileNet v1: conv_pw_13_relu, not reshape_1 or conv_preds (both 1×1)', async () => {
    const lm = await loadedModelFromLayersModel(kerasMobileNetV1());
    try {
      expect(lm.summary.defaultLayerPath).toBe('mobilenet_1.00_32/conv_pw_13_relu');
      const nodes = flattenTree(lm.summary.tree);
      for (const name of ['reshape_1', 'dropout', 'conv_preds']) expect(nodes.find((n) => n.name === name)!.note).toBeDefined();
    } finally {
      lm.dispose();
    }
  });

  it('a reshape of a map counts as the map it reshapes', async () => {
    const input = tf.input({ shape: [8, 8, 3], name: 'in' });
    const conv = tf.layers.conv2d({ name: 'features', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input) as T;
    const reshaped = tf.layers.reshape({ name: 'same_map', targetShape: [8, 8, 4] }).apply(conv) as T;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(reshaped) as T;
    const out = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(pooled) as T;
    const lm = await loadedModelFromLayersModel(tf.model({ inputs: input, outputs: out, name: 'r' }));
    try {
      expect(lm.summary.defaultLayerPath).toBe('r/features');
    } finally {
      lm.dispose();
    }
  });
});

describe('heads', () => {
  it('kinds: one unit is binary, several sigmoids multi-label, softmax, logits', () => {
    expect(headKind('sigmoid', 1)).toBe('binary');
    expect(headKind('linear', 1)).toBe('binary');
    expect(headKind('sigmoid', 5)).toBe('multi-label');
    expect(headKind('softmax', 5)).toBe('softmax');
    expect(headKind('linear', 5)).toBe('logits');
    expect(binaryLabels(['real'])).toEqual(['real', 'not real']);
    expect(binaryLabels(['cat', 'dog'])).toEqual(['dog', 'cat']); // Keras: the unit is class 1
    expect(binaryLabels(undefined)).toEqual(['class 0', 'not class 0']);
  });

  it('a Dense(1, sigmoid) layers model: two classes, p and 1 − p, the second explained by the negated logit', async () => {
    const input = tf.input({ shape: [8, 8, 3], name: 'in' });
    const conv = tf.layers.conv2d({ name: 'features', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(input) as T;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(conv) as T;
    const out = tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(pooled) as T;
    const lm = await loadedModelFromLayersModel(tf.model({ inputs: input, outputs: out, name: 'bin' }), { labels: ['dog'] });
    try {
      expect(lm.summary.head).toBe('binary');
      expect(lm.summary.labels).toEqual(['dog', 'not dog']);
      const data = new Uint8ClampedArray(8 * 8 * 4).map((_, i) => (i * 37) % 256);
      const image = { width: 8, height: 8, data };
      const dog = await lm.explain(image, { methods: ['gradcam'], target: 'dog' });
      const notDog = await lm.explain(image, { methods: ['gradcam'], target: 'not dog' });
      const counter = await lm.explain(image, { methods: ['gradcam'], target: 'dog', counterfactual: true });
      expect(dog.predictions).toHaveLength(2);
      expect(dog.predictions[0]!.probability + dog.predictions[1]!.probability).toBeCloseTo(1, 6);
      expect(notDog.score).toBeCloseTo(-dog.score, 6);
      expect(notDog.probability).toBeCloseTo(1 - dog.probability, 6);
      expect(counter.score).toBeCloseTo(notDog.score, 6);
      const p = 1 / (1 + Math.exp(-dog.score));
      expect(dog.probability).toBeCloseTo(p, 5);
    } finally {
      lm.dispose();
    }
  });

  it('multi-label sigmoid: each label on its own (probabilities need not sum to 1)', async () => {
    const input = tf.input({ shape: [8, 8, 3], name: 'in' });
    const conv = tf.layers.conv2d({ name: 'features', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input) as T;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(conv) as T;
    const out = tf.layers.dense({ units: 3, activation: 'sigmoid', biasInitializer: tf.initializers.constant({ value: 2 }) }).apply(pooled) as T;
    const lm = await loadedModelFromLayersModel(tf.model({ inputs: input, outputs: out, name: 'ml' }));
    try {
      expect(lm.summary.head).toBe('multi-label');
      const image = { width: 8, height: 8, data: new Uint8ClampedArray(8 * 8 * 4).fill(128) };
      const r = await lm.explain(image, { methods: ['gradcam'] });
      for (const p of r.predictions) expect(p.probability).toBeCloseTo(1 / (1 + Math.exp(-p.logit)), 5);
      expect(r.predictions.reduce((s, p) => s + p.probability, 0)).toBeGreaterThan(1.5); // bias 2: each ≈ 0.88
    } finally {
      lm.dispose();
    }
  });
});
