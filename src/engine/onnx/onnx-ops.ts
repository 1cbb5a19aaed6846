/**
 * ONNX ops without a TF twin, as plain tf ops (differentiable under the tape), each taking its
 * inputs as the program stores them (permuted or not, onnx-layout.ts) and giving ONNX's result.
 */
import * as tf from '@tensorflow/tfjs';
import { axisOf, logical } from './onnx-layout';

type Pads4 = [number, number, number, number];

/** ONNX pads [top, left, bottom, right] plus ceil_mode's extra bottom/right rows, for an input of h×w. */
export function poolPads(h: number, w: number, kernel: [number, number], strides: [number, number], pads: Pads4, ceil: boolean): { pads: Pads4; extra: [number, number] } {
  const extraFor = (size: number, k: number, s: number, before: number, after: number) => {
    if (!ceil) return 0;
    const span = size + before + after - k;
    let out = Math.ceil(span / s) + 1;
    // PyTorch and ONNX: the last window must start inside the input or its left padding.
    if ((out - 1) * s >= size + before) out -= 1;
    return Math.max(0, (out - 1) * s + k - (size + before + after));
  };
  return { pads, extra: [extraFor(h, kernel[0], strides[0], pads[0], pads[2]), extraFor(w, kernel[1], strides[1], pads[1], pads[3])] };
}

const LOWEST = -3.4e38;

/** MaxPool with explicit / asymmetric pads and ceil_mode on an NHWC tensor (padding never wins a max). */
export function maxPoolPadded(x: tf.Tensor4D, kernel: [number, number], strides: [number, number], onnxPads: Pads4, ceil: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const { pads, extra } = poolPads(h, w, kernel, strides, onnxPads, ceil);
    const padded = tf.pad(x, [[0, 0], [pads[0], pads[2] + extra[0]], [pads[1], pads[3] + extra[1]], [0, 0]], LOWEST);
    return tf.maxPool(padded, kernel, strides, 'valid');
  });
}

/** AveragePool with pads and ceil_mode: the divisor counts the pads only with count_include_pad, never ceil_mode's extra. */
export function avgPoolPadded(x: tf.Tensor4D, kernel: [number, number], strides: [number, number], onnxPads: Pads4, ceil: boolean, countPads: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const { pads, extra } = poolPads(h, w, kernel, strides, onnxPads, ceil);
    const spec: Array<[number, number]> = [[0, 0], [pads[0], pads[2] + extra[0]], [pads[1], pads[3] + extra[1]], [0, 0]];
    const sums = tf.avgPool(tf.pad(x, spec), kernel, strides, 'valid');
    let ones = tf.ones([1, h, w, 1]);
    if (countPads) ones = tf.pad(ones, [[0, 0], [pads[0], pads[2]], [pads[1], pads[3]], [0, 0]], 1);
    const inner: Array<[number, number]> = countPads ? [[0, 0], [0, extra[0]], [0, extra[1]], [0, 0]] : spec;
    const counts = tf.avgPool(tf.pad(ones, inner) as tf.Tensor4D, kernel, strides, 'valid');
    return tf.div(sums, counts);
  });
}

/** Grouped (not depthwise) convolution: one conv per group over its channel slice, concatenated. */
export function groupedConv(x: tf.Tensor4D, filters: tf.Tensor4D[], strides: [number, number], pad: 'same' | 'valid' | Array<[number, number]>, dilations: [number, number], bias: tf.Tensor | null): tf.Tensor4D {
  return tf.tidy(() => {
    const parts = tf.split(x, filters.length, 3);
    const explicit = Array.isArray(pad) ? ([[0, 0], ...pad, [0, 0]] as [[number, number], [number, number], [number, number], [number, number]]) : pad;
    const outs = filters.map((filter, g) => tf.conv2d(parts[g] as tf.Tensor4D, filter, strides, explicit, 'NHWC', dilations));
    const y = tf.concat(outs, 3);
    return bias ? tf.add(y, bias) : y;
  });
}

/**
 * ONNX Reshape: 0 copies the input's dimension, -1 is inferred; a batch of 1 written by the exporter
 * follows the input's batch. `probeShape` is the input's shape at batch 1, as the translation's probe
 * saw it: a batch of b images makes one input axis b times larger (after a transpose the batch need
 * not be first — a transformer's attention holds tokens as [N, B, C] and reshapes them to
 * [N, B·heads, C/heads] with B = 1 written in), and `batchedTarget` puts the factor on the target axis
 * that holds it, as PyTorch's view would have with that batch.
 */
export function onnxReshape(x: tf.Tensor, target: number[], allowZero: boolean, probeShape?: readonly number[] | null): tf.Tensor {
  const shape = target.map((d, i) => (d === 0 && !allowZero ? x.shape[i] ?? 0 : d));
  const batch = x.shape[0] ?? 1;
  if (shape.length > 1 && shape[0] === 1 && batch > 1 && (!probeShape || probeShape[0] === 1)) {
    shape[0] = shape.includes(-1) ? batch : -1;
    return tf.reshape(x, shape);
  }
  const scaled = probeShape ? batchedTarget(target.map((d, i) => (d === 0 && !allowZero ? probeShape[i] ?? 0 : d)), x.shape, probeShape) : null;
  return tf.reshape(x, scaled ?? shape);
}

/**
 * The target with the batch's factor on the axis that holds it, or null when no input axis grew (or
 * none can be told). The batch starts at an element offset in the grown input axis p: where p starts
 * when the batch is its major part ([B·heads, …]), where p's batch-1 extent ends when it is the minor
 * part ([N·B, …], a transformer's tokens × batch). Of the target axes starting or ending at such an
 * offset, one of size 1 is the exporter's written-in batch; else the axis starting at the major offset
 * unless it is the last axis (a feature axis, fixed by the weights), else the one ending there.
 */
export function batchedTarget(target: readonly number[], actual: readonly number[], probe: readonly number[]): number[] | null {
  if (actual.length !== probe.length) return null;
  const grown = actual.map((d, i) => (d !== probe[i] ? i : -1)).filter((i) => i >= 0);
  if (grown.length !== 1) return null;
  const p = grown[0]!;
  const size = probe[p] ?? 1;
  const factor = (actual[p] ?? 1) / size;
  if (!Number.isInteger(factor) || factor <= 1) return null;
  // -1 resolved at batch 1.
  const total = probe.reduce((a, d) => a * d, 1);
  const known = target.reduce((a, d) => (d === -1 ? a : a * d), 1);
  const shape = target.map((d) => (d === -1 ? total / known : d));
  const starts: number[] = [];
  let offset = 1;
  for (const d of shape) {
    starts.push(offset);
    offset *= d;
  }
  const outer = probe.slice(0, p).reduce((a, d) => a * d, 1);
  const offsets = size === 1 ? [outer] : [outer, outer * size];
  const startingAt = (o: number) => starts.findIndex((s, q) => s === o && (shape[q] ?? 0) > 0);
  const endingAt = (o: number) => starts.findIndex((s, q) => s * (shape[q] ?? 0) === o);
  const scale = (q: number) => shape.map((d, i) => (i === q ? d * factor : d));
  for (const o of offsets) {
    const q = startingAt(o);
    if (q >= 0 && shape[q] === 1) return scale(q);
  }
  for (const o of offsets) {
    const a = startingAt(o);
    if (a >= 0 && a < shape.length - 1) return scale(a);
    const b = endingAt(o);
    if (b >= 0) return scale(b);
  }
  return null;
}

export function onnxFlatten(x: tf.Tensor, axis: number): tf.Tensor {
  const a = axisOf(axis, x.rank);
  const outer = x.shape.slice(0, a).reduce((p, d) => p * d, 1);
  return tf.reshape(x, [outer, -1]);
}

export function onnxSoftmax(x: tf.Tensor, axis: number, opset: number, log: boolean): tf.Tensor {
  return tf.tidy(() => {
    const a = axisOf(axis, x.rank);
    const f = (t: tf.Tensor) => (log ? tf.logSoftmax(t) : tf.softmax(t));
    if (opset < 13) return tf.reshape(f(onnxFlatten(x, a)), x.shape);
    if (a === x.rank - 1) return f(x);
    const perm = [...Array(x.rank).keys()];
    perm[a] = x.rank - 1;
    perm[x.rank - 1] = a;
    return tf.transpose(f(tf.transpose(x, perm)), perm);
  });
}

export function layerNorm(x: tf.Tensor, scale: tf.Tensor, bias: tf.Tensor | null, axis: number, epsilon: number): tf.Tensor {
  return tf.tidy(() => {
    const a = axisOf(axis, x.rank);
    const axes = [...Array(x.rank - a).keys()].map((k) => k + a);
    const { mean, variance } = tf.moments(x, axes, true);
    const y = tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))), scale);
    return bias ? tf.add(y, bias) : y;
  });
}

/** MatMul of an N-D tensor by a 2-D weight (torch's Linear on [N, H, W, C]). */
export function matMulND(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.rank === 2 && b.rank === 2) return tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
  if (b.rank === 2) {
    const k = a.shape[a.rank - 1] ?? 1;
    const y = tf.matMul(tf.reshape(a, [-1, k]) as tf.Tensor2D, b as tf.Tensor2D);
    return tf.reshape(y, [...a.shape.slice(0, -1), b.shape[1] ?? 1]);
  }
  return tf.matMul(a, b);
}

export function gather(x: tf.Tensor, indices: tf.Tensor, axis: number): tf.Tensor {
  const a = axisOf(axis, x.rank);
  const size = x.shape[a] ?? 1;
  const idx = tf.tensor(Array.from(indices.dataSync()).map((i) => (i < 0 ? i + size : i)), indices.shape, 'int32');
  const out = tf.gather(x, indices.rank === 0 ? tf.reshape(idx, [1]) : idx, a);
  return indices.rank === 0 ? tf.squeeze(out, [a]) : out;
}

export function unsqueeze(x: tf.Tensor, axes: number[]): tf.Tensor {
  const rank = x.rank + axes.length;
  const sorted = axes.map((a) => axisOf(a, rank)).sort((p, q) => p - q);
  const shape = [...x.shape];
  for (const a of sorted) shape.splice(a, 0, 1);
  return tf.reshape(x, shape);
}

export function squeeze(x: tf.Tensor, axes: number[] | null): tf.Tensor {
  return tf.squeeze(x, axes ? axes.map((a) => axisOf(a, x.rank)) : undefined);
}

/**
 * ONNX Slice on constant starts/ends/axes/steps, as the spec clamps them: for a positive step starts and
 * ends (negative ones counted from the end; INT64_MIN / INT64_MAX arrive clamped to int32) are clamped
 * to [0, dim]; for a negative step starts to [0, dim − 1] and ends to [−1, dim − 1], −1 meaning "past the
 * first element". A negative step is run as a reverse along the axis and a positive step, so it keeps a
 * gradient (tf.reverse, tf.slice, tf.pad and tf.reshape have one; tf.stridedSlice has none).
 */
export function onnxSlice(x: tf.Tensor, starts: number[], ends: number[], axes: number[] | null, steps: number[] | null): tf.Tensor {
  return tf.tidy(() => {
    const begin = x.shape.map(() => 0);
    const end = [...x.shape];
    const stride = x.shape.map(() => 1);
    const reversed: number[] = [];
    starts.forEach((s, i) => {
      const a = axisOf(axes?.[i] ?? i, x.rank);
      const size = x.shape[a] ?? 0;
      const step = steps?.[i] ?? 1;
      if (step === 0) throw new Error('Slice step 0');
      const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + size : v, lo), hi);
      if (step > 0) {
        begin[a] = clamp(s, 0, size);
        end[a] = clamp(ends[i] ?? size, 0, size);
      } else {
        // Element k of the reversed axis is element size − 1 − k: start s → size − 1 − s, end e → size − 1 − e.
        const first = clamp(s, 0, size - 1);
        const last = clamp(ends[i] ?? -size - 1, -1, size - 1);
        begin[a] = size - 1 - first;
        end[a] = Math.max(begin[a] ?? 0, size - 1 - last);
        reversed.push(a);
      }
      stride[a] = Math.abs(step);
    });
    const flipped = reversed.length > 0 ? tf.reverse(x, reversed) : x;
    const sizes = end.map((e, i) => Math.max(0, e - (begin[i] ?? 0)));
    let y = tf.slice(flipped, begin, sizes);
    // Steps > 1 (Swin's patch merging, x[:, 0::2, 1::2]) without tf.stridedSlice, which has no
    // gradient: the axis padded to a multiple of the step, split as [n, step], element 0 of each kept.
    stride.forEach((step, a) => {
      const length = y.shape[a] ?? 0;
      if (step === 1 || length === 0) return;
      const n = Math.ceil(length / step);
      const pads = y.shape.map((_, i): [number, number] => [0, i === a ? n * step - length : 0]);
      const split = [...y.shape.slice(0, a), n, step, ...y.shape.slice(a + 1)];
      const first = tf.slice(tf.reshape(tf.pad(y, pads), split), split.map(() => 0), split.map((d, i) => (i === a + 1 ? 1 : d)));
      y = tf.reshape(first, y.shape.map((d, i) => (i === a ? n : d)));
    });
    return y;
  });
}

/** Integer Div as ONNX (and C) has it: the quotient truncated toward zero (tf.div on int32 floors). */
export function truncDiv(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const floor = tf.floorDiv(a, b);
    // floor < trunc exactly when the signs differ and the division is inexact.
    const inexact = tf.notEqual(tf.mul(floor, b), a);
    const negative = tf.logicalXor(tf.less(a, 0), tf.less(b, 0));
    return tf.where(tf.logicalAnd(inexact, negative), tf.add(floor, tf.scalar(1, 'int32')), floor);
  });
}

/**
 * ONNX Mod: fmod 0 is Python's % (the result has the divisor's sign, tf.mod), fmod 1 is C's fmod (the
 * result has the dividend's sign): the floored remainder moved by one divisor where the signs differ.
 */
export function onnxMod(a: tf.Tensor, b: tf.Tensor, fmod: boolean): tf.Tensor {
  return tf.tidy(() => {
    const floored = tf.mod(a, b);
    if (!fmod) return floored;
    const zero = tf.scalar(0, floored.dtype);
    const differ = tf.logicalAnd(tf.notEqual(floored, zero), tf.logicalXor(tf.less(floored, zero), tf.less(a, zero)));
    return tf.where(differ, tf.sub(floored, b), floored);
  });
}

export function hardSigmoid(x: tf.Tensor, alpha: number, beta: number): tf.Tensor {
  return tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 1);
}

/** HardSwish: x · HardSigmoid(x) with alpha 1/6, beta 0.5. */
export function hardSwish(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, hardSigmoid(x, 1 / 6, 0.5)));
}

export { logical };
