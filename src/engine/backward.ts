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
 *    concatenate, pooling, padding, reshapes and inference-time identities: a few elementwise ops;
 *  - anything else: that one step re-run under a tape (tf.grads), so every layer still works.
 * Guided backprop's rule applies to the ReLU family when called inside withGuidedGradients.
 */
import * as tf from '@tensorflow/tfjs';
import type { Step } from './executor';
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
  epsilon?: number;
  gamma?: tf.LayerVariable | null;
  movingVariance?: tf.LayerVariable | null;
  poolSize?: number | number[];
}

/** The largest float32 below 6: ReLU6's output is 6 both at 6 and above, where the gradient stops. */
const BELOW_SIX = Math.fround(6 - 2 ** -21);

function pair(v: number | number[] | undefined): [number, number] {
  if (v === undefined) return [1, 1];
  return Array.isArray(v) ? [v[0]!, v.length > 1 ? v[1]! : v[0]!] : [v, v];
}

type Activation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'tanh' | 'leaky';

/** d activation from its OUTPUT y (each of these derivatives can be read off y). */
function activationVjp(kind: Activation, dy: tf.Tensor, y: tf.Tensor, alpha = 0): tf.Tensor {
  const guided = guidedActive();
  switch (kind) {
    case 'linear':
      return dy;
    case 'relu':
      // y > 0 ⇔ x > 0.
      if (guided) return fusedReluGrad(dy, y, null, 0) ?? tf.mul(tf.relu(dy), tf.step(y));
      return fusedReluGrad(dy, y, null, 0, false) ?? tf.mul(dy, tf.step(y));
    case 'relu6': {
      // x in (0, 6) ⇔ y in (0, 6); tfjs also passes x = 6 exactly, which y cannot tell from x > 6.
      if (guided) return fusedReluGrad(dy, y, BELOW_SIX, 0) ?? tf.mul(tf.relu(dy), tf.mul(tf.step(y), tf.less(y, 6).toFloat()));
      return fusedReluGrad(dy, y, BELOW_SIX, 0, false) ?? tf.mul(dy, tf.mul(tf.step(y), tf.less(y, 6).toFloat()));
    }
    case 'leaky':
      // For alpha > 0, y > 0 ⇔ x > 0; step(y, alpha) = 1 there and alpha elsewhere.
      if (guided) return fusedReluGrad(dy, y, null, alpha) ?? tf.mul(tf.relu(dy), tf.step(y, alpha));
      return fusedReluGrad(dy, y, null, alpha, false) ?? tf.mul(dy, tf.step(y, alpha));
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
  /** A conv kernel to use instead of the layer's (batch norm folded in: see executor's foldPlan). */
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
    const l = step.layer as unknown as LayerInternals;
    const axis = (l.axis ?? -1) >= 0 ? l.axis! : l.axis! + x!.rank;
    if (axis !== x!.rank - 1 || !l.movingVariance) return null;
    let scale: tf.Tensor = tf.rsqrt(tf.add(l.movingVariance.read(), l.epsilon ?? 1e-3));
    if (l.gamma) scale = tf.mul(scale, l.gamma.read());
    return [tf.mul(dy, scale)];
  },
  Activation(step, _inputs, y, dy) {
    const act = layerActivation(step.layer as unknown as LayerInternals);
    return act ? [activationVjp(act, dy, y)] : null;
  },
  ReLU(step, _inputs, y, dy) {
    const maxValue = (step.layer as unknown as LayerInternals).maxValue;
    if (maxValue == null) return [activationVjp('relu', dy, y)];
    return maxValue === 6 ? [activationVjp('relu6', dy, y)] : null;
  },
  LeakyReLU(step, _inputs, y, dy) {
    const alpha = (step.layer as unknown as LayerInternals).alpha ?? 0.3;
    return alpha > 0 ? [activationVjp('leaky', dy, y, alpha)] : null;
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
    return [tf.broadcastTo(tf.div(dy.reshape([n, 1, 1, c]), h * w), [n, h, w, c])];
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
  Flatten: (_step, [x], _y, dy) => [dy.reshape(x!.shape)],
  Reshape: (_step, [x], _y, dy) => [dy.reshape(x!.shape)],
};

/** Layers that are the identity at inference time. */
for (const name of ['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'InputLayer']) {
  VJPS[name] = (_step, inputs, _y, dy) => (inputs.length === 1 && tf.util.arraysEqual(inputs[0]!.shape, dy.shape) ? [dy] : null);
}

/**
 * The input gradients of one step. `rerun` differentiates the step itself under a tape — the
 * fallback for every layer without a written-out product above.
 */
export function stepVjp(
  step: Step,
  inputs: tf.Tensor[],
  output: tf.Tensor,
  dy: tf.Tensor,
  options: VjpOptions,
  rerun: (inputs: tf.Tensor[]) => tf.Tensor,
): (tf.Tensor | null)[] {
  const written = VJPS[step.layer.getClassName()]?.(step, inputs, output, dy, options);
  if (written) return written;
  return tf.grads((...xs: tf.Tensor[]) => rerun(xs))(inputs, dy);
}

/** Class names with a written-out product (tests, diagnostics). */
export const WRITTEN_VJP_CLASSES: readonly string[] = Object.keys(VJPS);
