/**
 * A graph model's nodes checked before tfjs-converter sees them, so that a hostile or damaged
 * model.json gets a specific code instead of a WASM trap or a TypeError deep in tfjs: op names that
 * are JavaScript object keys (`__proto__`, `toString` reach Object.prototype in lookups) or not op
 * names at all, fused ops the backends do not implement (the WASM kernel refuses them, the CPU one
 * silently skipped them: different predictions), strides / windows / dilations that are not whole
 * numbers in range, and an input too large to hold.
 */
import { studioError } from '../../shared/errors';
import type { GraphDef, GraphNode } from './graph-def';

/** What `_FusedConv2D` / `_FusedMatMul` / `FusedDepthwiseConv2dNative` may fuse (tfjs-converter and the backends). */
const KNOWN_FUSED_OPS = new Set(['BiasAdd', 'Add', 'AddV2', 'Relu', 'Relu6', 'LeakyRelu', 'Elu', 'Sigmoid', 'Tanh', 'Prelu', 'FusedBatchNorm', 'FusedBatchNormV3']);
const OP_NAME = /^_?[A-Za-z][A-Za-z0-9_]*$/;
/** Largest window, stride or dilation accepted: far above any real network, far below a trap. */
const MAX_WINDOW = 4096;
/** The input's sides and size: as for layers models (one image ≤ 256 MB as floats). */
const MAX_SIDE = 16384;
const MAX_INPUT_BYTES = 256 * 1024 * 1024;
const PADDINGS = new Set(['SAME', 'VALID', 'EXPLICIT']);

function isObjectKey(name: string): boolean {
  return name === '__proto__' || name in Object.prototype;
}

function checkWindow(node: GraphNode, field: 'strides' | 'ksize' | 'dilations'): void {
  const value = node.attrs[field];
  if (value === undefined || value === null) return;
  const list = Array.isArray(value) ? value : [value];
  const ok = list.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_WINDOW);
  if (!ok) throw studioError('MODEL_CONFIG_INVALID', { layer: node.name, field, value: `[${list.join(', ')}]`, reason: `each must be a whole number from 1 to ${MAX_WINDOW}` });
}

export function validateGraphDef(def: GraphDef): void {
  for (const node of def.nodes) {
    if (!OP_NAME.test(node.op) || isObjectKey(node.op)) throw studioError('GRAPH_OP_UNSUPPORTED', { op: JSON.stringify(node.op), node: node.name });
    const fused = node.attrs.fused_ops;
    if (Array.isArray(fused)) {
      const unknown = fused.find((op) => typeof op !== 'string' || !KNOWN_FUSED_OPS.has(op));
      if (unknown !== undefined) throw studioError('GRAPH_OP_UNSUPPORTED', { op: `${node.op} fused with ${JSON.stringify(unknown)}`, node: node.name });
    }
    checkWindow(node, 'strides');
    checkWindow(node, 'ksize');
    checkWindow(node, 'dilations');
    const padding = node.attrs.padding;
    if (typeof padding === 'string' && !PADDINGS.has(padding)) throw studioError('MODEL_CONFIG_INVALID', { layer: node.name, field: 'padding', value: JSON.stringify(padding), reason: 'must be SAME, VALID or EXPLICIT' });
    if (padding === 'EXPLICIT') {
      // Four (before, after) pairs, NHWC; a missing list made the WASM kernel read out of bounds.
      const pads = node.attrs.explicit_paddings;
      const ok = Array.isArray(pads) && pads.length === 8 && pads.every((p) => typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= MAX_WINDOW);
      if (!ok) throw studioError('MODEL_CONFIG_INVALID', { layer: node.name, field: 'explicit_paddings', value: JSON.stringify(pads ?? null), reason: `EXPLICIT padding needs 8 whole numbers from 0 to ${MAX_WINDOW}` });
    }
  }
  const shape = def.inputShape;
  const text = `[${shape.join(', ')}]`;
  for (const d of shape.slice(1)) {
    if (!Number.isInteger(d) || d === 0 || d < -1 || d > MAX_SIDE) throw studioError('INPUT_SIZE_INVALID', { shape: text, reason: `each size must be -1 (any) or a whole number from 1 to ${MAX_SIDE}` });
  }
  const known = shape.slice(1).filter((d) => d > 0);
  const bytes = known.reduce((n, d) => n * d, 4);
  if (bytes > MAX_INPUT_BYTES) throw studioError('INPUT_SIZE_INVALID', { shape: text, reason: `one image would need ${Math.round(bytes / 1e6)} MB as floats (limit ${MAX_INPUT_BYTES / (1024 * 1024)} MB)` });
}
