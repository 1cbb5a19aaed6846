/**
 * Map weights read from a Keras file onto the variables of the tfjs model built from its config.
 * The model is built first, so every stored weight is checked against the shape the layer
 * expects, and the artifacts name each weight exactly as tfjs-layers' `loadWeights` looks it up
 * (`LayerVariable.originalName`, i.e. `<leaf layer>/<variable>` as the TF.js converter writes).
 */
import type * as tf from '@tensorflow/tfjs';
import { studioError } from '../../../shared/errors';

/** A weight in a file: its shape is known without reading it; `read` decodes the numbers. */
export interface StoredWeight {
  shape: number[];
  read(): Float32Array;
}

/** One variable of the built model, with where it lives. */
export interface ExpectedWeight {
  /** tfjs `originalName`, e.g. `conv1/kernel`: the name loadWeights matches. */
  name: string;
  shape: number[];
  /** The top-level layer of the model that owns it (the HDF5 group name in Keras 2 files). */
  topLayer: string;
  /** The leaf layer that created it, and its name path from the model (`sequential_1/model1/conv1`). */
  layerName: string;
  layerPath: string;
  /** `kernel`, `bias`, `moving_mean`… */
  variable: string;
  /** Position among the leaf layer's weights (trainable first, then non-trainable, as Keras 3 saves them). */
  index: number;
}

export interface MappedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

function isContainer(layer: tf.layers.Layer): layer is tf.LayersModel {
  return Array.isArray((layer as Partial<tf.LayersModel>).layers);
}

/** Every variable of `model`, leaf by leaf, depth-first through nested models. */
export function expectedWeights(model: tf.LayersModel): ExpectedWeight[] {
  const out: ExpectedWeight[] = [];
  const seen = new Set<string>();
  const walk = (layers: tf.layers.Layer[], prefix: string, topLayer: string | null): void => {
    for (const layer of layers) {
      const path = `${prefix}${layer.name}`;
      const top = topLayer ?? layer.name;
      if (isContainer(layer)) {
        walk(layer.layers, `${path}/`, top);
        continue;
      }
      layer.weights.forEach((weight, index) => {
        // A layer shared between nested models is visited once per container: count it once.
        if (seen.has(weight.originalName)) return;
        seen.add(weight.originalName);
        const tokens = weight.originalName.split('/');
        out.push({ name: weight.originalName, shape: [...weight.shape] as number[], topLayer: top, layerName: layer.name, layerPath: path, variable: tokens[tokens.length - 1], index });
      });
    }
  };
  walk(model.layers, '', null);
  return out;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function readChecked(label: string, expected: ExpectedWeight, stored: StoredWeight): MappedWeight {
  if (!sameShape(expected.shape, stored.shape)) {
    throw studioError('WEIGHT_SHAPE_MISMATCH', { weight: label, expected: expected.shape.join(', '), actual: stored.shape.join(', ') });
  }
  const data = stored.read();
  const size = expected.shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) {
    throw studioError('KERAS_UNSUPPORTED', { reason: `weight ${label} holds ${data.length} values, expected ${size}.` });
  }
  return { name: expected.name, shape: expected.shape, data };
}

/** The weights of one top-level layer in a Keras 2 file, as `weight_names` lists them. */
export interface Keras2WeightGroup {
  layer: string;
  weights: { name: string; weight: StoredWeight }[];
}

const NUMBERED_OWNER = (owner: string, layer: string): boolean => owner.startsWith(`${layer}_`) && /^\d+$/.test(owner.slice(layer.length + 1));

/**
 * Keras 2 HDF5: each top-level layer's group lists its weights as `conv1/kernel:0`, or for nested
 * models `model1/conv1/kernel:0` or `conv1/kernel:0`, in Keras's order (which puts all of a frozen
 * or nested model's non-trainable weights last, unlike tfjs). Match each by variable name, then by
 * owning layer name (Keras 2.0 may write `conv2d_1_1/…` for layer `conv2d_1`), never by position alone.
 */
export function mapKeras2Weights(model: tf.LayersModel, groups: Keras2WeightGroup[]): MappedWeight[] {
  const expected = expectedWeights(model);
  const byGroup = new Map(groups.map((g) => [g.layer, g]));
  const mapped = new Map<string, MappedWeight>();
  const tops = [...new Set(expected.map((e) => e.topLayer))];
  for (const top of tops) {
    const group = byGroup.get(top);
    const candidates = expected.filter((e) => e.topLayer === top);
    if (!group || group.weights.length === 0) {
      throw studioError('KERAS_UNSUPPORTED', { reason: `the file holds no weights for layer "${top}", which needs ${candidates.length} (first: ${candidates[0].name}).` });
    }
    const unused = new Set(candidates);
    for (const { name, weight } of group.weights) {
      const tokens = name.replace(/:\d+$/, '').split('/');
      const variable = tokens[tokens.length - 1];
      const owner = tokens.length > 1 ? tokens[tokens.length - 2] : top;
      const pool = candidates.filter((c) => unused.has(c) && c.variable === variable);
      const pick =
        pool.find((c) => c.layerName === owner) ??
        pool.find((c) => NUMBERED_OWNER(owner, c.layerName)) ??
        (pool.length === 1 ? pool[0] : undefined) ??
        pool.find((c) => sameShape(c.shape, weight.shape));
      if (!pick) {
        throw studioError('KERAS_UNSUPPORTED', { reason: `weight "${name}" of layer "${top}" matches no variable of the model built from its config.` });
      }
      unused.delete(pick);
      mapped.set(pick.name, readChecked(`${top}/${name}`, pick, weight));
    }
    if (unused.size > 0) {
      const missing = [...unused].map((c) => c.name);
      throw studioError('KERAS_UNSUPPORTED', { reason: `the file has no value for ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''} (layer "${top}").` });
    }
  }
  for (const group of groups) {
    if (group.weights.length > 0 && !tops.includes(group.layer)) {
      throw studioError('KERAS_UNSUPPORTED', { reason: `the file has weights for layer "${group.layer}", which the model config does not define with weights.` });
    }
  }
  return expected.map((e) => mapped.get(e.name) as MappedWeight);
}

/**
 * Keras 3 `.weights.h5`: `{objectPath}/vars/{i}` for the i-th variable of the layer whose object
 * path `objectPaths` gives (see `keras3ObjectPaths`). Paths outside layers (optimizer, seed
 * generators) are ignored. Every shape is checked.
 */
export function mapKeras3Weights(model: tf.LayersModel, objectPaths: Map<string, string>, store: Map<string, StoredWeight>): MappedWeight[] {
  return expectedWeights(model).map((e) => {
    const objectPath = objectPaths.get(e.layerPath);
    if (objectPath === undefined) {
      throw studioError('KERAS_UNSUPPORTED', { reason: `layer "${e.layerPath}" of the built model is not in the saved config.` });
    }
    const path = `${objectPath}/vars/${e.index}`;
    const stored = store.get(path);
    if (!stored) {
      throw studioError('KERAS_UNSUPPORTED', { reason: `model.weights.h5 has no "${path}" for weight ${e.name} of layer "${e.layerPath}".` });
    }
    return readChecked(`${e.name} (${path})`, e, stored);
  });
}

/** Pack mapped weights as tfjs ModelArtifacts (float32, one buffer, in the given order). */
export function toArtifacts(modelTopology: object, weights: MappedWeight[]): tf.io.ModelArtifacts {
  const total = weights.reduce((sum, w) => sum + w.data.length, 0);
  const buffer = new Float32Array(total);
  let offset = 0;
  for (const w of weights) {
    buffer.set(w.data, offset);
    offset += w.data.length;
  }
  return {
    modelTopology,
    format: 'layers-model',
    weightSpecs: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' as const })),
    weightData: buffer.buffer,
  };
}
