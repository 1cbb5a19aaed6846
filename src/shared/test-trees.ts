/** Hand-written layer trees of real architectures, for unit tests (plain data, no tfjs). */
import type { LayerNode } from './types';

const leaf = (name: string, className: string, size: number | null, channels = 8): LayerNode => ({
  path: `model/${name}`, name, className, params: 0,
  outputShape: size === null ? [null, channels] : [null, size, size, channels],
  explainable: size !== null,
});

/**
 * A MobileNetV2 (224 px) as its tree lists it, abridged: stride-2 blocks start with a ZeroPadding
 * layer whose output (113, 57, 29, 15) is a size of its own; and no block_13_pad variant (a
 * MobileNetV2-like tree whose 14 → 7 step pads inside the depthwise conv).
 */
export function mobileNetV2(withPads: boolean): LayerNode[] {
  const pad = (name: string, size: number) => (withPads ? [leaf(name, 'ZeroPadding2D', size)] : []);
  return [
    leaf('input_1', 'InputLayer', 224, 3),
    leaf('Conv1', 'Conv2D', 112), leaf('Conv1_relu', 'ReLU', 112),
    leaf('expanded_conv_project_BN', 'BatchNormalization', 112),
    leaf('block_1_expand_relu', 'ReLU', 112), ...pad('block_1_pad', 113), leaf('block_1_depthwise', 'DepthwiseConv2D', 56),
    leaf('block_2_add', 'Add', 56), leaf('block_3_expand_relu', 'ReLU', 56), ...pad('block_3_pad', 57),
    leaf('block_3_depthwise', 'DepthwiseConv2D', 28), leaf('block_5_add', 'Add', 28), leaf('block_6_expand_relu', 'ReLU', 28), ...pad('block_6_pad', 29),
    leaf('block_6_depthwise', 'DepthwiseConv2D', 14), leaf('block_12_add', 'Add', 14), leaf('block_13_expand_relu', 'ReLU', 14), ...pad('block_13_pad', 15),
    leaf('block_13_depthwise', 'DepthwiseConv2D', 7), leaf('block_16_project_BN', 'BatchNormalization', 7), leaf('Conv_1', 'Conv2D', 7), leaf('out_relu', 'ReLU', 7),
    leaf('reshape', 'Reshape', 7), leaf('global_average_pooling2d', 'GlobalAveragePooling2D', null), leaf('dense', 'Dense', null),
  ];
}

/** The demo's shape (64 px input): a 32-pixel stage, a pool, a 16-pixel stage, then the head. */
export function smallCnn(): LayerNode[] {
  return [
    leaf('image', 'InputLayer', 64, 3),
    leaf('block1_conv', 'Conv2D', 32), leaf('block2_conv_relu', 'Activation', 32), leaf('block2_pool', 'MaxPooling2D', 16),
    leaf('block3_conv1', 'Conv2D', 16), leaf('block3_out', 'Activation', 16),
    leaf('avg_pool', 'GlobalAveragePooling2D', null), leaf('predictions', 'Dense', null),
  ];
}
