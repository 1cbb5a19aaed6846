/**
 * Graph ops as executor steps. The flat executor (program.ts, leaf.ts, backward.ts, the methods)
 * reads a step's layer through `getClassName()`, `apply()`, `countParams()` and a few fields
 * (layer-info.ts: kernel, bias, strides, padding, activation…). A graph op that does what a Keras
 * layer does presents exactly that surface under the Keras class name — `_FusedConv2D` is a
 * `Conv2D` with its kernel, bias and activation, `MaxPool` a `MaxPooling2D`, `Mean` over height and
 * width a `GlobalAveragePooling2D` — so the written-out backward pass, the guided rule and every
 * method apply to graph models unchanged. Fused activations are applied as separate ops under a tape
 * (plainLeafCall), so guided backprop's Relu override reaches them.
 *
 * Other ops run through plain tf ops here (OP_TABLE), or, for anything else tfjs-converter knows,
 * through the converter itself (`execute` with the op's inputs fed): the tape then differentiates
 * whatever it has a gradient for.
 */
import * as tf from '@tensorflow/tfjs';
import { studioError } from '../../shared/errors';
import { atrous } from '../executor/leaf';
import { splitTensorName, type AttrValue, type GraphNode } from './graph-def';

/** What the executor needs from a step's layer (a subset of tf.layers.Layer). */
export interface StepLayerSurface {
  readonly name: string;
  getClassName(): string;
  apply(inputs: tf.Tensor | tf.Tensor[], kwargs?: unknown): tf.Tensor | tf.Tensor[];
  countParams(): number;
}

/** A weight as tfjs-layers' LayerVariable shows it to the executor. */
class Constant {
  constructor(private readonly value: tf.Tensor) {}
  read(): tf.Tensor {
    return this.value;
  }
}

type ActivationName = 'linear' | 'relu' | 'relu6' | 'leakyrelu' | 'elu' | 'sigmoid' | 'tanh' | 'softmax' | 'selu';

/** An activation as a Keras layer holds it: a lower-case class name and `apply`, made of plain ops. */
class Activation {
  constructor(readonly kind: ActivationName, readonly alpha = 0.2) {}
  getClassName(): string {
    return this.kind;
  }
  apply(x: tf.Tensor): tf.Tensor {
    switch (this.kind) {
      case 'relu': return tf.relu(x);
      case 'relu6': return tf.relu6(x);
      case 'leakyrelu': return tf.leakyRelu(x, this.alpha);
      case 'elu': return tf.elu(x);
      case 'selu': return tf.selu(x);
      case 'sigmoid': return tf.sigmoid(x);
      case 'tanh': return tf.tanh(x);
      case 'softmax': return tf.softmax(x);
      default: return x;
    }
  }
}

const ACTIVATION_OPS: Record<string, ActivationName> = {
  Relu: 'relu', Relu6: 'relu6', LeakyRelu: 'leakyrelu', Elu: 'elu', Selu: 'selu', Sigmoid: 'sigmoid', Tanh: 'tanh', Softmax: 'softmax',
};

/** The tensors a graph op reads: slots (computed by steps) and constants (weights), in the op's order. */
export type OpInput = { slot: string } | { constant: tf.Tensor };

/** Runs a node through tfjs-converter (the fallback for ops without an adapter). */
export type ConverterRun = (feeds: Record<string, tf.Tensor>, outputs: string[]) => tf.Tensor[];

function attrList(v: AttrValue | undefined, fallback: number[]): number[] {
  return Array.isArray(v) && v.length > 0 && typeof v[0] === 'number' ? (v as number[]) : fallback;
}

/** NHWC [1, s, s, 1] attrs → [sh, sw]. */
function spatial(v: AttrValue | undefined): [number, number] {
  const l = attrList(v, [1, 1, 1, 1]);
  return l.length === 4 ? [l[1]!, l[2]!] : [l[0]!, l[1] ?? l[0]!];
}

function paddingOf(node: GraphNode): 'same' | 'valid' | null {
  const p = String(node.attrs.padding ?? 'VALID').toUpperCase();
  return p === 'SAME' ? 'same' : p === 'VALID' ? 'valid' : null;
}

function explicitPadding(node: GraphNode): [[number, number], [number, number], [number, number], [number, number]] | null {
  const l = attrList(node.attrs.explicit_paddings, []);
  if (l.length !== 8) return null;
  return [[l[0]!, l[1]!], [l[2]!, l[3]!], [l[4]!, l[5]!], [l[6]!, l[7]!]];
}

function isNhwc(node: GraphNode): boolean {
  return String(node.attrs.data_format ?? 'NHWC').toUpperCase() === 'NHWC';
}

function fusedOps(node: GraphNode): string[] {
  return Array.isArray(node.attrs.fused_ops) ? (node.attrs.fused_ops as string[]) : [];
}

/**
 * A step's layer for one graph node. `keras` is the Keras class it behaves as (the executor's fast
 * paths key on it), or 'GraphOp' for ops it runs only through `apply`.
 */
export class GraphOpLayer implements StepLayerSurface {
  kernel?: Constant;
  depthwiseKernel?: Constant;
  bias?: Constant;
  useBias = false;
  activation: Activation | null = null;
  strides: number[] = [1, 1];
  padding: 'same' | 'valid' = 'valid';
  readonly dataFormat = 'channelsLast' as const;
  dilationRate: number[] = [1, 1];
  poolSize?: number[];
  maxValue?: number | null;
  alpha?: number;
  axis?: number;
  /** Tensors made here (transposed kernels, scalars) and freed with the model. */
  readonly owned: tf.Tensor[] = [];
  /**
   * Convolutions only: the same result as `apply` as ONE fused kernel call (conv + bias + relu /
   * relu6), for forward passes outside a tape (forward.ts, `fast`). `apply` keeps separate ops, which
   * the tape differentiates for the input alone; under a tape the fused op's gradient would also
   * compute the filter's. On WASM the separate bias add is a broadcast Add, slower than the conv on
   * MobileNetV2 (npm run bench:onnx-web's profile).
   */
  fastApply?: (input: tf.Tensor) => tf.Tensor;

  constructor(
    readonly name: string,
    readonly op: string,
    private readonly keras: string,
    private readonly run: (inputs: tf.Tensor[]) => tf.Tensor[],
    private readonly params: number,
  ) {}

  getClassName(): string {
    return this.keras;
  }

  apply(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const out = this.run(Array.isArray(inputs) ? inputs : [inputs]);
    return out.length === 1 ? out[0]! : out;
  }

  countParams(): number {
    return this.params;
  }
}

function size(t: tf.Tensor): number {
  return t.size;
}

/** How many outputs a node has that the graph reads (at least 1). */
export function outputCount(node: GraphNode, readers: string[]): number {
  let n = 1;
  for (const t of readers) {
    const [name, k] = splitTensorName(t);
    if (name === node.name) n = Math.max(n, k + 1);
  }
  return n;
}

/** The layer for `node`, given its inputs (slots and constants) and how many outputs are read. */
export function opLayer(node: GraphNode, inputs: OpInput[], outputs: number, converter: ConverterRun): GraphOpLayer {
  const constants = inputs.flatMap((i) => ('constant' in i ? [i.constant] : []));
  const params = constants.filter((c) => c.dtype === 'float32').reduce((n, c) => n + size(c), 0);
  const slotCount = inputs.filter((i) => 'slot' in i).length;
  /** The op's inputs in order, slots from `xs` and constants in place. */
  const all = (xs: tf.Tensor[]) => {
    let k = 0;
    return inputs.map((i) => ('slot' in i ? xs[k++]! : i.constant));
  };
  const make = (keras: string, run: (xs: tf.Tensor[]) => tf.Tensor) => new GraphOpLayer(node.name, node.op, keras, (xs) => [run(xs)], params);
  const constAt = (k: number) => {
    const i = inputs[k];
    return i && 'constant' in i ? i.constant : null;
  };
  const a = node.attrs;

  if (outputs === 1 && slotCount >= 1) {
    switch (node.op) {
      case 'Conv2D':
      case '_FusedConv2D':
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative': {
        const layer = convLayer(node, inputs, params);
        if (layer) return layer;
        break;
      }
      case 'MatMul':
      case '_FusedMatMul': {
        const layer = denseLayer(node, inputs, params);
        if (layer) return layer;
        break;
      }
      case 'Relu':
        if (slotCount === 1 && inputs.length === 1) return Object.assign(make('ReLU', ([x]) => tf.relu(x!)), { maxValue: null });
        break;
      case 'Relu6':
        if (slotCount === 1 && inputs.length === 1) return Object.assign(make('ReLU', ([x]) => tf.relu6(x!)), { maxValue: 6 });
        break;
      case 'LeakyRelu': {
        const alpha = typeof a.alpha === 'number' ? a.alpha : 0.2;
        if (slotCount === 1 && inputs.length === 1) return Object.assign(make('LeakyReLU', ([x]) => tf.leakyRelu(x!, alpha)), { alpha });
        break;
      }
      case 'Sigmoid':
      case 'Tanh':
      case 'Elu':
      case 'Selu': {
        if (inputs.length !== 1) break;
        const act = new Activation(ACTIVATION_OPS[node.op]!);
        return Object.assign(make('Activation', ([x]) => act.apply(x!)), { activation: act });
      }
      case 'Softmax':
        if (inputs.length === 1) return make('Softmax', ([x]) => tf.softmax(x!));
        break;
      case 'Add':
      case 'AddV2':
        if (slotCount === inputs.length) return make('Add', (xs) => tf.add(xs[0]!, xs[1]!));
        break;
      case 'MaxPool':
      case 'AvgPool': {
        const pad = paddingOf(node);
        if (!pad || !isNhwc(node) || inputs.length !== 1) break;
        const poolSize = spatial(a.ksize);
        const strides = spatial(a.strides);
        const keras = node.op === 'MaxPool' ? 'MaxPooling2D' : 'AveragePooling2D';
        const layer = make(keras, ([x]) => (node.op === 'MaxPool' ? tf.maxPool : tf.avgPool)(x as tf.Tensor4D, poolSize, strides, pad));
        return Object.assign(layer, { poolSize, strides, padding: pad });
      }
      case 'Mean': {
        const axes = constAt(1);
        if (!axes || slotCount !== 1) break;
        const list = Array.from(axes.dataSync()).map(Number).sort();
        const keep = a.keep_dims === true;
        if (!keep && list.length === 2 && list[0] === 1 && list[1] === 2) return make('GlobalAveragePooling2D', ([x]) => tf.mean(x!, [1, 2]));
        return make('GraphOp', ([x]) => tf.mean(x!, list, keep));
      }
      case 'Reshape': {
        const shape = constAt(1);
        if (!shape || slotCount !== 1) break;
        const target = Array.from(shape.dataSync()).map(Number);
        return make('Reshape', ([x]) => tf.reshape(x!, batchedShape(target, x!)));
      }
      case 'Squeeze': {
        const axes = attrList(a.squeeze_dims ?? a.axis, []);
        return make('Reshape', ([x]) => tf.squeeze(x!, axes.length > 0 ? axes : undefined));
      }
      case 'ConcatV2': {
        const axisT = constAt(inputs.length - 1);
        if (!axisT || slotCount !== inputs.length - 1) break;
        const axis = Number(axisT.dataSync()[0]);
        return Object.assign(make('Concatenate', (xs) => tf.concat(xs, axis)), { axis });
      }
    }
    const simple = SIMPLE_OPS[node.op];
    if (simple) return make('GraphOp', (xs) => simple(all(xs), a));
  }
  // Anything else: tfjs-converter runs the node with its slot inputs fed.
  const fedNames = node.inputs.filter((_, k) => 'slot' in inputs[k]!);
  const outNames = Array.from({ length: outputs }, (_, k) => (k === 0 ? node.name : `${node.name}:${k}`));
  return new GraphOpLayer(node.name, node.op, 'GraphOp', (xs) => converter(Object.fromEntries(fedNames.map((n, k) => [n, xs[k]!])), outNames), params);
}

/** A Reshape's target with the batch taken from the input (the converter often writes 1 or -1 there). */
function batchedShape(target: number[], x: tf.Tensor): number[] {
  if (target.length === 0) return target;
  const batch = x.shape[0] ?? 1;
  const rest = target.slice(1);
  if (rest.every((d) => d >= 0) && rest.reduce((p, d) => p * d, 1) * batch === x.size) return [batch, ...rest];
  return target;
}

const FUSED_ACTIVATIONS: Record<string, ActivationName> = { Relu: 'relu', Relu6: 'relu6', LeakyRelu: 'leakyrelu', Elu: 'elu', Sigmoid: 'sigmoid', Tanh: 'tanh' };

/** The fused ops' activation (`fused_ops: [BiasAdd, Relu]`), null when the fusion is something else (Prelu, BatchNorm). */
function fusedActivation(node: GraphNode): { bias: boolean; activation: Activation | null } | null {
  const ops = fusedOps(node);
  let bias = false;
  let activation: Activation | null = null;
  for (const op of ops) {
    if (op === 'BiasAdd' || op === 'Add' || op === 'AddV2') bias = true;
    else if (FUSED_ACTIVATIONS[op]) activation = new Activation(FUSED_ACTIVATIONS[op]!, typeof node.attrs.leakyrelu_alpha === 'number' ? node.attrs.leakyrelu_alpha : 0.2);
    else return null;
  }
  return { bias, activation };
}

function convLayer(node: GraphNode, inputs: OpInput[], params: number): GraphOpLayer | null {
  const [x, w, b] = inputs;
  if (!x || !('slot' in x) || !w || !('constant' in w) || !isNhwc(node)) return null;
  const fused = fusedActivation(node);
  if (!fused) return null;
  if (fused.bias && !(b && 'constant' in b)) return null;
  const depthwise = node.op.includes('Depthwise');
  const pad = paddingOf(node);
  const explicit = pad ? null : explicitPadding(node);
  if (!pad && !explicit) return null;
  const strides = spatial(node.attrs.strides);
  const dilations = spatial(node.attrs.dilations);
  const filter = w.constant as tf.Tensor4D;
  const bias = fused.bias && b && 'constant' in b ? b.constant : undefined;
  const run = ([input]: tf.Tensor[]) =>
    tf.tidy(() => {
      let y: tf.Tensor4D;
      const v = input as tf.Tensor4D;
      if (explicit) {
        y = depthwise ? tf.depthwiseConv2d(v, filter, strides, explicit as never, 'NHWC', dilations) : tf.conv2d(v, filter, strides, explicit, 'NHWC', dilations);
      } else if (depthwise) {
        y = atrous(v, dilations, pad!, filter.shape, (t, p, d) => tf.depthwiseConv2d(t, filter, strides, p, 'NHWC', d));
      } else {
        y = atrous(v, dilations, pad!, filter.shape, (t, p, d) => tf.conv2d(t, filter, strides, p, 'NHWC', d));
      }
      if (bias) y = tf.add(y, bias);
      return fused.activation ? fused.activation.apply(y) : y;
    });
  // Explicit padding and dilated depthwise convs have no Keras twin: plain apply only.
  const keras = explicit || (depthwise && (dilations[0] !== 1 || dilations[1] !== 1)) ? 'GraphOp' : depthwise ? 'DepthwiseConv2D' : 'Conv2D';
  const layer = new GraphOpLayer(node.name, node.op, keras, (xs) => [run(xs)], params);
  const fusedKind = fused.activation?.kind ?? 'linear';
  if ((fusedKind === 'linear' || fusedKind === 'relu' || fusedKind === 'relu6') && dilations[0] === 1 && dilations[1] === 1) {
    const padding = (explicit ?? pad!) as 'same';
    const activation = fusedKind;
    layer.fastApply = (input) => {
      const args = { x: input as tf.Tensor4D, filter, strides, pad: padding, dataFormat: 'NHWC' as const, bias, activation };
      return depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
    };
  }
  if (depthwise) layer.depthwiseKernel = new Constant(filter);
  else layer.kernel = new Constant(filter);
  if (bias) {
    layer.bias = new Constant(bias);
    layer.useBias = true;
  }
  layer.activation = fused.activation ?? new Activation('linear');
  layer.strides = strides;
  layer.padding = pad ?? 'valid';
  layer.dilationRate = dilations;
  return layer;
}

function denseLayer(node: GraphNode, inputs: OpInput[], params: number): GraphOpLayer | null {
  const [x, w, b] = inputs;
  if (!x || !('slot' in x) || !w || !('constant' in w) || node.attrs.transpose_a === true) return null;
  const fused = fusedActivation(node);
  if (!fused || (fused.bias && !(b && 'constant' in b))) return null;
  const owned: tf.Tensor[] = [];
  let kernel = w.constant as tf.Tensor2D;
  if (node.attrs.transpose_b === true) {
    kernel = tf.transpose(kernel);
    owned.push(kernel);
  }
  const bias = fused.bias && b && 'constant' in b ? b.constant : undefined;
  const run = ([input]: tf.Tensor[]) =>
    tf.tidy(() => {
      let y: tf.Tensor = tf.matMul(input as tf.Tensor2D, kernel);
      if (bias) y = tf.add(y, bias);
      return fused.activation ? fused.activation.apply(y) : y;
    });
  const layer = new GraphOpLayer(node.name, node.op, 'Dense', (xs) => [run(xs)], params);
  layer.owned.push(...owned);
  layer.kernel = new Constant(kernel);
  if (bias) {
    layer.bias = new Constant(bias);
    layer.useBias = true;
  }
  layer.activation = fused.activation ?? new Activation('linear');
  return layer;
}

type SimpleOp = (xs: tf.Tensor[], attrs: Record<string, AttrValue>) => tf.Tensor;

const num = (t: tf.Tensor): number[] => Array.from(t.dataSync()).map(Number);
const pairs = (flat: number[]): Array<[number, number]> => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!]);

/** Single-output ops run as plain tf ops (differentiable wherever tfjs has the gradient). */
const SIMPLE_OPS: Record<string, SimpleOp> = {
  BiasAdd: ([x, b]) => tf.add(x!, b!),
  Add: ([x, y]) => tf.add(x!, y!),
  AddV2: ([x, y]) => tf.add(x!, y!),
  AddN: (xs) => tf.addN(xs),
  Sub: ([x, y]) => tf.sub(x!, y!),
  Mul: ([x, y]) => tf.mul(x!, y!),
  RealDiv: ([x, y]) => tf.div(x!, y!),
  Div: ([x, y]) => tf.div(x!, y!),
  Maximum: ([x, y]) => tf.maximum(x!, y!),
  Minimum: ([x, y]) => tf.minimum(x!, y!),
  Pow: ([x, y]) => tf.pow(x!, y!),
  SquaredDifference: ([x, y]) => tf.squaredDifference(x!, y!),
  Neg: ([x]) => tf.neg(x!),
  Square: ([x]) => tf.square(x!),
  Sqrt: ([x]) => tf.sqrt(x!),
  Rsqrt: ([x]) => tf.rsqrt(x!),
  Exp: ([x]) => tf.exp(x!),
  Log: ([x]) => tf.log(x!),
  Abs: ([x]) => tf.abs(x!),
  Softplus: ([x]) => tf.softplus(x!),
  Relu: ([x]) => tf.relu(x!),
  Relu6: ([x]) => tf.relu6(x!),
  LeakyRelu: ([x], a) => tf.leakyRelu(x!, typeof a.alpha === 'number' ? a.alpha : 0.2),
  Elu: ([x]) => tf.elu(x!),
  Selu: ([x]) => tf.selu(x!),
  Sigmoid: ([x]) => tf.sigmoid(x!),
  Tanh: ([x]) => tf.tanh(x!),
  Softmax: ([x]) => tf.softmax(x!),
  Prelu: ([x, alpha]) => tf.prelu(x!, alpha!),
  Cast: ([x]) => tf.cast(x!, 'float32'),
  Transpose: ([x, perm]) => tf.transpose(x!, num(perm!)),
  ExpandDims: ([x, axis]) => tf.expandDims(x!, num(axis!)[0]),
  Squeeze: ([x], a) => tf.squeeze(x!, attrList(a.squeeze_dims ?? a.axis, []).length ? attrList(a.squeeze_dims ?? a.axis, []) : undefined),
  Reshape: ([x, shape]) => tf.reshape(x!, batchedShape(num(shape!), x!)),
  Mean: ([x, axes], a) => tf.mean(x!, num(axes!), a.keep_dims === true),
  Sum: ([x, axes], a) => tf.sum(x!, num(axes!), a.keep_dims === true),
  Max: ([x, axes], a) => tf.max(x!, num(axes!), a.keep_dims === true),
  Pad: ([x, p]) => tf.pad(x!, pairs(num(p!))),
  PadV2: ([x, p, c]) => tf.pad(x!, pairs(num(p!)), c ? num(c)[0] : 0),
  MirrorPad: ([x, p], a) => tf.mirrorPad(x!, pairs(num(p!)), String(a.mode ?? 'REFLECT').toLowerCase() as 'reflect' | 'symmetric'),
  ConcatV2: (xs) => tf.concat(xs.slice(0, -1), num(xs[xs.length - 1]!)[0]),
  FusedBatchNorm: ([x, scale, offset, mean, variance], a) => tf.batchNorm(x!, mean!, variance!, offset, scale, typeof a.epsilon === 'number' && a.epsilon > 0 ? a.epsilon : 1e-3),
  FusedBatchNormV2: (xs, a) => SIMPLE_OPS.FusedBatchNorm!(xs, a),
  FusedBatchNormV3: (xs, a) => SIMPLE_OPS.FusedBatchNorm!(xs, a),
  ResizeBilinear: ([x, s], a) => tf.image.resizeBilinear(x as tf.Tensor4D, num(s!) as [number, number], a.align_corners === true, a.half_pixel_centers === true),
  ResizeNearestNeighbor: ([x, s], a) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, num(s!) as [number, number], a.align_corners === true, a.half_pixel_centers === true),
};

/** Ops a step-by-step executor cannot run (control flow, dynamic shapes): refused when the model opens. */
export const UNSUPPORTED_GRAPH_OPS = new Set([
  'Enter', 'Exit', 'Merge', 'Switch', 'NextIteration', 'LoopCond', 'If', 'StatelessIf', 'While', 'StatelessWhile',
  'TensorListReserve', 'TensorListFromTensor', 'TensorArrayV3', 'NonMaxSuppressionV2', 'NonMaxSuppressionV3',
  'NonMaxSuppressionV4', 'NonMaxSuppressionV5', 'Where', 'HashTableV2', 'LookupTableFindV2',
]);

export function refuseUnsupportedOps(nodes: GraphNode[]): void {
  const bad = nodes.find((n) => UNSUPPORTED_GRAPH_OPS.has(n.op));
  if (bad) throw studioError('GRAPH_OP_UNSUPPORTED', { op: bad.op, node: bad.name });
}
