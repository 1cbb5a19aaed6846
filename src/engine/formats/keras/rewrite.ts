/**
 * Rewrite layers tfjs-layers lacks but whose inference behaviour it can express exactly, before
 * the config is checked and built (pure JSON):
 * - training-only augmentation/noise layers (RandomFlip, RandomRotation…, as in Keras's
 *   transfer-learning tutorial) → a linear Activation, with a notice;
 * - arithmetic with a constant, as `preprocess_input` leaves it in a model: TF 2 `TFOpLambda`
 *   (`tf.math.truediv(x, 127.5)`, `tf.math.subtract(x, 1.0)`…) and Keras 3 ops (`TrueDivide`,
 *   `Subtract`…) → `Rescaling(scale, offset)`, which computes `x * scale + offset`.
 * Layer names are kept, so Keras 2 weight groups and the layer tree still match.
 */
import { notice, type StudioNotice } from '../../../shared/errors';
import { containerLayers, isContainerClass, isObject, layerName, type JsonObject } from './config';

/** Identity at inference in Keras (they act only when `training=True`). */
const TRAINING_ONLY_CLASSES = new Set([
  'RandomFlip',
  'RandomRotation',
  'RandomZoom',
  'RandomContrast',
  'RandomTranslation',
  'RandomBrightness',
  'RandomHeight',
  'RandomWidth',
  'SpatialDropout2D',
  'SpatialDropout3D',
]);

type Affine = { scale: number; offset: number };

/** x ∘ c for a constant c, when `tensorFirst`; c ∘ x otherwise. null when not affine in x. */
function affine(op: string, constant: number, tensorFirst: boolean): Affine | null {
  switch (op) {
    case 'add':
      return { scale: 1, offset: constant };
    case 'multiply':
      return { scale: constant, offset: 0 };
    case 'subtract':
      return tensorFirst ? { scale: 1, offset: -constant } : { scale: -1, offset: constant };
    case 'divide':
      return tensorFirst && constant !== 0 ? { scale: 1 / constant, offset: 0 } : null;
    default:
      return null;
  }
}

const TF_OP_FUNCTIONS: Record<string, string> = {
  'math.truediv': 'divide',
  'math.divide': 'divide',
  'math.multiply': 'multiply',
  'math.subtract': 'subtract',
  'math.add': 'add',
  '__operators__.add': 'add',
  '__operators__.sub': 'subtract',
};
const KERAS3_OPS: Record<string, string> = { TrueDivide: 'divide', Divide: 'divide', Multiply: 'multiply', Subtract: 'subtract', Add: 'add' };

function rescaling(layer: JsonObject, map: Affine, inboundNodes: unknown): JsonObject {
  const name = layerName(layer);
  const config = isObject(layer.config) ? layer.config : {};
  const out: JsonObject = { class_name: 'Rescaling', config: { name, trainable: false, dtype: config.dtype ?? 'float32', scale: map.scale, offset: map.offset } };
  if ('name' in layer) out.name = layer.name;
  out.inbound_nodes = inboundNodes;
  return out;
}

function isTensorRef(value: unknown): value is [string, number, number, ...unknown[]] {
  return Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'number' && typeof value[2] === 'number';
}

/** TF 2 TFOpLambda: nodes are `[name, node, tensor, {y: c, name: null}]` (flat) or a list of such refs. */
function rewriteTfOpLambda(layer: JsonObject): JsonObject | null {
  const config = isObject(layer.config) ? layer.config : {};
  const op = typeof config.function === 'string' ? TF_OP_FUNCTIONS[config.function] : undefined;
  if (!op || !Array.isArray(layer.inbound_nodes) || layer.inbound_nodes.length !== 1) return null;
  const node = layer.inbound_nodes[0] as unknown;
  const ref = isTensorRef(node) ? node : Array.isArray(node) && node.length === 1 && isTensorRef(node[0]) ? node[0] : null;
  if (!ref) return null;
  const kwargs = isObject(ref[3]) ? ref[3] : {};
  if (typeof kwargs.y !== 'number') return null;
  const map = affine(op, kwargs.y, true);
  return map ? rescaling(layer, map, [[[ref[0], ref[1], ref[2], {}]]]) : null;
}

function isKerasTensor(value: unknown): boolean {
  return isObject(value) && value.class_name === '__keras_tensor__';
}

/** Keras 3 op (`module: keras.src.ops.numpy`): one node `{args: [x, c] | [c, x], kwargs: {}}`. */
function rewriteKeras3Op(layer: JsonObject): JsonObject | null {
  const op = typeof layer.class_name === 'string' ? KERAS3_OPS[layer.class_name] : undefined;
  if (!op || typeof layer.module !== 'string' || !layer.module.startsWith('keras.src.ops')) return null;
  if (!Array.isArray(layer.inbound_nodes) || layer.inbound_nodes.length !== 1) return null;
  const node = layer.inbound_nodes[0] as unknown;
  if (!isObject(node) || !Array.isArray(node.args) || node.args.length !== 2) return null;
  const [a, b] = node.args as unknown[];
  const tensorFirst = isKerasTensor(a) && typeof b === 'number';
  const constantFirst = typeof a === 'number' && isKerasTensor(b);
  if (!tensorFirst && !constantFirst) return null;
  const map = affine(op, (tensorFirst ? b : a) as number, tensorFirst);
  return map ? rescaling(layer, map, [{ args: [tensorFirst ? a : b], kwargs: {} }]) : null;
}

function rewriteLayer(layer: JsonObject, notices: StudioNotice[]): JsonObject {
  const className = typeof layer.class_name === 'string' ? layer.class_name : '';
  if (isContainerClass(className)) {
    const config = layer.config;
    const layers = containerLayers(config).map((l) => rewriteLayer(l, notices));
    return { ...layer, config: Array.isArray(config) ? layers : { ...(config as JsonObject), layers } };
  }
  const custom = typeof layer.registered_name === 'string' && layer.registered_name.includes('>');
  if (TRAINING_ONLY_CLASSES.has(className) && !custom) {
    const config = isObject(layer.config) ? layer.config : {};
    notices.push(notice('TRAINING_ONLY_LAYER', { layer: layerName(layer), className }));
    const out: JsonObject = { ...layer, class_name: 'Activation', config: { name: layerName(layer), trainable: false, dtype: config.dtype ?? 'float32', activation: 'linear' } };
    delete out.module;
    delete out.registered_name;
    return out;
  }
  if (className === 'TFOpLambda') return rewriteTfOpLambda(layer) ?? layer;
  return rewriteKeras3Op(layer) ?? layer;
}

/** Returns a rewritten copy (the input is not modified) and a notice per training-only layer. */
export function rewriteForInference(raw: unknown): { config: unknown; notices: StudioNotice[] } {
  const notices: StudioNotice[] = [];
  if (!isObject(raw)) return { config: raw, notices };
  return { config: rewriteLayer(raw, notices), notices };
}
