/** What a node rule (onnx-node-rules.ts) gets from the translation (onnx-translate.ts). */
import type * as tf from '@tensorflow/tfjs';
import type { AttrValue } from '../graph/graph-def';
import type { OnnxAttr, OnnxNode } from './onnx-proto';
import type { Dynamic, Value } from './onnx-layout';

/** What a node rule gets: the node, its inputs as values, and ways to emit graph nodes. */
export interface RuleContext {
  node: OnnxNode;
  opset: number;
  ins: Array<Value | null>;
  attr: (name: string) => OnnxAttr | undefined;
  int: (name: string, fallback: number) => number;
  float: (name: string, fallback: number) => number;
  ints: (name: string, fallback: number[]) => number[];
  str: (name: string, fallback: string) => string;
  /** A constant input's values, or null. */
  constValues: (k: number) => number[] | null;
  /** Emit a TF op node; constants are registered as weights. Returns the graph tensor. */
  emit: (op: string, inputs: Array<string | tf.Tensor>, attrs?: Record<string, AttrValue>, suffix?: string) => string;
  /** Emit an Onnx<op> node run by `run` with the dynamic inputs given. */
  custom: (inputs: Dynamic[], run: (xs: tf.Tensor[]) => tf.Tensor, suffix?: string) => string;
  /** A computed input's ONNX shape (from the probe pass on a blank image). */
  shapeOf: (v: Dynamic) => number[] | null;
  /** Keep a tensor made here alive with the model. */
  own: <T extends tf.Tensor>(t: T) => T;
  unsupported: (reason?: string) => never;
}
