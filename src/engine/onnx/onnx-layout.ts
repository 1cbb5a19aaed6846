/**
 * The layout switch. An ONNX model computes in NCHW; the app (and tfjs's fast kernels) in NHWC. At
 * load every 4-D tensor on the image path is held "permuted": its values stored NHWC while ONNX
 * means NCHW. Ops that only look at channels (Conv, BatchNorm, pools, activations, elementwise)
 * run on the permuted tensor as they are; ops that look at axes (Concat, Reduce, Pad, Transpose) get
 * their axes mapped; ops that look at memory order (Flatten, Reshape, Gather, Softmax, MatMul)
 * see the NCHW tensor again (one transpose inside the op), so every result is exactly ONNX's.
 */
import * as tf from '@tensorflow/tfjs';

/** A value during translation: a constant (ONNX layout) or a tensor the program computes. */
export type Value = { kind: 'const'; t: tf.Tensor } | Dynamic;

export interface Dynamic {
  kind: 'dyn';
  /** The graph tensor holding it (`node` or `node:k`). */
  ref: string;
  rank: number;
  /** Rank 4, stored NHWC while ONNX means NCHW. */
  permuted: boolean;
}

export const TO_NHWC = [0, 2, 3, 1];
export const TO_NCHW = [0, 3, 1, 2];

/** Where a logical (NCHW) axis of a permuted tensor sits in memory. */
export function physicalAxis(axis: number): number {
  return TO_NHWC.indexOf(axis);
}

/** The tensor as ONNX means it (NCHW for a permuted rank-4 tensor). */
export function logical(x: tf.Tensor, permuted: boolean): tf.Tensor {
  return permuted && x.rank === 4 ? tf.transpose(x, TO_NCHW) : x;
}

/** A constant that broadcasts against a permuted tensor: padded to rank 4 (numpy rules) and stored NHWC. */
export function constToPhysical(t: tf.Tensor): tf.Tensor {
  if (t.rank === 0 || t.size === 1) return t.rank === 0 ? t.clone() : tf.reshape(t, []);
  if (t.rank > 4) throw new Error(`a rank-${t.rank} constant cannot meet an NCHW tensor`);
  const shape = [...Array<number>(4 - t.rank).fill(1), ...t.shape];
  return tf.tidy(() => tf.transpose(tf.reshape(t, shape), TO_NHWC));
}

/** Composition: x.transpose(a).transpose(b) = x.transpose(compose(a, b)). */
export function compose(a: number[], b: number[]): number[] {
  return b.map((k) => a[k] ?? k);
}

export function isIdentity(perm: number[]): boolean {
  return perm.every((p, i) => p === i);
}

/** Normalise a possibly negative axis. */
export function axisOf(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
