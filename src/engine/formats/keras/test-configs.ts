/**
 * Test data (imported only by tests). Hand-written configs in the exact shape Keras 3 writes to config.json (module/registered_name/
 * build_config keys, DTypePolicy objects, `batch_shape`, `{args, kwargs}` nodes with
 * `__keras_tensor__` references), for the normalisation and weight-path tests. Plain JSON, no tfjs.
 */
import type { JsonObject } from './config';

export const policy = (name = 'float32'): JsonObject => ({ module: 'keras', class_name: 'DTypePolicy', config: { name }, registered_name: null });
const initializer = (className: string): JsonObject => ({ module: 'keras.initializers', class_name: className, config: className === 'Zeros' || className === 'Ones' ? {} : { seed: null }, registered_name: null });

export const tensor = (layer: string, node = 0, index = 0, shape: (number | null)[] = [null]): JsonObject => ({
  class_name: '__keras_tensor__',
  config: { shape, dtype: 'float32', keras_history: [layer, node, index] },
});
/** One call of a layer: `args` as Keras 3 writes them (a tensor, or a list of tensors for Add). */
export const call = (...args: unknown[]): JsonObject => ({ args, kwargs: {} });

export function layer(className: string, name: string, config: JsonObject, inboundNodes?: JsonObject[]): JsonObject {
  const out: JsonObject = {
    module: 'keras.layers',
    class_name: className,
    config: { name, trainable: true, dtype: policy(), ...config },
    registered_name: null,
    build_config: { input_shape: [null, 8, 8, 3] },
  };
  if (inboundNodes) {
    out.name = name;
    out.inbound_nodes = inboundNodes;
  }
  return out;
}

export function inputLayer(name: string, batchShape: (number | null)[], functional: boolean): JsonObject {
  const out: JsonObject = { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: batchShape, dtype: 'float32', sparse: false, name }, registered_name: null };
  if (functional) {
    out.name = name;
    out.inbound_nodes = [];
  }
  return out;
}

export const conv = (name: string, filters: number, extra: JsonObject = {}): JsonObject => ({
  filters,
  kernel_size: [3, 3],
  strides: [1, 1],
  padding: 'same',
  data_format: 'channels_last',
  dilation_rate: [1, 1],
  groups: 1,
  activation: 'relu',
  use_bias: true,
  kernel_initializer: initializer('GlorotUniform'),
  bias_initializer: initializer('Zeros'),
  kernel_regularizer: null,
  bias_regularizer: null,
  activity_regularizer: null,
  kernel_constraint: null,
  bias_constraint: null,
  ...extra,
  name,
});

export const dense = (units: number, activation = 'linear'): JsonObject => ({
  units,
  activation,
  use_bias: true,
  kernel_initializer: initializer('GlorotUniform'),
  bias_initializer: initializer('Zeros'),
  kernel_regularizer: null,
  bias_regularizer: null,
  kernel_constraint: null,
  bias_constraint: null,
  lora_rank: null,
});

export const batchNorm = (): JsonObject => ({
  axis: -1,
  momentum: 0.99,
  epsilon: 0.001,
  center: true,
  scale: true,
  beta_initializer: initializer('Zeros'),
  gamma_initializer: initializer('Ones'),
  moving_mean_initializer: initializer('Zeros'),
  moving_variance_initializer: initializer('Ones'),
  beta_regularizer: null,
  gamma_regularizer: null,
  beta_constraint: null,
  gamma_constraint: null,
  synchronized: false,
});

export function model(className: 'Functional' | 'Sequential', config: JsonObject): JsonObject {
  return {
    module: className === 'Functional' ? 'keras.src.models.functional' : 'keras',
    class_name: className,
    config: { trainable: true, dtype: policy(), ...config },
    registered_name: className,
    build_config: { input_shape: null },
  };
}

/** Functional: input → conv2d → batch_normalization → conv2d_1 → add(conv2d, conv2d_1) → gap → dense. */
export function functionalConfig(): JsonObject {
  return model('Functional', {
    name: 'functional',
    layers: [
      inputLayer('input_layer', [null, 8, 8, 3], true),
      layer('Conv2D', 'conv2d', conv('conv2d', 4), [call(tensor('input_layer'))]),
      layer('BatchNormalization', 'batch_normalization', batchNorm(), [call(tensor('conv2d'))]),
      layer('Conv2D', 'conv2d_1', conv('conv2d_1', 4), [call(tensor('batch_normalization'))]),
      layer('Add', 'add', {}, [call([tensor('conv2d'), tensor('conv2d_1')])]),
      layer('GlobalAveragePooling2D', 'global_average_pooling2d', { data_format: 'channels_last', keepdims: false }, [call(tensor('add'))]),
      layer('Dense', 'dense', dense(3, 'softmax'), [call(tensor('global_average_pooling2d'))]),
    ],
    // Keras 3.x writes a single input/output flat.
    input_layers: ['input_layer', 0, 0],
    output_layers: ['dense', 0, 0],
  });
}

export function sequentialConfig(): JsonObject {
  return model('Sequential', {
    name: 'sequential',
    layers: [
      inputLayer('input_layer', [null, 8, 8, 3], false),
      layer('Conv2D', 'conv2d', conv('conv2d', 4)),
      layer('MaxPooling2D', 'max_pooling2d', { pool_size: [2, 2], padding: 'valid', strides: [2, 2], data_format: 'channels_last' }),
      layer('Conv2D', 'conv2d_1', conv('conv2d_1', 6)),
      layer('Flatten', 'flatten', { data_format: 'channels_last' }),
      layer('Dense', 'dense', dense(5, 'relu')),
      layer('Dense', 'dense_1', dense(2, 'softmax')),
    ],
  });
}

/** Sequential > [Functional base (conv, bn, conv named out of class order), gap, Dense]: transfer learning. */
export function nestedConfig(): JsonObject {
  const base = model('Functional', {
    name: 'base',
    trainable: false,
    layers: [
      inputLayer('image', [null, 8, 8, 3], true),
      layer('Conv2D', 'stem', conv('stem', 4), [call(tensor('image'))]),
      layer('BatchNormalization', 'stem_bn', batchNorm(), [call(tensor('stem'))]),
      layer('Conv2D', 'top_conv', conv('top_conv', 5, { activation: 'linear' }), [call(tensor('stem_bn'))]),
      layer('ReLU', 'top_relu', { max_value: 6.0, negative_slope: 0.0, threshold: 0.0 }, [call(tensor('top_conv'))]),
    ],
    input_layers: [['image', 0, 0]],
    output_layers: [['top_relu', 0, 0]],
  });
  return model('Sequential', {
    name: 'classifier',
    layers: [
      inputLayer('input_layer', [null, 8, 8, 3], false),
      base,
      layer('GlobalAveragePooling2D', 'pool', { data_format: 'channels_last', keepdims: false }),
      layer('Dense', 'head', dense(3, 'softmax')),
    ],
  });
}

/** One Dense applied to two inputs (node 0 and node 1), then Concatenate. */
export function sharedLayerConfig(): JsonObject {
  return model('Functional', {
    name: 'siamese',
    layers: [
      inputLayer('left', [null, 4], true),
      inputLayer('right', [null, 4], true),
      layer('Dense', 'shared', dense(3, 'tanh'), [call(tensor('left')), call(tensor('right'))]),
      layer('Concatenate', 'concatenate', { axis: -1 }, [call([tensor('shared', 0, 0), tensor('shared', 1, 0)])]),
      layer('Dense', 'dense', dense(2), [call(tensor('concatenate'))]),
    ],
    input_layers: [
      ['left', 0, 0],
      ['right', 0, 0],
    ],
    output_layers: [['dense', 0, 0]],
  });
}

/** Keras's transfer-learning recipe: inputs → base(inputs, training=False) → pool → dropout → dense, all functional. */
export function functionalTransferConfig(): JsonObject {
  const base = model('Functional', {
    name: 'mobilenet',
    layers: [
      inputLayer('input_layer', [null, 8, 8, 3], true),
      layer('Conv2D', 'Conv1', conv('Conv1', 4, { strides: [2, 2] }), [call(tensor('input_layer'))]),
      layer('BatchNormalization', 'bn_Conv1', batchNorm(), [call(tensor('Conv1'))]),
      layer('ReLU', 'out_relu', { max_value: 6.0, negative_slope: 0.0, threshold: 0.0 }, [call(tensor('bn_Conv1'))]),
    ],
    input_layers: [['input_layer', 0, 0]],
    output_layers: [['out_relu', 0, 0]],
  });
  base.name = 'mobilenet';
  base.inbound_nodes = [{ args: [tensor('input_layer_1')], kwargs: { training: false } }];
  return model('Functional', {
    name: 'functional_1',
    layers: [
      inputLayer('input_layer_1', [null, 8, 8, 3], true),
      base,
      layer('GlobalAveragePooling2D', 'gap', { data_format: 'channels_last', keepdims: false }, [call(tensor('mobilenet'))]),
      layer('Dropout', 'dropout', { rate: 0.2, seed: null, noise_shape: null }, [call(tensor('gap'))]),
      layer('Dense', 'dense', dense(3, 'softmax'), [call(tensor('dropout'))]),
    ],
    input_layers: [['input_layer_1', 0, 0]],
    output_layers: [['dense', 0, 0]],
  });
}
