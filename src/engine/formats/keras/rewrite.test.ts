import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { buildSkeleton } from './skeleton';
import { keras3ObjectPaths, type JsonObject } from './config';
import { call, inputLayer, model, tensor } from './test-configs';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

/** TF 2 transfer-learning tutorial shape: augmentation Sequential, then preprocess_input as TFOpLambdas. */
function tf2TutorialConfig(): JsonObject {
  const augmentation = {
    class_name: 'Sequential',
    config: {
      name: 'data_augmentation',
      layers: [
        { class_name: 'InputLayer', config: { batch_input_shape: [null, 8, 8, 3], dtype: 'float32', sparse: false, ragged: false, name: 'input_1' } },
        { class_name: 'RandomFlip', config: { name: 'random_flip', trainable: true, dtype: 'float32', mode: 'horizontal', seed: null } },
        { class_name: 'RandomRotation', config: { name: 'random_rotation', trainable: true, dtype: 'float32', factor: 0.2, fill_mode: 'reflect', interpolation: 'bilinear', seed: null, fill_value: 0.0 } },
      ],
    },
    name: 'data_augmentation',
    inbound_nodes: [[['input_2', 0, 0, {}]]],
  };
  return {
    class_name: 'Functional',
    config: {
      name: 'model',
      layers: [
        { class_name: 'InputLayer', config: { batch_input_shape: [null, 8, 8, 3], dtype: 'float32', sparse: false, ragged: false, name: 'input_2' }, name: 'input_2', inbound_nodes: [] },
        augmentation,
        { class_name: 'TFOpLambda', config: { name: 'tf.math.truediv', trainable: true, dtype: 'float32', function: 'math.truediv' }, name: 'tf.math.truediv', inbound_nodes: [['data_augmentation', 0, 0, { y: 127.5, name: null }]] },
        { class_name: 'TFOpLambda', config: { name: 'tf.math.subtract', trainable: true, dtype: 'float32', function: 'math.subtract' }, name: 'tf.math.subtract', inbound_nodes: [['tf.math.truediv', 0, 0, { y: 1.0, name: null }]] },
      ],
      input_layers: [['input_2', 0, 0]],
      output_layers: [['tf.math.subtract', 0, 0]],
    },
  };
}

function keras3OpsConfig(): JsonObject {
  const op = (className: string, name: string, args: unknown[]): JsonObject => ({ module: 'keras.src.ops.numpy', class_name: className, config: { name }, registered_name: className, name, inbound_nodes: [{ args, kwargs: {} }] });
  return model('Functional', {
    name: 'functional',
    layers: [
      inputLayer('input_layer', [null, 4], true),
      op('TrueDivide', 'true_divide', [tensor('input_layer'), 127.5]),
      op('Subtract', 'subtract', [tensor('true_divide'), 1.0]),
      op('Subtract', 'subtract_1', [0.5, tensor('subtract')]),
      { module: 'keras.layers', class_name: 'Dense', config: { name: 'dense', units: 2, activation: 'linear', use_bias: true }, registered_name: null, name: 'dense', inbound_nodes: [call(tensor('subtract_1'))] },
    ],
    input_layers: [['input_layer', 0, 0]],
    output_layers: [['dense', 0, 0]],
  });
}

describe('rewriteForInference (through buildSkeleton)', () => {
  it('passes augmentation layers through with a notice and turns TFOpLambda x/127.5 - 1 into exact Rescaling', async () => {
    const { model: built, warnings } = await buildSkeleton(tf2TutorialConfig());
    expect(warnings.map((w) => w.code)).toEqual(['TRAINING_ONLY_LAYER', 'TRAINING_ONLY_LAYER']);
    expect(warnings[0].message).toContain('"random_flip" (RandomFlip)');
    expect(built.getLayer('tf.math.subtract').getClassName()).toBe('Rescaling');
    const x = tf.tensor4d(Float32Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => (i * 37) % 256), [2, 8, 8, 3]);
    const y = built.predict(x) as tf.Tensor;
    const expected = x.div(127.5).sub(1);
    expect(tf.max(tf.abs(tf.sub(y, expected))).dataSync()[0]).toBeLessThan(1e-6);
    tf.dispose([x, y, expected]);
    built.dispose();
  });

  it('turns Keras 3 ops with a constant (either side) into Rescaling, and leaves them out of weight paths', async () => {
    const raw = keras3OpsConfig();
    const { model: built, warnings } = await buildSkeleton(raw);
    expect(warnings).toEqual([]);
    const dense = built.getLayer('dense');
    dense.setWeights([tf.eye(4, 2), tf.zeros([2])]);
    const x = tf.tensor2d([[0, 127.5, 255, 63.75]]);
    const y = (built.predict(x) as tf.Tensor).dataSync();
    // 0.5 - (x / 127.5 - 1), first two columns.
    expect(Array.from(y)).toEqual([1.5, 0.5]);
    tf.dispose(x);
    built.dispose();
    expect(keras3ObjectPaths(raw).get('dense')).toBe('layers/dense');
    expect(keras3ObjectPaths(raw).has('subtract')).toBe(false);
  });

  it('leaves a TFOpLambda between two tensors alone, so it is reported as unsupported', async () => {
    const raw = tf2TutorialConfig();
    const layers = (raw.config as JsonObject).layers as JsonObject[];
    layers[3].inbound_nodes = [['tf.math.truediv', 0, 0, { y: ['input_2', 0, 0], name: null }]];
    await expect(buildSkeleton(raw)).rejects.toMatchObject({ code: 'UNSUPPORTED_LAYER', message: expect.stringContaining('"tf.math.subtract" uses class TFOpLambda') });
  });
});
