/**
 * The backward pass written out, over the per-image activation cache.
 *
 * tfjs differentiates only what it recorded on a tape, so a gradient at a layer meant running every
 * step after it again under the tape: a new class, the counterfactual or another layer on the same
 * image re-ran the forward pass of the rest of the network before any backward work. The cache
 * already holds every step's input and output, which is all a backward pass needs. Here each step
 * on the path from the target slot to the score gets its vector-Jacobian product from the cached
 * values, in reverse order:
 *  - convolutions (plain, depthwise, separable) and dense layers: the input gradient only, through
 *    the same backprop kernels tfjs's own gradients call (never a filter gradient);
 *  - batch norm, ReLU / ReLU6 / LeakyReLU / sigmoid / tanh (also as a layer's activation), add,
 *    concatenate, pooling, flatten / reshape and inference-time identities: a few elementwise ops;
 *  - anything else: that one step re-run under a tape (tf.grads), so every layer still works.
 * Guided backprop's rule applies to the ReLU family when called inside withGuidedGradients.
 */
import * as tf from '@tensorflow/tfjs';
import type { Step } from './program';
import { batchNormScale, isLastAxisBatchNorm } from './batch-norm';
import { fusedReluGrad, guidedActive } from './guided';

interface LayerInternals {
  kernel?: tf.LayerVariable | null;
  depthwiseKernel?: tf.LayerVariable | null;
  pointwiseKernel?: tf.LayerVariable | null;
  strides?: number | number[];
  padding?: 'valid' | 'same' | 'causal';
  dataFormat?: 'channelsFirst' | 'channelsLast';
  dilationRate?: number | number[];
  activation?: { getClassName(): string } | null;
  maxValue?: number | null;
  alpha?: number;
  axis?: number;
  poolSize?: number | number[];
}

/** The largest float32 below 6: ReLU6's output is 6 both at 6 and above, where the gradient stops. */
const BELOW_SIX = Math.fround(6 - 2 ** -21);

function pair(v: number | number[] | undefined): [number, number] {
  if (v === undefined) return [1, 1];
  return Array.isArray(v) ? [v[0]!, v.length > 1 ? v[1]! : v[0]!] : [v, v];
}

type Activation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'tanh' | 'leaky';

/**
 * d activation, from its input `x` where the step has it (a separate activation layer) or else from
 * its output `y` (a conv/dense layer's own activation: only the output is cached). The ReLU family's
 * derivatives can be read off either; from y, ReLU6 cannot tell x = 6 (tfjs passes the gradient) from
 * x > 6 (it does not) and blocks both — a difference only at exactly 6.0.
 */
function activationVjp(kind: Activation, dy: tf.Tensor, y: tf.Tensor, alpha = 0, x?: tf.Tensor): tf.Tensor {
  const guided = guidedActive();
  const v = x ?? y; // y > 0 ⇔ x > 0 for the ReLU family (alpha > 0 for LeakyReLU)
  switch (kind) {
    case 'linear':
      return dy;
    case 'relu':
      if (guided) return fusedReluGrad(dy, v, null, 0) ?? tf.mul(tf.relu(dy), tf.step(v));
      return fusedReluGrad(dy, v, null, 0, false) ?? tf.mul(dy, tf.step(v));
    case 'relu6': {
      const cap = x ? 6 : BELOW_SIX;
      const mask = () => tf.mul(tf.step(v), tf.lessEqual(v, cap).toFloat());
      if (guided) return fusedReluGrad(dy, v, cap, 0) ?? tf.mul(tf.relu(dy), mask());
      return fusedReluGrad(dy, v, cap, 0, false) ?? tf.mul(dy, mask());
    }
    case 'leaky':
      // step(v, alpha) = 1 where v > 0 and alpha elsewhere.
      if (guided) return fusedReluGrad(dy, v, null, alpha) ?? tf.mul(tf.relu(dy), tf.step(v, alpha));
      return fusedReluGrad(dy, v, null, alpha, false) ?? tf.mul(dy, tf.step(v, alpha));
    case 'sigmoid':
      return tf.mul(dy, tf.mul(y, tf.sub(1, y)));
    case 'tanh':
      return tf.mul(dy, tf.sub(1, tf.square(y)));
  }
}

function activationKind(name: string | undefined | null): Activation | null {
  switch (name) {
    case undefined:
    case null:
    case 'linear':
      return 'linear';
    case 'relu':
    case 'relu6':
    case 'sigmoid':
    case 'tanh':
      return name;
    default:
      return null;
  }
}

function layerActivation(layer: LayerInternals): Activation | null {
  return activationKind(layer.activation?.getClassName().toLowerCase());
}

/** One step's input gradients (null where an input needs none), or null when the step is not covered here. */
type Vjp = (step: Step, inputs: tf.Tensor[], output: tf.Tensor, dy: tf.Tensor, options: VjpOptions) => (tf.Tensor | null)[] | null;

export interface VjpOptions {
  /** Leave the step's activation out (the logit of a softmax head is taken before it). */
  linear?: boolean;
  /** A conv kernel to use instead of the layer's (batch norm folded in: see folding.ts's foldPlan). */
  kernel?: tf.Tensor;
}

const convPadding = (l: LayerInternals) => (l.padding === 'same' ? 'same' : 'valid');
const undilated = (l: LayerInternals) => pair(l.dilationRate).every((d) => d === 1);
const channelsLast = (l: LayerInternals) => (l.dataFormat ?? 'channelsLast') === 'channelsLast' && l.padding !== 'causal';

function conv2dInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, inputShape: number[], strides: [number, number], padding: 'same' | 'valid'): tf.Tensor {
  return tf.conv2dTranspose(dy, filter, inputShape as [number, number, number, number], strides, padding);
}

function depthwiseInputGrad(dy: tf.Tensor, filter: tf.Tensor, inputShape: number[], strides: [number, number], padding: 'same' | 'valid'): tf.Tensor {
  return tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, {
    strides, pad: padding, dilations: [1, 1], dimRoundingMode: undefined, inputShape,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

const VJPS: Record<string, Vjp> = {
  Conv2D(step, [x], y, dy, { linear, kernel }) {
    const l = step.layer as unknown as LayerInternals;
    const act = linear ? 'linear' : layerActivation(l);
    if (!act || !l.kernel || x!.rank !== 4 || !channelsLast(l) || !undilated(l)) return null;
    const pre = activationVjp(act, dy, y) as tf.Tensor4D;
    return [conv2dInputGrad(pre, (kernel ?? l.kernel.read()) as tf.Tensor4D, x!.shape, pair(l.strides), convPadding(l))];
  },
  DepthwiseConv2D(step, [x], y, dy, { linear, kernel }) {
    const l = step.layer as unknown as LayerInternals;
    const act = linear ? 'linear' : layerActivation(l);
    // tfjs-layers' DepthwiseConv2D ignores its dilation rate (see plainLeafCall): so does this.
    if (!act || !l.depthwiseKernel || x!.rank !== 4 || !channelsLast(l)) return null;
    const pre = activationVjp(act, dy, y);
    return [depthwiseInputGrad(pre, kernel ?? l.depthwiseKernel.read(), x!.shape, pair(l.strides), convPadding(l))];
  },
  SeparableConv2D(step, [x], y, dy, { linear }) {
    const l = step.layer as unknown as LayerInternals;
    const act = linear ? 'linear' : layerActivation(l);
    if (!act || !l.depthwiseKernel || !l.pointwiseKernel || x!.rank !== 4 || !channelsLast(l) || !undilated(l)) return null;
    const pre = activationVjp(act, dy, y) as tf.Tensor4D;
    const depthwise = l.depthwiseKernel.read();
    const [n, h, w] = pre.shape;
    const middle = [n, h, w, depthwise.shape[2]! * depthwise.shape[3]!];
    const dMiddle = conv2dInputGrad(pre, l.pointwiseKernel.read() as tf.Tensor4D, middle, [1, 1], 'valid');
    return [depthwiseInputGrad(dMiddle, depthwise, x!.shape, pair(l.strides), convPadding(l))];
  },
  Dense(step, [x], y, dy, { linear }) {
    const l = step.layer as unknown as LayerInternals;
    const act = linear ? 'linear' : layerActivation(l);
    if (!act || !l.kernel || x!.rank !== 2) return null;
    return [tf.matMul(activationVjp(act, dy, y), l.kernel.read() as tf.Tensor2D, false, true)];
  },
  BatchNormalization(step, [x], _y, dy) {
    return isLastAxisBatchNorm(step.layer, x!.rank) ? [tf.mul(dy, batchNormScale(step.layer))] : null;
  },
  Activation(step, [x], y, dy) {
    const act = layerActivation(step.layer as unknown as LayerInternals);
    return act ? [activationVjp(act, dy, y, 0, x)] : null;
  },
  ReLU(step, [x], y, dy) {
    const maxValue = (step.layer as unknown as LayerInternals).maxValue;
    if (maxValue == null) return [activationVjp('relu', dy, y, 0, x)];
    return maxValue === 6 ? [activationVjp('relu6', dy, y, 0, x)] : null;
  },
  LeakyReLU(step, [x], y, dy) {
    const alpha = (step.layer as unknown as LayerInternals).alpha ?? 0.3;
    return alpha > 0 ? [activationVjp('leaky', dy, y, alpha, x)] : null;
  },
  Add(_step, inputs, y, dy) {
    if (inputs.some((t) => !tf.util.arraysEqual(t.shape, y.shape))) return null; // broadcasting: not here
    return inputs.map(() => dy);
  },
  Concatenate(step, inputs, _y, dy) {
    const rank = dy.rank;
    const axisConfig = (step.layer as unknown as LayerInternals).axis ?? -1;
    const axis = axisConfig < 0 ? axisConfig + rank : axisConfig;
    return tf.split(dy, inputs.map((t) => t.shape[axis]!), axis);
  },
  GlobalAveragePooling2D(step, [x], _y, dy) {
    if (!channelsLast(step.layer as unknown as LayerInternals) || x!.rank !== 4) return null;
    const [n, h, w, c] = x!.shape as [number, number, number, number];
    // dy / (h·w) at every position, as an outer product with ones: WASM's Tile (broadcastTo) took
    // 4.3 ms for a 7×7×1280 map, this 0.6 ms.
    const perPosition = tf.matMul(tf.ones([n, h * w, 1]), tf.div(dy, h * w).reshape([n, 1, c]));
    return [perPosition.reshape([n, h, w, c])];
  },
  MaxPooling2D(step, [x], y, dy) {
    const l = step.layer as unknown as LayerInternals;
    if (!channelsLast(l) || x!.rank !== 4) return null;
    return [tf.engine().runKernel('MaxPoolGrad', { dy, input: x!, output: y }, {
      filterSize: pair(l.poolSize), strides: pair(l.strides), pad: convPadding(l), dimRoundingMode: undefined,
    } as unknown as tf.NamedAttrMap) as tf.Tensor];
  },
  AveragePooling2D(step, [x], _y, dy) {
    const l = step.layer as unknown as LayerInternals;
    if (!channelsLast(l) || x!.rank !== 4) return null;
    return [tf.engine().runKernel('AvgPoolGrad', { dy, input: x! }, {
      filterSize: pair(l.poolSize), strides: pair(l.strides), pad: convPadding(l),
    } as unknown as tf.NamedAttrMap) as tf.Tensor];
  },
  // channelsFirst Flatten moves channels last before flattening: left to the fallback.
  Flatten: (step, [x], _y, dy) => ((step.layer as unknown as LayerInternals).dataFormat === 'channelsFirst' && x!.rank > 2 ? null : [dy.reshape(x!.shape)]),
  Reshape: (_step, [x], _y, dy) => [dy.reshape(x!.shape)],
};

/** Layers that are the identity at inference time. */
for (const name of ['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'InputLayer']) {
  VJPS[name] = (_step, inputs, _y, dy) => (inputs.length === 1 && tf.util.arraysEqual(inputs[0]!.shape, dy.shape) ? [dy] : null);
}

/**
 * True when the step's input gradient is written out AND takes a folded kernel (options.kernel): a
 * linear, undilated, channels-last Conv2D or DepthwiseConv2D. Folding a BN into any other conv would
 * drop the BN's scale (the fallback re-runs the layer with its own kernel).
 */
export function takesFoldedKernel(step: Step): boolean {
  const l = step.layer as unknown as LayerInternals;
  const className = step.layer.getClassName();
  if (layerActivation(l) !== 'linear' || !channelsLast(l)) return false;
  return (className === 'Conv2D' && !!l.kernel && undilated(l)) || (className === 'DepthwiseConv2D' && !!l.depthwiseKernel);
}

/**
 * The input gradients of one step, where `wanted[k]` (null elsewhere). A slot the step reads twice
 * (e.g. Multiply([x, x])) gets its whole gradient at its first position only: wanted must mark first
 * positions. `rerun` differentiates the step itself under a tape — the fallback for every layer
 * without a written-out product above; it must honour `options.linear` itself.
 */
export function stepVjp(
  step: Step,
  inputs: tf.Tensor[],
  output: tf.Tensor,
  dy: tf.Tensor,
  options: VjpOptions,
  rerun: (inputs: tf.Tensor[]) => tf.Tensor,
  wanted: readonly boolean[],
): (tf.Tensor | null)[] {
  const slots = step.inputs;
  const written = VJPS[step.layer.getClassName()]?.(step, inputs, output, dy, options);
  if (written) {
    return slots.map((s, k) => {
      if (!wanted[k]) return null;
      const parts = written.filter((g, j): g is tf.Tensor => slots[j] === s && g !== null);
      return parts.length === 1 ? parts[0]! : tf.addN(parts);
    });
  }
  // Only the wanted slots are variables (one each; a clone where two slots share one tensor); the
  // rest enter as constants.
  const positions = wanted.flatMap((w, k) => (w ? [k] : []));
  const variables = positions.map((k, i) => (positions.slice(0, i).some((j) => inputs[j] === inputs[k]) ? inputs[k]!.clone() : inputs[k]!));
  const call = (...vs: tf.Tensor[]) => rerun(slots.map((s, k) => {
    const i = positions.findIndex((p) => slots[p] === s);
    return i >= 0 ? vs[i]! : inputs[k]!;
  }));
  const grads = tf.grads(call)(variables, dy);
  return slots.map((_, k) => (wanted[k] ? grads[positions.indexOf(k)]! : null));
}

/** Class names with a written-out product (tests, diagnostics). */
export const WRITTEN_VJP_CLASSES: readonly string[] = Object.keys(VJPS);
