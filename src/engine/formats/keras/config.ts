/**
 * Keras model configs (Keras 2 `model_config`, Keras 3 `config.json`) → the Keras 2 form that
 * tfjs-layers 4.22 deserialises. Pure JSON work, no tfjs: unit-testable and cheap.
 */
import { studioError } from '../../../shared/errors';

export type JsonObject = { [key: string]: unknown };

/** What `tf.io.ModelArtifacts.modelTopology` holds for a layers model. */
export interface KerasTopology {
  class_name: string;
  config: unknown;
  keras_version?: string;
  backend?: string;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const CONTAINER_CLASSES = new Set(['Model', 'Functional', 'Sequential']);
/** Keys Keras 3 adds around every serialised object that tfjs-layers does not know. */
const KERAS3_ONLY_KEYS = ['module', 'registered_name', 'build_config', 'compile_config'];
/** tfjs computes in float32: half, bfloat16 and mixed policies load as float32. */
const TFJS_DTYPES = new Set(['float32', 'int32', 'bool', 'complex64', 'string']);

export function isContainerClass(className: unknown): boolean {
  return typeof className === 'string' && CONTAINER_CLASSES.has(className);
}

/** The layer list of a container config: Keras 2.0/2.1 Sequential configs are a bare list. */
export function containerLayers(config: unknown): JsonObject[] {
  const list = Array.isArray(config) ? config : isObject(config) && Array.isArray(config.layers) ? config.layers : [];
  return list.filter(isObject);
}

export function layerName(layer: JsonObject): string {
  if (typeof layer.name === 'string') return layer.name;
  if (isObject(layer.config) && typeof layer.config.name === 'string') return layer.config.name;
  return '(unnamed)';
}

/** Keras's own `naming.to_snake_case`, used for Keras 3 weight paths: `SeparableConv2D` → `separable_conv2d`. */
export function kerasSnakeCase(name: string): string {
  let s = name.replace(/\W+/g, '');
  s = s.replace(/(.)([A-Z][a-z]+)/g, '$1_$2');
  return s.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

/** `{class_name: "DTypePolicy", config: {name: "float32"}}` (or a plain string) → a tfjs dtype name. */
function dtypeName(value: unknown): unknown {
  let name: unknown = value;
  if (isObject(value)) name = isObject(value.config) ? value.config.name : value.name;
  if (typeof name !== 'string') return value;
  return TFJS_DTYPES.has(name) ? name : 'float32';
}

/** A tensor reference given flat (`["in", 0, 0]`) instead of as a list of them. */
function nestTensorRefs(value: unknown): unknown {
  if (Array.isArray(value) && value.length > 0 && typeof value[0] === 'string') return [value];
  return value;
}

function collectKerasTensors(value: unknown, out: [string, number, number][]): void {
  if (Array.isArray(value)) {
    for (const item of value) collectKerasTensors(item, out);
    return;
  }
  if (!isObject(value)) return;
  if (value.class_name === '__keras_tensor__' && isObject(value.config) && Array.isArray(value.config.keras_history)) {
    const [layer, node, tensor] = value.config.keras_history as [string, number, number];
    out.push([layer, node, tensor]);
  }
}

function containsKerasTensor(value: unknown): boolean {
  const found: [string, number, number][] = [];
  collectKerasTensors(value, found);
  return found.length > 0;
}

/**
 * Keras 3 node `{args: [tensor | [tensors]], kwargs}` → Keras 2 `[[layer, node, tensor, kwargs], …]`.
 * kwargs that carry tensors (masks) cannot be expressed in the old form and are dropped.
 */
function convertInboundNode(node: unknown): unknown {
  if (!isObject(node) || !('args' in node)) return node;
  const tensors: [string, number, number][] = [];
  collectKerasTensors(node.args, tensors);
  const kwargs: JsonObject = {};
  if (isObject(node.kwargs)) {
    for (const [key, value] of Object.entries(node.kwargs)) if (!containsKerasTensor(value)) kwargs[key] = value;
  }
  return tensors.map(([layer, nodeIndex, tensorIndex]) => [layer, nodeIndex, tensorIndex, kwargs]);
}

function normalizeValue(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) return value.map((item) => normalizeValue(item));
  if (!isObject(value)) return value;
  if (key === 'dtype') return dtypeName(value);
  const out: JsonObject = {};
  const serialised = typeof value.class_name === 'string';
  for (const [k, v] of Object.entries(value)) {
    if (serialised && KERAS3_ONLY_KEYS.includes(k)) continue;
    if (k === 'inbound_nodes' && Array.isArray(v)) out[k] = v.map(convertInboundNode);
    else if ((k === 'input_layers' || k === 'output_layers') && Array.isArray(v)) out[k] = nestTensorRefs(v);
    else out[k] = normalizeValue(v, k);
  }
  if (out.class_name === 'Functional') out.class_name = 'Model';
  if (out.class_name === 'InputLayer' && isObject(out.config)) {
    const config = out.config;
    if (config.batch_shape !== undefined && config.batch_input_shape === undefined) config.batch_input_shape = config.batch_shape;
    delete config.batch_shape;
    delete config.optional; // Keras 3.6+: optional inputs; tfjs has none.
  }
  return out;
}

function shiftRef(ref: unknown, nested: Set<string>): unknown {
  if (Array.isArray(ref) && typeof ref[0] === 'string' && typeof ref[1] === 'number' && nested.has(ref[0])) return [ref[0], ref[1] + 1, ...ref.slice(2)];
  return ref;
}

/**
 * Keras numbers a nested model's call nodes without the node its own construction created (it
 * skips that "first node" when loading); tfjs-layers counts it and fails with "Graph disconnected"
 * on a functional model that calls a nested model or Sequential. Shift references to nested
 * containers by one, at every depth. Apply once, to a Keras-written config only (tfjs's own
 * `model.toJSON()` already writes tfjs's numbering).
 */
export function shiftNestedNodeIndices(container: JsonObject): void {
  const layers = containerLayers(container.config);
  if (isObject(container.config) && !Array.isArray(container.config) && container.class_name !== 'Sequential') {
    const nested = new Set(layers.filter((l) => isContainerClass(l.class_name)).map(layerName));
    if (nested.size > 0) {
      for (const layer of layers) {
        if (Array.isArray(layer.inbound_nodes)) layer.inbound_nodes = layer.inbound_nodes.map((node) => (Array.isArray(node) ? node.map((ref) => shiftRef(ref, nested)) : node));
      }
      const config = container.config;
      if (Array.isArray(config.output_layers)) config.output_layers = config.output_layers.map((ref) => shiftRef(ref, nested));
    }
  }
  for (const layer of layers) if (isContainerClass(layer.class_name)) shiftNestedNodeIndices(layer);
}

/**
 * Normalise a Keras 2 or Keras 3 model config (`{class_name, config, …}`), as Keras wrote it, into
 * what tfjs-layers 4.22 builds. Apply once: node indices of nested models are shifted (see above).
 */
export function normalizeKerasConfig(raw: unknown, meta: { keras_version?: string; backend?: string } = {}): KerasTopology {
  if (!isObject(raw) || typeof raw.class_name !== 'string' || raw.config === undefined) {
    throw studioError('KERAS_UNSUPPORTED', { reason: 'the model config has no class_name/config (is it a Keras model?).' });
  }
  const normalized = normalizeValue(raw) as JsonObject;
  shiftNestedNodeIndices(normalized);
  const topology: KerasTopology = { class_name: normalized.class_name as string, config: normalized.config };
  const kerasVersion = meta.keras_version ?? (typeof raw.keras_version === 'string' ? raw.keras_version : undefined);
  const backend = meta.backend ?? (typeof raw.backend === 'string' ? raw.backend : undefined);
  if (kerasVersion) topology.keras_version = kerasVersion;
  if (backend) topology.backend = backend;
  return topology;
}

/** Keras 3 marks custom (user-registered) classes with a `Package>Name` registered_name. */
function isCustomRegistration(layer: JsonObject): boolean {
  return typeof layer.registered_name === 'string' && layer.registered_name.includes('>');
}

/**
 * Throw UNSUPPORTED_LAYER for the first layer — at any nesting depth, wrappers included — whose class
 * tfjs cannot build: Lambda (Python code), custom classes, and anything `isKnownClass` rejects.
 * Run on the raw config, before normalisation drops `registered_name`.
 */
export function assertSupportedLayers(raw: unknown, isKnownClass: (className: string) => boolean): void {
  const visit = (layer: JsonObject): void => {
    const className = typeof layer.class_name === 'string' ? layer.class_name : '(none)';
    const known = className !== 'Lambda' && !isCustomRegistration(layer) && (isContainerClass(className) || isKnownClass(className));
    if (!known) throw studioError('UNSUPPORTED_LAYER', { layer: layerName(layer), className });
    if (isContainerClass(className)) containerLayers(layer.config).forEach(visit);
    // Wrappers (Bidirectional, TimeDistributed) hold their inner layer under `layer`.
    else if (isObject(layer.config) && isObject(layer.config.layer)) visit(layer.config.layer);
  };
  if (!isObject(raw)) throw studioError('KERAS_UNSUPPORTED', { reason: 'the model config is not a JSON object.' });
  visit(raw);
}

/**
 * Keras 3 stores weights by object path, not by layer name: each container's `layers` list is saved
 * under `layers/<snake_case(ClassName)>` with `_1`, `_2`… for later layers of the same class, nested
 * containers under their own `…/layers/…`. Returns layer-name path (`base/conv1`, from the outer
 * model, outer name excluded) → object path (`layers/functional/layers/conv2d`), for every layer.
 * Run on the raw Keras 3 config (class names as Keras wrote them).
 */
export function keras3ObjectPaths(raw: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (config: unknown, namePrefix: string, objectPrefix: string): void => {
    const used = new Map<string, number>();
    for (const layer of containerLayers(config)) {
      // Keras 3 ops (TrueDivide…) sit in the config's layer list but are not tracked layers.
      if (typeof layer.module === 'string' && layer.module.startsWith('keras.src.ops')) continue;
      const className = typeof layer.class_name === 'string' ? layer.class_name : '';
      const base = kerasSnakeCase(className === 'Model' ? 'Functional' : className);
      const seen = used.get(base);
      used.set(base, seen === undefined ? 0 : seen + 1);
      const objectPath = `${objectPrefix}layers/${seen === undefined ? base : `${base}_${seen + 1}`}`;
      const key = `${namePrefix}${layerName(layer)}`;
      out.set(key, objectPath);
      if (isContainerClass(className)) walk(layer.config, `${key}/`, `${objectPath}/`);
    }
  };
  if (isObject(raw)) walk(raw.config, '', '');
  return out;
}
