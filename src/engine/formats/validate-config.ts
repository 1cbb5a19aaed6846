/**
 * Checks a model must pass before tfjs builds or runs it. tfjs-layers builds whatever a config says:
 * zero strides give NaN shapes, a 1×1 input through a MobileNet gives zero-sized tensors, and running
 * those on the WASM backend corrupts its memory ("memory access out of bounds", or a worker spinning
 * in dispose_data) so that every later model fails too. Each problem gets a coded error naming the
 * layer and the value, before tfjs sees it.
 *  - validateModelConfig: on the JSON config, before building (names, input size, strides, kernel
 *    sizes, filters, units, padding);
 *  - validateBuiltShapes: on the built model, before its first forward pass (every layer's output
 *    shape positive; the activations of one image — all of which the engine keeps — within bounds).
 */
import type * as tf from '@tensorflow/tfjs';
import { studioError } from '../../shared/errors';
import { formatBytes } from '../../shared/format';
import { walkLayerConfigs } from './layer-configs';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An image input needs at least this many pixels a side (Grad-CAM needs a spatial map). */
export const MIN_INPUT_SIDE = 2;
/** One input image as float32 may take at most this much (≈ 4,600 × 4,600 × 3). */
export const MAX_INPUT_BYTES = 256 * 1024 * 1024;
/** The activations of one image, every one of which the engine keeps: beyond this no browser tab copes. */
export const MAX_ACTIVATION_BYTES = 2 * 1024 * 1024 * 1024;
/** Filters / units beyond this are a corrupted file, not a model (the largest real heads have ~10⁵). */
const MAX_CHANNELS = 1 << 20;

/** Fields that must be positive whole numbers (a number or a list of them), per Keras' config names. */
const POSITIVE_FIELDS: Record<string, string> = {
  strides: 'strides must be positive whole numbers',
  kernel_size: 'a kernel must be at least 1 wide',
  pool_size: 'a pooling window must be at least 1 wide',
  dilation_rate: 'a dilation rate must be a positive whole number',
  size: 'an upsampling factor must be a positive whole number',
  depth_multiplier: 'a depth multiplier must be a positive whole number',
  filters: 'a convolution needs at least one filter',
  units: 'a dense layer needs at least one unit',
};
/** Fields that must be whole numbers ≥ 0 (pairs or pairs of pairs allowed). */
const NON_NEGATIVE_FIELDS: Record<string, string> = {
  padding: 'padding cannot be negative',
  cropping: 'cropping cannot be negative',
};
const SHAPE_FIELDS = ['batch_input_shape', 'batch_shape', 'input_shape'];

function flatNumbers(value: unknown): unknown[] {
  return Array.isArray(value) ? value.flatMap(flatNumbers) : [value];
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}


/** Names tfjs-layers uses as keys of plain objects: `toString` or `__proto__` there breaks its graph code. */
function reservedName(name: string): boolean {
  return name in Object.prototype || name === '__proto__';
}

function checkShape(layer: string, field: string, shape: unknown, isFirst: boolean): void {
  if (!Array.isArray(shape)) return;
  const dims = field === 'input_shape' ? shape : shape.slice(1); // input_shape has no batch dimension
  for (const d of dims) {
    if (d === null) continue;
    if (typeof d !== 'number' || !Number.isInteger(d) || d <= 0) {
      throw studioError('INPUT_SIZE_INVALID', { shape: show(shape), reason: `layer "${layer}" has a dimension of ${show(d)}; sizes must be positive whole numbers` });
    }
  }
  if (!isFirst || dims.length !== 3) return;
  const [h, w, c] = dims as (number | null)[];
  if ((h !== null && h < MIN_INPUT_SIDE) || (w !== null && w < MIN_INPUT_SIDE)) {
    throw studioError('INPUT_SIZE_INVALID', { shape: show(shape), reason: `an image input needs at least ${MIN_INPUT_SIDE}×${MIN_INPUT_SIDE} pixels, this one is ${h ?? '?'}×${w ?? '?'}` });
  }
  if (h !== null && w !== null && c !== null) {
    const bytes = h * w * c * 4;
    if (bytes > MAX_INPUT_BYTES) {
      throw studioError('INPUT_SIZE_INVALID', {
        shape: show(shape),
        reason: `one ${h}×${w}×${c} image alone needs ${formatBytes(bytes)} as floats (at most ${formatBytes(MAX_INPUT_BYTES)})`,
      });
    }
  }
}

function checkFields(layer: string, config: Json): void {
  for (const [field, reason] of Object.entries(POSITIVE_FIELDS)) {
    if (!(field in config) || config[field] === null || config[field] === undefined) continue;
    const values = flatNumbers(config[field]);
    const bad = values.some((v) => typeof v !== 'number' || !Number.isInteger(v) || v < 1 || ((field === 'filters' || field === 'units') && v > MAX_CHANNELS));
    if (bad) throw studioError('MODEL_CONFIG_INVALID', { layer, field, value: show(config[field]), reason });
  }
  for (const [field, reason] of Object.entries(NON_NEGATIVE_FIELDS)) {
    const value = config[field];
    if (typeof value === 'string' || value === null || value === undefined) continue; // 'same' / 'valid'
    const values = flatNumbers(value);
    if (values.some((v) => typeof v !== 'number' || !Number.isInteger(v) || v < 0)) {
      throw studioError('MODEL_CONFIG_INVALID', { layer, field, value: show(value), reason });
    }
  }
}

/**
 * The config problems that would make tfjs build a broken model or break the backend, as coded
 * errors: reserved layer names, input sizes (≥ 2×2, positive, bounded), and non-positive strides,
 * kernel sizes, pool sizes, dilations, filters and units. Accepts the topology with or without the
 * `model_config` wrapper, any nesting depth.
 */
export function validateModelConfig(modelTopology: unknown): void {
  let first = true;
  walkLayerConfigs(modelTopology, ({ name, config, container }) => {
    if (reservedName(name)) {
      throw studioError('MODEL_CONFIG_INVALID', {
        layer: name,
        field: 'name',
        value: show(name),
        reason: 'this name is reserved in JavaScript, where tfjs keeps layers by name; rename the layer and save the model again',
      });
    }
    if (container) return;
    if (!isRecord(config)) return false;
    for (const field of SHAPE_FIELDS) {
      if (field in config) checkShape(name, field, config[field], first);
    }
    first = false;
    checkFields(name, config);
  });
}

interface LayerLike {
  name: string;
  inboundNodes?: { outputShapes?: unknown }[];
  layers?: LayerLike[];
}

function shapesOf(outputShapes: unknown): (number | null)[][] {
  if (!Array.isArray(outputShapes)) return [];
  if (outputShapes.length > 0 && Array.isArray(outputShapes[0])) return outputShapes as (number | null)[][];
  return [outputShapes as (number | null)[]];
}

/**
 * After building, before running: every layer's output (at any depth) has positive sizes, and the
 * activations of one image fit. Throws LAYER_OUTPUT_EMPTY or ACTIVATIONS_TOO_LARGE.
 */
export function validateBuiltShapes(model: tf.LayersModel): void {
  const input = model.inputs[0]?.shape ?? [];
  const inputText = input.slice(1, 3).map((d) => d ?? '?').join('×');
  let bytes = 0;
  const visit = (layer: LayerLike, path: string): void => {
    // Inside a nested model first, so that the error names the first leaf layer that comes out empty.
    for (const child of layer.layers ?? []) visit(child, `${path}/${child.name}`);
    for (const node of layer.inboundNodes ?? []) {
      for (const shape of shapesOf(node.outputShapes)) {
        const dims = shape.slice(1);
        if (dims.some((d) => d !== null && (typeof d !== 'number' || !(d > 0)))) {
          throw studioError('LAYER_OUTPUT_EMPTY', { layer: path, shape: shape.map((d) => d ?? 'null').join(', '), input: inputText });
        }
        if (!layer.layers) bytes += dims.reduce<number>((n, d) => n * (d ?? 1), 1) * 4;
      }
    }
  };
  for (const layer of (model as unknown as LayerLike).layers ?? []) visit(layer, `${model.name}/${layer.name}`);
  if (bytes > MAX_ACTIVATION_BYTES) {
    throw studioError('ACTIVATIONS_TOO_LARGE', { size: formatBytes(bytes), limit: formatBytes(MAX_ACTIVATION_BYTES), input: inputText });
  }
}
