/**
 * Benchmark models with the shapes of MobileNetV2 (alpha 1.0), VGG16 and ResNet50 at 224×224,
 * random weights, each base nested as ONE layer in a Sequential classifier (the transfer-learning
 * shape the product is about). Plain tf.layers: usable from Node and from the browser bench.
 */
import * as tf from '@tensorflow/tfjs';

export interface BenchModel {
  name: string;
  model: tf.Sequential;
  /** Layer names inside the base: the last spatial layer and an early one (for Grad-CAM). */
  lastLayer: string;
  earlyLayer: string;
}

export type BenchModelName = 'mobilenet_v2' | 'vgg16' | 'resnet50';
export const BENCH_MODELS: readonly BenchModelName[] = ['mobilenet_v2', 'vgg16', 'resnet50'];

const SIZE = 224;
const CLASSES = 1000;

/** Seeded initialisers: the bench does the same work on every run. */
let seedCounter = 1;
const kernelInit = () => tf.initializers.heNormal({ seed: seedCounter++ });
const smallInit = () => tf.initializers.randomUniform({ minval: 0.8, maxval: 1.2, seed: seedCounter++ });

type T = tf.SymbolicTensor;

function conv(x: T, name: string, filters: number, kernelSize: number, strides = 1, bias = false): T {
  return tf.layers.conv2d({ name, filters, kernelSize, strides, padding: 'same', useBias: bias, kernelInitializer: kernelInit() }).apply(x) as T;
}
function bn(x: T, name: string): T {
  return tf.layers.batchNormalization({ name, gammaInitializer: smallInit(), epsilon: 1e-3 }).apply(x) as T;
}
function act(x: T, name: string, activation: 'relu' | 'relu6'): T {
  return (activation === 'relu6' ? tf.layers.reLU({ name, maxValue: 6 }) : tf.layers.activation({ name, activation: 'relu' })).apply(x) as T;
}

function classifier(base: tf.LayersModel, name: string): tf.Sequential {
  const model = tf.sequential({ name });
  model.add(base);
  model.add(tf.layers.globalAveragePooling2d({ name: `${name}_avg_pool` }));
  model.add(tf.layers.dense({ name: `${name}_predictions`, units: CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seedCounter++ }) }));
  return model;
}

/** MobileNetV2, alpha 1.0: inverted residual blocks with depthwise convs and ReLU6. */
export function mobileNetV2(): BenchModel {
  const input = tf.input({ shape: [SIZE, SIZE, 3], name: 'input_1' });
  let x = act(bn(conv(input, 'Conv1', 32, 3, 2), 'bn_Conv1'), 'Conv1_relu', 'relu6');
  let channels = 32;
  let block = 0;
  const settings: Array<[number, number, number, number]> = [
    // expansion, output channels, repeats, first stride
    [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
  ];
  for (const [expansion, out, repeats, firstStride] of settings) {
    for (let r = 0; r < repeats; r++) {
      const strides = r === 0 ? firstStride : 1;
      const prefix = block === 0 ? 'expanded_conv' : `block_${block}`;
      let y = x;
      if (expansion !== 1) y = act(bn(conv(y, `${prefix}_expand`, channels * expansion, 1), `${prefix}_expand_BN`), `${prefix}_expand_relu`, 'relu6');
      y = tf.layers.depthwiseConv2d({ name: `${prefix}_depthwise`, kernelSize: 3, strides, padding: 'same', useBias: false, depthwiseInitializer: kernelInit() }).apply(y) as T;
      y = act(bn(y, `${prefix}_depthwise_BN`), `${prefix}_depthwise_relu`, 'relu6');
      y = bn(conv(y, `${prefix}_project`, out, 1), `${prefix}_project_BN`);
      x = strides === 1 && channels === out ? (tf.layers.add({ name: `${prefix}_add` }).apply([x, y]) as T) : y;
      channels = out;
      block++;
    }
  }
  x = act(bn(conv(x, 'Conv_1', 1280, 1), 'Conv_1_bn'), 'out_relu', 'relu6');
  const base = tf.model({ inputs: input, outputs: x, name: 'mobilenetv2_1.00_224' });
  return { name: 'mobilenet_v2', model: classifier(base, 'mobilenet_v2_classifier'), lastLayer: 'out_relu', earlyLayer: 'block_2_add' };
}

/** VGG16: 13 3×3 convs with ReLU in five blocks, max pooling between them. */
export function vgg16(): BenchModel {
  const input = tf.input({ shape: [SIZE, SIZE, 3], name: 'input_1' });
  let x: T = input;
  const blocks: Array<[number, number]> = [[64, 2], [128, 2], [256, 3], [512, 3], [512, 3]];
  blocks.forEach(([filters, convs], b) => {
    for (let c = 1; c <= convs; c++) {
      x = tf.layers.conv2d({ name: `block${b + 1}_conv${c}`, filters, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: kernelInit() }).apply(x) as T;
    }
    x = tf.layers.maxPooling2d({ name: `block${b + 1}_pool`, poolSize: 2 }).apply(x) as T;
  });
  const base = tf.model({ inputs: input, outputs: x, name: 'vgg16' });
  return { name: 'vgg16', model: classifier(base, 'vgg16_classifier'), lastLayer: 'block5_conv3', earlyLayer: 'block2_conv2' };
}

/** ResNet50 (v1): bottleneck blocks [3, 4, 6, 3] with projection shortcuts. */
export function resNet50(): BenchModel {
  const input = tf.input({ shape: [SIZE, SIZE, 3], name: 'input_1' });
  let x = act(bn(conv(input, 'conv1_conv', 64, 7, 2, true), 'conv1_bn'), 'conv1_relu', 'relu');
  x = tf.layers.maxPooling2d({ name: 'pool1_pool', poolSize: 3, strides: 2, padding: 'same' }).apply(x) as T;
  const stages: Array<[number, number, number]> = [[64, 3, 1], [128, 4, 2], [256, 6, 2], [512, 3, 2]];
  stages.forEach(([filters, blocks, firstStride], s) => {
    for (let b = 1; b <= blocks; b++) {
      const prefix = `conv${s + 2}_block${b}`;
      const strides = b === 1 ? firstStride : 1;
      const shortcut = b === 1 ? bn(conv(x, `${prefix}_0_conv`, filters * 4, 1, strides, true), `${prefix}_0_bn`) : x;
      let y = act(bn(conv(x, `${prefix}_1_conv`, filters, 1, strides, true), `${prefix}_1_bn`), `${prefix}_1_relu`, 'relu');
      y = act(bn(conv(y, `${prefix}_2_conv`, filters, 3, 1, true), `${prefix}_2_bn`), `${prefix}_2_relu`, 'relu');
      y = bn(conv(y, `${prefix}_3_conv`, filters * 4, 1, 1, true), `${prefix}_3_bn`);
      x = act(tf.layers.add({ name: `${prefix}_add` }).apply([shortcut, y]) as T, `${prefix}_out`, 'relu');
    }
  });
  const base = tf.model({ inputs: input, outputs: x, name: 'resnet50' });
  return { name: 'resnet50', model: classifier(base, 'resnet50_classifier'), lastLayer: 'conv5_block3_out', earlyLayer: 'conv2_block3_out' };
}

export function buildBenchModel(name: BenchModelName): BenchModel {
  seedCounter = 1;
  switch (name) {
    case 'mobilenet_v2':
      return mobileNetV2();
    case 'vgg16':
      return vgg16();
    case 'resnet50':
      return resNet50();
  }
}
