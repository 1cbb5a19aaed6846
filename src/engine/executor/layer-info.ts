/**
 * What the executor modules read off a leaf layer's (private) fields: the conv / dense internals,
 * whether a layer has a plain-op call (plainLeafCall) and the name of its activation. No imports from
 * the other executor modules, so program.ts, leaf.ts and folding.ts can all use it.
 */
import * as tf from '@tensorflow/tfjs';

type Layer = tf.layers.Layer;

export interface ConvInternals {
  kernel?: tf.LayerVariable | null;
  bias?: tf.LayerVariable | null;
  depthwiseKernel?: tf.LayerVariable | null;
  pointwiseKernel?: tf.LayerVariable | null;
  strides: number[];
  padding: 'valid' | 'same' | 'causal';
  dataFormat: 'channelsFirst' | 'channelsLast';
  dilationRate: number | number[];
  useBias: boolean;
  activation: { apply(x: tf.Tensor): tf.Tensor; getClassName(): string } | null;
  rank?: number;
}

const FAST_CLASSES = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense']);

/** Conv2D / DepthwiseConv2D / SeparableConv2D / Dense in a form plainLeafCall covers (NHWC, no causal padding). */
export function linearCallSupported(layer: Layer): boolean {
  const l = layer as unknown as ConvInternals;
  if (!FAST_CLASSES.has(layer.getClassName())) return false;
  if (layer.getClassName() !== 'Dense' && (l.dataFormat !== 'channelsLast' || l.padding === 'causal')) return false;
  return true;
}

export function pair(v: number | number[]): [number, number] {
  return Array.isArray(v) ? [v[0], v.length > 1 ? v[1] : v[0]] : [v, v];
}

/** The lower-case class name of a layer's own activation (`relu`, `softmax`…), or null when it has none. */
export function activationName(layer: Layer): string | null {
  const act = (layer as unknown as { activation?: { getClassName(): string } }).activation;
  if (act && typeof act.getClassName === 'function') return act.getClassName().toLowerCase();
  return null;
}
