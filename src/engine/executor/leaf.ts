/**
 * One leaf-layer call with concrete tensors: tfjs-layers' own `apply` (the reference), or — on the
 * fast path — the same computation through plain ops where that is faster or differentiates better
 * (plainLeafCall: no filter gradient under a tape, dilated convs through space-to-batch, inference
 * batch norm as one multiply-add).
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormOffset, batchNormScale, isLastAxisBatchNorm } from './batch-norm';
import { linearCallSupported, pair, type ConvInternals } from './layer-info';
import type { Step } from './program';

type Layer = tf.layers.Layer;
type Kwargs = Record<string, unknown>;

/**
 * Conv2D / DepthwiseConv2D / SeparableConv2D / Dense through plain ops, so that under a gradient tape
 * no filter gradient is ever computed (tfjs's fused kernels with a linear activation compute it eagerly).
 * `linear` skips the activation (the logit of a softmax head). Returns null when the layer is not covered.
 */
export function plainLeafCall(layer: Layer, input: tf.Tensor, linear = false): tf.Tensor | null {
  if (layer.getClassName() === 'BatchNormalization') return batchNormInference(layer, input);
  if (layer.getClassName() === 'ReLU') {
    // tfjs-layers' ReLU(maxValue) is relu then clipByValue, whose gradient costs four kernels; relu6 is one
    // (and guided backprop overrides it like Relu).
    const maxValue = (layer as unknown as { maxValue?: number | null }).maxValue;
    if (maxValue == null) return tf.relu(input);
    return maxValue === 6 ? tf.relu6(input) : null;
  }
  if (!linearCallSupported(layer)) return null;
  const l = layer as unknown as ConvInternals;
  const className = layer.getClassName();
  if (className === 'Dense' ? input.rank !== 2 || !l.kernel : input.rank !== 4) return null;
  if (className === 'Conv2D' && !l.kernel) return null;
  if (className === 'DepthwiseConv2D' && !l.depthwiseKernel) return null;
  if (className === 'SeparableConv2D' && !(l.depthwiseKernel && l.pointwiseKernel)) return null;
  return tf.tidy(() => {
    let y: tf.Tensor;
    const padding = l.padding === 'same' ? 'same' : 'valid';
    const x = input as tf.Tensor4D;
    if (className === 'Dense') {
      y = tf.matMul(input as tf.Tensor2D, l.kernel!.read() as tf.Tensor2D);
    } else if (className === 'Conv2D') {
      y = atrous(x, pair(l.dilationRate), padding, l.kernel!.read().shape, (v, p, d) => tf.conv2d(v, l.kernel!.read() as tf.Tensor4D, pair(l.strides), p, 'NHWC', d));
    } else if (className === 'DepthwiseConv2D') {
      // tfjs-layers' DepthwiseConv2D ignores dilationRate; mirror it exactly.
      y = tf.depthwiseConv2d(x, l.depthwiseKernel!.read() as tf.Tensor4D, pair(l.strides), padding, 'NHWC');
    } else {
      const depthwise = l.depthwiseKernel!.read() as tf.Tensor4D;
      y = atrous(x, pair(l.dilationRate), padding, depthwise.shape, (v, p, d) => tf.depthwiseConv2d(v, depthwise, pair(l.strides), p, 'NHWC', d));
      y = tf.conv2d(y as tf.Tensor4D, l.pointwiseKernel!.read() as tf.Tensor4D, 1, 'valid');
    }
    if (l.useBias && l.bias) y = tf.add(y, l.bias.read());
    if (!linear && l.activation) y = l.activation.apply(y);
    return y;
  });
}

/**
 * A dilated convolution as space-to-batch → undilated 'valid' convolution → batch-to-space (how
 * TensorFlow runs atrous convolutions): tfjs cannot differentiate convolutions with dilation > 1, but it
 * can differentiate these three ops. Dilation 1 calls `conv` directly. (Keras forbids stride > 1 with
 * dilation > 1, so `conv` runs at stride 1 here.)
 */
export function atrous(
  x: tf.Tensor4D,
  rate: [number, number],
  padding: 'same' | 'valid',
  kernelShape: number[],
  conv: (input: tf.Tensor4D, padding: 'same' | 'valid', dilations: [number, number]) => tf.Tensor4D,
): tf.Tensor4D {
  if (rate[0] === 1 && rate[1] === 1) return conv(x, padding, [1, 1]);
  const pads: [number, number][] = [];
  const crops: [number, number][] = [];
  for (let axis = 0; axis < 2; axis++) {
    const effective = kernelShape[axis] + (kernelShape[axis] - 1) * (rate[axis] - 1);
    const total = padding === 'same' ? effective - 1 : 0;
    const before = Math.floor(total / 2);
    const size = x.shape[axis + 1] + total;
    const extra = (rate[axis] - (size % rate[axis])) % rate[axis]; // make the padded size a multiple of the rate
    pads.push([before, total - before + extra]);
    crops.push([0, extra]);
  }
  const batched = tf.spaceToBatchND(x, rate, pads) as tf.Tensor4D;
  return tf.batchToSpaceND(conv(batched, 'valid', [1, 1]), rate, crops) as tf.Tensor4D;
}

/**
 * Inference BatchNormalization over the last axis as one multiply-add with per-channel constants.
 * tfjs's FusedBatchNorm gradient tiles 1/sqrt(var) to the full input shape (the slowest kernel of a
 * darknet input gradient on WASM); x * scale + offset differentiates to a plain multiply.
 */
function batchNormInference(layer: Layer, input: tf.Tensor): tf.Tensor | null {
  if (!isLastAxisBatchNorm(layer, input.rank)) return null;
  return tf.tidy(() => {
    const scale = batchNormScale(layer);
    return tf.add(tf.mul(input, scale), batchNormOffset(layer, scale));
  });
}

export type GradientPath = 'fast' | 'plain';

/** One leaf call with concrete tensors, inference mode. */
export function callStep(step: Step, inputs: tf.Tensor[], path: GradientPath = 'plain'): tf.Tensor[] {
  if (path === 'fast' && inputs.length === 1) {
    const y = plainLeafCall(step.layer, inputs[0]);
    if (y) return [y];
  }
  const kwargs: Kwargs = { ...step.callArgs, training: false };
  const out = step.layer.apply(inputs.length === 1 ? inputs[0] : inputs, kwargs) as tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? out : [out];
}
