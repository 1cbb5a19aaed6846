/**
 * One rule per ONNX op: how a node becomes graph nodes in NHWC (onnx-translate.ts says the plan).
 * Every rule folds when all its inputs are constants. `viaLogical` is the general path: the op sees
 * its inputs as ONNX means them and gives a plain (not permuted) result — exact, one transpose.
 */
import * as tf from '@tensorflow/tfjs';
import type { AttrValue } from '../graph/graph-def';
import { isFloatType, ONNX_DTYPE, type OnnxTensor } from './onnx-proto';
import { axisOf, compose, constToPhysical, isIdentity, logical, physicalAxis, TO_NCHW, TO_NHWC, type Dynamic, type Value } from './onnx-layout';
import * as ops from './onnx-ops';
import type { RuleContext } from './onnx-rule-context';

type Out = Value[];
type Run = (xs: Array<tf.Tensor | null>) => tf.Tensor;

const isDyn = (v: Value | null | undefined): v is Dynamic => !!v && v.kind === 'dyn';
const rankOf = (v: Value | null | undefined): number => (!v ? 0 : v.kind === 'dyn' ? v.rank : v.t.rank);
const need = (x: tf.Tensor | null | undefined): tf.Tensor => {
  if (!x) throw new Error('missing input');
  return x;
};
const ints1d = (values: number[]) => tf.tensor1d(values, 'int32');
const asFloat = (t: tf.Tensor) => (t.dtype === 'float32' ? t : tf.cast(t, 'float32'));

/** All inputs constant: compute now. Otherwise an Onnx<op> node over the inputs as ONNX means them. */
function viaLogical(ctx: RuleContext, rank: number, run: Run): Out {
  const { ins } = ctx;
  if (ins.every((v) => !v || v.kind === 'const')) {
    return [{ kind: 'const', t: tf.tidy(() => run(ins.map((v) => (v && v.kind === 'const' ? v.t : null)))) }];
  }
  const dyns = ins.filter(isDyn);
  const ref = ctx.custom(dyns, (xs) => {
    let k = 0;
    const all = ins.map((v) => (!v ? null : v.kind === 'const' ? v.t : logical(need(xs[k++]), v.permuted)));
    return run(all);
  });
  return [{ kind: 'dyn', ref, rank, permuted: false }];
}

/** The tensor's graph name, made NHWC first when it is a plain 4-D tensor. */
function nhwcRef(ctx: RuleContext, x: Dynamic): string {
  return x.permuted ? x.ref : ctx.emit('Transpose', [x.ref, ints1d(TO_NHWC)], {}, 'nhwc');
}

function sameLayout(x: Dynamic, ref: string): Out {
  return [{ kind: 'dyn', ref, rank: x.rank, permuted: x.permuted }];
}

/** An activation or other per-element op: layout does not matter. */
function unary(ctx: RuleContext, tfOp: string | null, f: (x: tf.Tensor) => tf.Tensor, attrs: Record<string, AttrValue> = {}): Out {
  const x = ctx.ins[0];
  if (!isDyn(x)) return viaLogical(ctx, rankOf(x), ([v]) => f(need(v)));
  const ref = tfOp ? ctx.emit(tfOp, [x.ref], attrs) : ctx.custom([x], ([v]) => f(need(v)));
  return sameLayout(x, ref);
}

/** Broadcasting ops: on permuted tensors the constants are permuted too (numpy broadcasting holds). */
function elementwise(ctx: RuleContext, tfOp: string | null, f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): Out {
  const ins = ctx.ins.filter((v): v is Value => !!v);
  const rank = Math.max(...ins.map(rankOf));
  // Shape arithmetic stays integer (ONNX's int64 Div truncates: (96 + 1) / 3 is 32, not 32.33).
  const reduce: Run = (xs) => {
    const ts = xs.map(need);
    return (ts.every((t) => t.dtype === 'int32') ? ts : ts.map(asFloat)).reduce((a, b) => f(a, b));
  };
  if (ins.every((v) => v.kind === 'const')) return viaLogical(ctx, rank, reduce);
  const permuted = ins.some((v) => isDyn(v) && v.permuted);
  const allPermuted = ins.every((v) => (isDyn(v) ? v.permuted : v.t.rank <= 4));
  if (ins.length === 2 && tfOp && (!permuted || allPermuted)) {
    const inputs = ins.map((v) => (v.kind === 'dyn' ? v.ref : ctx.own(asFloat(permuted ? constToPhysical(v.t) : v.t.clone()))));
    return [{ kind: 'dyn', ref: ctx.emit(tfOp, inputs), rank, permuted }];
  }
  if (permuted && allPermuted) {
    const consts = ins.map((v) => (v.kind === 'const' ? ctx.own(asFloat(constToPhysical(v.t))) : null));
    const dyns = ins.filter(isDyn);
    const ref = ctx.custom(dyns, (xs) => {
      let k = 0;
      return reduce(consts.map((c) => c ?? need(xs[k++])));
    });
    return [{ kind: 'dyn', ref, rank, permuted: true }];
  }
  return viaLogical(ctx, rank, reduce);
}

function convPadding(ctx: RuleContext, kernel: [number, number], strides: number[], dilations: number[]): { padding: string; explicit: number[] } {
  const pads = ctx.ints('pads', [0, 0, 0, 0]);
  const auto = ctx.str('auto_pad', 'NOTSET');
  const [t = 0, l = 0, b = 0, r = 0] = pads;
  if (auto === 'VALID' || (auto === 'NOTSET' && pads.every((p) => p === 0))) return { padding: 'VALID', explicit: [] };
  if (auto === 'SAME_UPPER') return { padding: 'SAME', explicit: [] };
  if (auto === 'SAME_LOWER') ctx.unsupported('auto_pad SAME_LOWER');
  // Stride 1 with symmetric "same" pads is TF's SAME exactly (its split only differs for strides > 1).
  const sameH = ((kernel[0] - 1) * (dilations[0] ?? 1)) / 2;
  const sameW = ((kernel[1] - 1) * (dilations[1] ?? 1)) / 2;
  if (strides.every((s) => s === 1) && t === sameH && b === sameH && l === sameW && r === sameW) return { padding: 'SAME', explicit: [] };
  return { padding: 'EXPLICIT', explicit: [0, 0, t, b, l, r, 0, 0] };
}

function conv(ctx: RuleContext): Out {
  const [x, w, b] = ctx.ins;
  if (!isDyn(x) || !w || w.kind !== 'const' || (b && b.kind !== 'const')) return ctx.unsupported('weights computed at run time');
  if (x.rank !== 4 || w.t.rank !== 4) return ctx.unsupported('only 2-D convolutions');
  const [cout = 0, cinPerGroup = 0, kh = 1, kw = 1] = w.t.shape;
  const group = ctx.int('group', 1);
  const strides = ctx.ints('strides', [1, 1]);
  const dilations = ctx.ints('dilations', [1, 1]);
  const { padding, explicit } = convPadding(ctx, [kh, kw], strides, dilations);
  const bias = b && b.kind === 'const' ? b.t : null;
  const input = nhwcRef(ctx, x);
  const attrs: Record<string, AttrValue> = {
    strides: [1, strides[0] ?? 1, strides[1] ?? 1, 1], dilations: [1, dilations[0] ?? 1, dilations[1] ?? 1, 1],
    padding, explicit_paddings: explicit, data_format: 'NHWC', fused_ops: bias ? ['BiasAdd'] : [],
  };
  const cin = cinPerGroup * group;
  let ref: string;
  if (group === 1) {
    const filter = tf.transpose(w.t, [2, 3, 1, 0]);
    ref = ctx.emit(bias ? '_FusedConv2D' : 'Conv2D', bias ? [input, filter, bias] : [input, filter], attrs);
  } else if (cinPerGroup === 1 && cout % group === 0) {
    // Depthwise (channel multiplier m): [C·m, 1, kh, kw] → [kh, kw, C, m].
    const filter = tf.tidy(() => tf.transpose(tf.reshape(w.t, [cin, cout / cin, kh, kw]), [2, 3, 0, 1]));
    ref = ctx.emit(bias ? 'FusedDepthwiseConv2dNative' : 'DepthwiseConv2dNative', bias ? [input, filter, bias] : [input, filter], attrs);
  } else {
    const perGroup = cout / group;
    const filters = Array.from({ length: group }, (_, g) => ctx.own(tf.tidy(() => tf.transpose(tf.slice(w.t, [g * perGroup, 0, 0, 0], [perGroup, cinPerGroup, kh, kw]), [2, 3, 1, 0]) as tf.Tensor4D)));
    const pad = padding === 'SAME' ? 'same' : padding === 'VALID' ? 'valid' : ([[explicit[2] ?? 0, explicit[3] ?? 0], [explicit[4] ?? 0, explicit[5] ?? 0]] as Array<[number, number]>);
    const s: [number, number] = [strides[0] ?? 1, strides[1] ?? 1];
    const d: [number, number] = [dilations[0] ?? 1, dilations[1] ?? 1];
    ref = ctx.custom([{ ...x, ref: input, permuted: true }], ([v]) => ops.groupedConv(need(v) as tf.Tensor4D, filters, s, pad, d, bias));
  }
  return [{ kind: 'dyn', ref, rank: 4, permuted: true }];
}

function pool(ctx: RuleContext, max: boolean): Out {
  const x = ctx.ins[0];
  if (!isDyn(x) || x.rank !== 4) return ctx.unsupported('only 2-D pooling of a computed tensor');
  if (ctx.node.outputs.length > 1 && ctx.node.outputs[1]) return ctx.unsupported('the indices output');
  if (ctx.ints('dilations', [1, 1]).some((d) => d !== 1)) return ctx.unsupported('dilated pooling');
  const k = ctx.ints('kernel_shape', [1, 1]);
  const s = ctx.ints('strides', [1, 1]);
  const kernel: [number, number] = [k[0] ?? 1, k[1] ?? 1];
  const strides: [number, number] = [s[0] ?? 1, s[1] ?? 1];
  const pads = ctx.ints('pads', [0, 0, 0, 0]);
  const ceil = ctx.int('ceil_mode', 0) === 1;
  const auto = ctx.str('auto_pad', 'NOTSET');
  const input = nhwcRef(ctx, x);
  const tfAttrs = (padding: string) => ({ ksize: [1, kernel[0], kernel[1], 1], strides: [1, strides[0], strides[1], 1], padding, data_format: 'NHWC' });
  let ref: string;
  if (auto === 'SAME_UPPER' && (max || ctx.int('count_include_pad', 0) === 0)) ref = ctx.emit(max ? 'MaxPool' : 'AvgPool', [input], tfAttrs('SAME'));
  else if (auto === 'VALID' || (auto === 'NOTSET' && !ceil && pads.every((p) => p === 0))) ref = ctx.emit(max ? 'MaxPool' : 'AvgPool', [input], tfAttrs('VALID'));
  else if (auto !== 'NOTSET') return ctx.unsupported(`auto_pad ${auto}`);
  else {
    const p: [number, number, number, number] = [pads[0] ?? 0, pads[1] ?? 0, pads[2] ?? 0, pads[3] ?? 0];
    const countPads = ctx.int('count_include_pad', 0) === 1;
    ref = ctx.custom([{ ...x, ref: input, permuted: true }], ([v]) =>
      max ? ops.maxPoolPadded(need(v) as tf.Tensor4D, kernel, strides, p, ceil) : ops.avgPoolPadded(need(v) as tf.Tensor4D, kernel, strides, p, ceil, countPads),
    );
  }
  return [{ kind: 'dyn', ref, rank: 4, permuted: true }];
}

function gemm(ctx: RuleContext): Out {
  const [a, b, c] = ctx.ins;
  const alpha = ctx.float('alpha', 1);
  const beta = ctx.float('beta', 1);
  const transA = ctx.int('transA', 0) === 1;
  const transB = ctx.int('transB', 0) === 1;
  const general: Run = ([x, y, z]) => {
    const prod = tf.mul(tf.matMul(need(x) as tf.Tensor2D, need(y) as tf.Tensor2D, transA, transB), alpha);
    return z ? tf.add(prod, tf.mul(z, beta)) : prod;
  };
  if (!isDyn(a) || !b || b.kind !== 'const' || transA || (c && c.kind !== 'const') || a.rank !== 2) return viaLogical(ctx, 2, general);
  const kernel = tf.tidy(() => tf.mul(transB ? tf.transpose(b.t) : b.t, alpha));
  const bias = c && c.kind === 'const' ? tf.tidy(() => tf.reshape(tf.mul(c.t, beta), c.t.rank === 2 && c.t.shape[0] === 1 ? [-1] : c.t.shape)) : null;
  const attrs = { transpose_a: false, transpose_b: false, fused_ops: bias ? ['BiasAdd'] : [] };
  const ref = ctx.emit(bias ? '_FusedMatMul' : 'MatMul', bias ? [a.ref, kernel, bias] : [a.ref, kernel], attrs);
  return [{ kind: 'dyn', ref, rank: 2, permuted: false }];
}

function concat(ctx: RuleContext): Out {
  const ins = ctx.ins.filter((v): v is Value => !!v);
  const rank = rankOf(ins[0]);
  const axis = axisOf(ctx.int('axis', 0), rank);
  const general: Run = (xs) => tf.concat(xs.map(need).map(asFloat), axis);
  if (ins.every((v) => v.kind === 'const')) {
    return [{ kind: 'const', t: tf.tidy(() => tf.concat(ins.map((v) => (v.kind === 'const' ? v.t : tf.scalar(0))), axis)) }];
  }
  const permuted = ins.some((v) => isDyn(v) && v.permuted);
  const allPermuted = rank === 4 && ins.every((v) => (isDyn(v) ? v.permuted : v.t.rank === 4));
  if (permuted && !allPermuted) return viaLogical(ctx, rank, general);
  if (axis !== 0 && ins.some((v) => v.kind === 'const')) {
    // A constant written with batch 1 (ViT's class token) meets every image of a batch.
    const consts = ins.map((v) => (v.kind === 'const' ? ctx.own(asFloat(permuted ? constToPhysical(v.t) : v.t.clone())) : null));
    const at = permuted ? physicalAxis(axis) : axis;
    const ref = ctx.custom(ins.filter(isDyn), (xs) => {
      let k = 0;
      const parts = consts.map((c) => c ?? need(xs[k++]));
      const batch = xs[0]?.shape[0] ?? 1;
      return tf.concat(parts.map((p) => (p.shape[0] === 1 && batch > 1 ? tf.tile(p, [batch, ...Array<number>(p.rank - 1).fill(1)]) : p)), at);
    });
    return [{ kind: 'dyn', ref, rank, permuted }];
  }
  const inputs = ins.map((v) => (v.kind === 'dyn' ? v.ref : ctx.own(asFloat(permuted ? constToPhysical(v.t) : v.t.clone()))));
  const ref = ctx.emit('ConcatV2', [...inputs, tf.scalar(permuted ? physicalAxis(axis) : axis, 'int32')]);
  return [{ kind: 'dyn', ref, rank, permuted }];
}

function transpose(ctx: RuleContext): Out {
  const x = ctx.ins[0];
  const rank = rankOf(x);
  const perm = ctx.ints('perm', [...Array(rank).keys()].reverse());
  if (!isDyn(x) || rank !== 4) {
    if (isDyn(x)) return [{ kind: 'dyn', ref: ctx.emit('Transpose', [x.ref, ints1d(perm)]), rank, permuted: false }];
    return viaLogical(ctx, rank, ([v]) => tf.transpose(need(v), perm));
  }
  // From memory to the result ONNX means; then, if that is NCHW-like, keep it permuted.
  const toResult = compose(x.permuted ? TO_NCHW : [0, 1, 2, 3], perm);
  if (isIdentity(toResult)) return [{ kind: 'dyn', ref: x.ref, rank, permuted: false }];
  const toPermuted = compose(toResult, TO_NHWC);
  if (isIdentity(toPermuted)) return [{ kind: 'dyn', ref: x.ref, rank, permuted: true }];
  return [{ kind: 'dyn', ref: ctx.emit('Transpose', [x.ref, ints1d(toPermuted)]), rank, permuted: true }];
}

function reduce(ctx: RuleContext, kind: 'Mean' | 'Sum' | 'Max' | 'Min'): Out {
  const x = ctx.ins[0];
  const rank = rankOf(x);
  const fromInput = ctx.opset >= 18 || (kind === 'Sum' && ctx.opset >= 13);
  const raw = fromInput ? ctx.constValues(1) : Array.isArray(ctx.attr('axes')) ? ctx.ints('axes', []) : null;
  const axes = raw && raw.length > 0 ? raw.map((a) => axisOf(a, rank)).sort((p, q) => p - q) : null;
  const keep = ctx.int('keepdims', 1) === 1;
  if (!axes && ctx.int('noop_with_empty_axes', 0) === 1 && x) return [x];
  const f = { Mean: tf.mean, Sum: tf.sum, Max: tf.max, Min: tf.min }[kind];
  if (isDyn(x) && x.permuted && keep && axes && kind !== 'Min') {
    const ref = ctx.emit(kind, [x.ref, ints1d(axes.map(physicalAxis).sort((p, q) => p - q))], { keep_dims: true });
    return [{ kind: 'dyn', ref, rank, permuted: true }];
  }
  const outRank = keep ? rank : axes ? rank - axes.length : 0;
  return viaLogical(ctx, outRank, ([v]) => f(need(v), axes ?? undefined, keep));
}

function pad(ctx: RuleContext): Out {
  const x = ctx.ins[0];
  const rank = rankOf(x);
  const flat = ctx.opset >= 11 ? ctx.constValues(1) : ctx.ints('pads', []);
  if (!flat) return ctx.unsupported('pads computed at run time');
  const value = ctx.opset >= 11 ? ctx.constValues(2)?.[0] ?? 0 : ctx.float('value', 0);
  const mode = ctx.str('mode', 'constant');
  if (mode !== 'constant' && mode !== 'reflect') return ctx.unsupported(`mode ${mode}`);
  const pairsFor = (axisAt: (p: number) => number) => Array.from({ length: rank }, (_, p) => [flat[axisAt(p)] ?? 0, flat[axisAt(p) + rank] ?? 0]);
  if (!isDyn(x)) return viaLogical(ctx, rank, ([v]) => tf.pad(need(v), pairsFor((p) => p) as Array<[number, number]>, value));
  const pairs = pairsFor((p) => (x.permuted ? TO_NHWC[p] ?? p : p));
  const ref = mode === 'reflect' ? ctx.emit('MirrorPad', [x.ref, tf.tensor2d(pairs, [rank, 2], 'int32')], { mode: 'REFLECT' }) : ctx.emit('PadV2', [x.ref, tf.tensor2d(pairs, [rank, 2], 'int32'), tf.scalar(value)]);
  return sameLayout(x, ref);
}

function constantOf(ctx: RuleContext): Out {
  const value = ctx.attr('value');
  if (value && typeof value === 'object' && 'dims' in value) return [{ kind: 'const', t: tensorFrom(value) }];
  const f = ctx.attr('value_float') ?? ctx.attr('value_int');
  if (typeof f === 'number') return [{ kind: 'const', t: tf.scalar(f, ctx.attr('value_int') !== undefined ? 'int32' : 'float32') }];
  const fs = ctx.attr('value_floats') ?? ctx.attr('value_ints');
  if (Array.isArray(fs)) return [{ kind: 'const', t: tf.tensor1d(fs as number[], ctx.attr('value_ints') !== undefined ? 'int32' : 'float32') }];
  return ctx.unsupported('a Constant without a numeric value');
}

function tensorFrom(t: OnnxTensor): tf.Tensor {
  if (t.external) throw new Error(`constant ${t.name} is in an external file`);
  // INT64_MIN / INT64_MAX (Slice's "to the end") clamp to int32's range; Int32Array.from alone wraps them to 0.
  return isFloatType(t.dataType) ? tf.tensor(t.data, t.dims, 'float32') : tf.tensor(Int32Array.from(t.data, (v) => Math.max(-2147483648, Math.min(2147483647, v))), t.dims, 'int32');
}

function clip(ctx: RuleContext): Out {
  const lo = (ctx.opset >= 11 ? ctx.constValues(1)?.[0] : ctx.float('min', -Infinity)) ?? -Infinity;
  const hi = (ctx.opset >= 11 ? ctx.constValues(2)?.[0] : ctx.float('max', Infinity)) ?? Infinity;
  if (ctx.ins.slice(1).some((v) => isDyn(v))) return ctx.unsupported('bounds computed at run time');
  if (lo === 0 && hi === 6) return unary(ctx, 'Relu6', (v) => tf.relu6(v));
  if (lo === 0 && hi === Infinity) return unary(ctx, 'Relu', (v) => tf.relu(v));
  return unary(ctx, null, (v) => tf.clipByValue(v, Math.max(lo, -3.4e38), Math.min(hi, 3.4e38)));
}

function axesArg(ctx: RuleContext): number[] | null {
  return ctx.opset >= 13 ? ctx.constValues(1) : Array.isArray(ctx.attr('axes')) ? ctx.ints('axes', []) : null;
}

/** Every op translateNode has a rule for (the README's list; the backend conformance test runs their cases). */
export const SUPPORTED_ONNX_OPS: readonly string[] = [
  'Identity', 'Dropout', 'Constant', 'Conv', 'BatchNormalization', 'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Elu', 'Clip', 'HardSigmoid', 'HardSwish', 'Erf', 'Sqrt', 'Exp', 'Log', 'Neg', 'Abs', 'Reciprocal', 'Softplus', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mod', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Flatten', 'Reshape', 'Gemm', 'MatMul', 'Concat', 'Transpose', 'Softmax', 'LogSoftmax', 'LayerNormalization', 'ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'Pad', 'Gather', 'Unsqueeze', 'Squeeze', 'Slice', 'Shape', 'Expand', 'Equal', 'Where', 'Cast', 'ConstantOfShape',
];

/** The rule for one node: the values its outputs hold. */
export function translateNode(ctx: RuleContext): Value[] {
  const x = ctx.ins[0];
  const rank = rankOf(x);
  switch (ctx.node.opType) {
    case 'Identity':
      if (!x) return ctx.unsupported('no input');
      return [x];
    case 'Dropout':
      if (!x) return ctx.unsupported('no input');
      // Inference is the identity; so is training mode with ratio 0 (an export traced with dropout p = 0 in
      // the functional form, as torchvision's Swin attention: training = True, ratio 0). Training with a
      // ratio > 0 (random masks) is refused. The mask output of an identity is all true: a constant of
      // the input's shape at load (1 for true, as the reader holds booleans).
      {
        const ratio = ctx.opset >= 12 ? ctx.constValues(1)?.[0] ?? 0.5 : ctx.float('ratio', 0.5);
        const training = ctx.opset >= 12 ? Boolean(ctx.constValues(2)?.[0]) : ctx.int('is_test', 1) === 0;
        if (training && ratio !== 0) return ctx.unsupported('training mode');
        if (!ctx.node.outputs[1]) return [x];
        const shape = isDyn(x) ? ctx.shapeOf(x) : [...x.t.shape];
        if (!shape) return ctx.unsupported('the mask output of a tensor of unknown size');
        return [x, { kind: 'const', t: tf.ones(shape, 'int32') }];
      }
    case 'Constant': return constantOf(ctx);
    case 'Conv': return conv(ctx);
    case 'BatchNormalization': {
      if (!isDyn(x) || ctx.ins.slice(1, 5).some((v) => !v || v.kind !== 'const')) return ctx.unsupported('statistics computed at run time');
      if (rank !== 4 && rank !== 2) return ctx.unsupported(`a rank-${rank} input`);
      if (ctx.int('training_mode', 0) === 1 || ctx.node.outputs.slice(1).some(Boolean)) return ctx.unsupported('training mode');
      const stats = ctx.ins.slice(1, 5).map((v) => (v && v.kind === 'const' ? v.t : tf.scalar(0)));
      const ref = ctx.emit('FusedBatchNormV3', [rank === 4 ? nhwcRef(ctx, x) : x.ref, ...stats], { epsilon: ctx.float('epsilon', 1e-5) });
      return [{ kind: 'dyn', ref, rank, permuted: rank === 4 }];
    }
    case 'Relu': return unary(ctx, 'Relu', (v) => tf.relu(v));
    case 'LeakyRelu': {
      const alpha = ctx.float('alpha', 0.01);
      return unary(ctx, 'LeakyRelu', (v) => tf.leakyRelu(v, alpha), { alpha });
    }
    case 'Sigmoid': return unary(ctx, 'Sigmoid', (v) => tf.sigmoid(v));
    case 'Tanh': return unary(ctx, 'Tanh', (v) => tf.tanh(v));
    case 'Elu': {
      const alpha = ctx.float('alpha', 1);
      return alpha === 1 ? unary(ctx, 'Elu', (v) => tf.elu(v)) : unary(ctx, null, (v) => tf.where(tf.greater(v, 0), v, tf.mul(tf.sub(tf.exp(v), 1), alpha)));
    }
    case 'Clip': return clip(ctx);
    case 'HardSigmoid': {
      const alpha = ctx.float('alpha', 0.2);
      const beta = ctx.float('beta', 0.5);
      return unary(ctx, null, (v) => ops.hardSigmoid(v, alpha, beta));
    }
    case 'HardSwish': return unary(ctx, null, ops.hardSwish);
    case 'Erf': return unary(ctx, null, (v) => tf.erf(v));
    case 'Sqrt': return unary(ctx, null, (v) => tf.sqrt(v));
    case 'Exp': return unary(ctx, null, (v) => tf.exp(v));
    case 'Log': return unary(ctx, null, (v) => tf.log(v));
    case 'Neg': return unary(ctx, null, (v) => tf.neg(v));
    case 'Abs': return unary(ctx, null, (v) => tf.abs(v));
    case 'Reciprocal': return unary(ctx, null, (v) => tf.reciprocal(v));
    case 'Softplus': return unary(ctx, null, (v) => tf.softplus(v));
    case 'Add': return elementwise(ctx, 'AddV2', tf.add);
    case 'Sub': return elementwise(ctx, 'Sub', tf.sub);
    case 'Mul': return elementwise(ctx, 'Mul', tf.mul);
    case 'Div': return elementwise(ctx, 'RealDiv', (a, b) => (a.dtype === 'int32' && b.dtype === 'int32' ? ops.truncDiv(a, b) : tf.div(a, b)));
    case 'Mod': {
      const fmod = ctx.int('fmod', 0) === 1;
      return elementwise(ctx, null, (a, b) => ops.onnxMod(a, b, fmod));
    }
    case 'Pow': return elementwise(ctx, 'Pow', tf.pow);
    case 'Max': return elementwise(ctx, 'Maximum', tf.maximum);
    case 'Min': return elementwise(ctx, 'Minimum', tf.minimum);
    case 'Sum': return elementwise(ctx, ctx.ins.length === 2 ? 'AddV2' : null, tf.add);
    case 'MaxPool': return pool(ctx, true);
    case 'AveragePool': return pool(ctx, false);
    case 'GlobalAveragePool':
    case 'GlobalMaxPool': {
      if (!isDyn(x) || rank !== 4) return ctx.unsupported('only 2-D pooling of a computed tensor');
      const ref = ctx.emit(ctx.node.opType === 'GlobalAveragePool' ? 'Mean' : 'Max', [nhwcRef(ctx, x), ints1d([1, 2])], { keep_dims: true });
      return [{ kind: 'dyn', ref, rank: 4, permuted: true }];
    }
    case 'Flatten': {
      const axis = ctx.int('axis', 1);
      return viaLogical(ctx, 2, ([v]) => ops.onnxFlatten(need(v), axis));
    }
    case 'Reshape': {
      const target = ctx.constValues(1);
      if (!target) return ctx.unsupported('a shape computed at run time');
      const allowZero = ctx.int('allowzero', 0) === 1;
      // The input's shape at batch 1: a batch the exporter wrote into another axis follows (onnxReshape).
      const probeShape = isDyn(x) ? ctx.shapeOf(x) : null;
      return viaLogical(ctx, target.length, ([v]) => ops.onnxReshape(need(v), target, allowZero, probeShape));
    }
    case 'Gemm': return gemm(ctx);
    case 'MatMul': {
      const b = ctx.ins[1];
      if (isDyn(x) && b && b.kind === 'const' && rank === 2 && b.t.rank === 2) {
        return [{ kind: 'dyn', ref: ctx.emit('MatMul', [x.ref, b.t], { transpose_a: false, transpose_b: false, fused_ops: [] }), rank: 2, permuted: false }];
      }
      return viaLogical(ctx, Math.max(rank, rankOf(b)), ([p, q]) => ops.matMulND(need(p), need(q)));
    }
    case 'Concat': return concat(ctx);
    case 'Transpose': return transpose(ctx);
    case 'Softmax':
    case 'LogSoftmax': {
      const log = ctx.node.opType === 'LogSoftmax';
      const axis = ctx.int('axis', ctx.opset >= 13 ? -1 : 1);
      if (isDyn(x) && !log && rank === 2 && !x.permuted && axisOf(axis, 2) === 1) return sameLayout(x, ctx.emit('Softmax', [x.ref]));
      return viaLogical(ctx, rank, ([v]) => ops.onnxSoftmax(need(v), axis, ctx.opset, log));
    }
    case 'LayerNormalization': {
      const axis = ctx.int('axis', -1);
      const epsilon = ctx.float('epsilon', 1e-5);
      const [y] = viaLogical(ctx, rank, ([v, s, b]) => ops.layerNorm(need(v), need(s), b ?? null, axis, epsilon));
      if (!y) return ctx.unsupported();
      // The optional Mean and InvStdDev outputs, over the same axes (kept as 1s).
      const moments = (v: tf.Tensor) => tf.moments(v, [...Array(v.rank - axisOf(axis, v.rank)).keys()].map((k) => k + axisOf(axis, v.rank)), true);
      const extra = ctx.node.outputs.slice(1).map((name, k) =>
        name ? viaLogical(ctx, rank, ([v]) => (k === 0 ? moments(need(v)).mean : tf.rsqrt(tf.add(moments(need(v)).variance, epsilon))))[0] : undefined,
      );
      return [y, ...extra.map((v) => v ?? y)];
    }
    case 'ReduceMean': return reduce(ctx, 'Mean');
    case 'ReduceSum': return reduce(ctx, 'Sum');
    case 'ReduceMax': return reduce(ctx, 'Max');
    case 'ReduceMin': return reduce(ctx, 'Min');
    case 'Pad': return pad(ctx);
    case 'Gather': {
      const idx = ctx.ins[1];
      if (!idx || idx.kind !== 'const') return ctx.unsupported('indices computed at run time');
      const axis = ctx.int('axis', 0);
      return viaLogical(ctx, rank - 1 + idx.t.rank, ([v]) => ops.gather(need(v), idx.t, axis));
    }
    case 'Unsqueeze': {
      const axes = axesArg(ctx);
      if (!axes) return ctx.unsupported('axes computed at run time');
      return viaLogical(ctx, rank + axes.length, ([v]) => ops.unsqueeze(need(v), axes));
    }
    case 'Squeeze': {
      const axes = axesArg(ctx);
      if (!axes && isDyn(x)) return ctx.unsupported('Squeeze without axes');
      return viaLogical(ctx, rank - (axes?.length ?? 0), ([v]) => ops.squeeze(need(v), axes));
    }
    case 'Slice': {
      const starts = ctx.opset >= 10 ? ctx.constValues(1) : ctx.ints('starts', []);
      const ends = ctx.opset >= 10 ? ctx.constValues(2) : ctx.ints('ends', []);
      const axes = ctx.opset >= 10 ? ctx.constValues(3) : Array.isArray(ctx.attr('axes')) ? ctx.ints('axes', []) : null;
      const steps = ctx.opset >= 10 ? ctx.constValues(4) : null;
      if (!starts || !ends) return ctx.unsupported('bounds computed at run time');
      if (steps?.some((s) => s === 0)) return ctx.unsupported('a step of 0');
      return viaLogical(ctx, rank, ([v]) => ops.onnxSlice(need(v), starts, ends, axes, steps));
    }
    case 'Shape': {
      // A computed tensor's shape is known from the probe pass (the input size is fixed at load).
      const shape = isDyn(x) ? ctx.shapeOf(x) : x ? [...x.t.shape] : null;
      if (!shape) return ctx.unsupported('the shape of a tensor of unknown size');
      const start = axisOf(ctx.int('start', 0), shape.length);
      const end = ctx.attr('end') === undefined ? shape.length : axisOf(ctx.int('end', shape.length), shape.length);
      return [{ kind: 'const', t: ints1d(shape.slice(Math.max(0, start), Math.min(shape.length, end))) }];
    }
    case 'Expand': {
      const target = ctx.constValues(1);
      if (!target) return ctx.unsupported('a shape computed at run time');
      // Bidirectional broadcasting: the result is the broadcast of both shapes.
      const shapeOf = (v: tf.Tensor) => {
        const r = Math.max(v.rank, target.length);
        const a = [...Array<number>(r - v.rank).fill(1), ...v.shape];
        const b = [...Array<number>(r - target.length).fill(1), ...target];
        return a.map((d, i) => Math.max(d, b[i] ?? 1));
      };
      return viaLogical(ctx, Math.max(rank, target.length), ([v]) => tf.broadcastTo(need(v), shapeOf(need(v))));
    }
    case 'Equal': return viaLogical(ctx, Math.max(rank, rankOf(ctx.ins[1])), ([p, q]) => tf.cast(tf.equal(need(p), need(q)), 'int32'));
    case 'Where': {
      const [cond, p, q] = ctx.ins;
      return viaLogical(ctx, Math.max(rankOf(cond), rankOf(p), rankOf(q)), ([c, a, b]) => {
        const shape = tf.broadcast_util.assertAndGetBroadcastShape(tf.broadcast_util.assertAndGetBroadcastShape(need(c).shape, need(a).shape), need(b).shape);
        const [ta, tb] = need(a).dtype === need(b).dtype ? [need(a), need(b)] : [asFloat(need(a)), asFloat(need(b))];
        return tf.where(tf.broadcastTo(tf.cast(need(c), 'bool'), shape), tf.broadcastTo(ta, shape), tf.broadcastTo(tb, shape));
      });
    }
    case 'Cast': {
      const to = ctx.int('to', ONNX_DTYPE.FLOAT);
      if (isDyn(x)) return isFloatType(to) ? [x] : ctx.unsupported(`a cast of a computed tensor to ${to}`);
      return viaLogical(ctx, rank, ([v]) => tf.cast(need(v), isFloatType(to) ? 'float32' : 'int32'));
    }
    case 'ConstantOfShape': {
      const shape = ctx.constValues(0);
      const value = ctx.attr('value');
      if (!shape) return ctx.unsupported('a shape computed at run time');
      const fill = value && typeof value === 'object' && 'data' in value ? value.data[0] ?? 0 : 0;
      return [{ kind: 'const', t: tf.fill(shape, fill) }];
    }
    default:
      return ctx.unsupported();
  }
}
