/**
 * Reader for TF.js layers models: `model.json` + weight shards, in every layout seen in the wild
 * (converter output, tfjs-layers `save` / Teachable Machine, legacy 0.x one-group-per-layer, quantized).
 * We read the manifest ourselves instead of tf.io.browserFiles, which fails on any extra file.
 */
import * as tf from '@tensorflow/tfjs';
import type { InputFile } from '../files';
import { baseName, dirName, extension, readText } from '../files';
import type { LoadProgress } from '../../shared/types';
import { notice, studioError, type StudioNotice } from '../../shared/errors';
import type { ModelReader, OpenedModel } from './reader';
import { readSidecars } from './labels';
import { shiftNestedNodeIndices } from './keras/config';
import { CONTAINER_CLASSES, walkLayerConfigs } from './layer-configs';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorReason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Every layer, at any nesting depth, whose class tfjs-layers cannot deserialize
 * (Lambda, custom classes). Accepts the topology with or without the `model_config` wrapper.
 */
export function findUnsupportedLayers(modelTopology: unknown): { layer: string; className: string }[] {
  const known = tf.serialization.SerializationMap.getMap().classNameMap;
  const found: { layer: string; className: string }[] = [];
  walkLayerConfigs(modelTopology, ({ className, name, container }) => {
    if (className === undefined) return false;
    if (container || className in known) return; // entered: a container's layers, a wrapper's inner layer
    found.push({ layer: name, className });
    return false;
  });
  return found;
}

/** Layers that own a node as soon as they exist (inputs, and models, whose node 0 is their own). */
function nodesAtCreation(entry: Json): number {
  const className = entry.class_name;
  return className === 'InputLayer' || (typeof className === 'string' && CONTAINER_CLASSES.has(className)) ? 1 : 0;
}

/**
 * tfjs-layers connects a functional config by retrying unconnected nodes until none is left: a node
 * that can never connect (unknown inbound layer, node index never produced, a cycle, duplicate names)
 * makes it loop forever, synchronously. Replay that fixed point on the JSON first and name the problem.
 */
function functionalProblem(config: Json, modelName: string): string | null {
  const layers = config.layers;
  if (!Array.isArray(layers)) return `model "${modelName}" has no list of layers`;
  const entries: { name: string; entry: Json; pending: unknown[][] }[] = [];
  const seen = new Set<string>();
  const seenConfigNames = new Set<string>();
  for (const [i, entry] of layers.entries()) {
    if (!isRecord(entry) || typeof entry.name !== 'string') return `layer ${i} of "${modelName}" has no name`;
    if (seen.has(entry.name)) return `two layers of "${modelName}" are named "${entry.name}"`;
    seen.add(entry.name);
    const configName = isRecord(entry.config) ? entry.config.name : undefined;
    if (typeof configName === 'string') {
      if (seenConfigNames.has(configName)) return `two layers of "${modelName}" are named "${configName}"`;
      seenConfigNames.add(configName);
    }
    const nodes = entry.inbound_nodes ?? entry.inboundNodes;
    if (!Array.isArray(nodes) || nodes.some((node) => !Array.isArray(node))) return `layer "${entry.name}" has no valid inbound_nodes`;
    entries.push({ name: entry.name, entry, pending: nodes as unknown[][] });
  }
  for (const { name, pending } of entries) {
    for (const node of pending) {
      for (const input of node) {
        if (!Array.isArray(input) || typeof input[0] !== 'string' || !Number.isInteger(input[1]) || (input[1] as number) < 0) {
          return `layer "${name}" has a malformed inbound node ${JSON.stringify(input)?.slice(0, 80)}`;
        }
        if (!seen.has(input[0])) return `layer "${name}" takes input from "${input[0]}", which is not in "${modelName}"`;
      }
    }
  }
  const nodeCount = new Map(entries.map(({ name, entry }) => [name, nodesAtCreation(entry)]));
  const ready = (node: unknown[]) => node.every((input) => (input as [string, number])[1] < (nodeCount.get((input as [string])[0]) ?? 0));
  let progress = true;
  while (progress) {
    progress = false;
    for (const item of entries) {
      const waiting: unknown[][] = [];
      for (const node of item.pending) {
        if (!ready(node)) {
          waiting.push(node);
          continue;
        }
        // An empty node connects nothing and so creates no node (as in tfjs).
        if (node.length > 0) nodeCount.set(item.name, (nodeCount.get(item.name) ?? 0) + 1);
        progress = true;
      }
      item.pending = waiting;
    }
  }
  const stuck = entries.find((item) => item.pending.length > 0);
  if (stuck) {
    const [from, index] = stuck.pending[0].find((input) => !ready([input])) as [string, number];
    return `layer "${stuck.name}" waits for node ${index} of "${from}", which is never produced`;
  }
  return null;
}

/** The first structural problem in a (possibly nested) Keras model config that would hang or break the build. */
function topologyName(topology: unknown): string | undefined {
  const root = isRecord(topology) && isRecord(topology.model_config) ? topology.model_config : topology;
  const name = isRecord(root) && isRecord(root.config) ? root.config.name : undefined;
  return typeof name === 'string' && name.length > 0 ? name : undefined;
}

/** Made by the TF.js converter from a Keras model (not by tfjs-layers' own `save`). */
function isKerasNumbered(json: Record<string, unknown>): boolean {
  const convertedBy = typeof json.convertedBy === 'string' ? json.convertedBy : '';
  const generatedBy = typeof json.generatedBy === 'string' ? json.generatedBy : '';
  return /converter/i.test(convertedBy) || /^keras/i.test(generatedBy);
}

export function findTopologyProblem(modelTopology: unknown): string | null {
  const visit = (node: unknown, fallbackName: string): string | null => {
    if (!isRecord(node) || typeof node.class_name !== 'string' || !CONTAINER_CLASSES.has(node.class_name)) return null;
    const config = node.config;
    const name = isRecord(config) && typeof config.name === 'string' ? config.name : fallbackName;
    const layers = Array.isArray(config) ? config : isRecord(config) ? config.layers : undefined;
    if (node.class_name !== 'Sequential' && isRecord(config)) {
      const problem = functionalProblem(config, name);
      if (problem) return problem;
    }
    if (!Array.isArray(layers)) return node.class_name === 'Sequential' ? null : `model "${name}" has no list of layers`;
    for (const [i, layer] of layers.entries()) {
      const problem = visit(layer, `${name}/layer ${i}`);
      if (problem) return problem;
    }
    return null;
  };
  const root = isRecord(modelTopology) && isRecord(modelTopology.model_config) ? modelTopology.model_config : modelTopology;
  return visit(root, 'model');
}

/** Bytes per stored value, for the dtypes a layers model manifest may hold. */
const STORED_DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };
const QUANTIZED_DTYPE_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

interface ManifestGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
  /** Bytes the weight specs need, from shape × (quantized) dtype size. */
  expectedBytes: number;
}

function weightByteSize(spec: tf.io.WeightsManifestEntry): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const perValue = spec.quantization ? QUANTIZED_DTYPE_BYTES[spec.quantization.dtype] : STORED_DTYPE_BYTES[spec.dtype];
  return count * perValue;
}

/** Validate `weightsManifest` strictly so that tfjs never sees a malformed one. */
function parseManifest(manifest: unknown, file: string): ManifestGroup[] {
  const invalid = (reason: string) => studioError('WEIGHTS_MANIFEST_INVALID', { file, reason });
  if (manifest === undefined) throw invalid('no weightsManifest');
  if (!Array.isArray(manifest)) throw invalid('weightsManifest is not a list');
  return manifest.map((group, g) => {
    if (!isRecord(group)) throw invalid(`group ${g} is not an object`);
    const { paths, weights } = group;
    if (!Array.isArray(paths) || paths.some((p) => typeof p !== 'string' || p === '')) throw invalid(`group ${g} has no list of shard paths`);
    if (!Array.isArray(weights)) throw invalid(`group ${g} has no list of weights`);
    const specs = weights.map((w, i): tf.io.WeightsManifestEntry => {
      if (!isRecord(w) || typeof w.name !== 'string') throw invalid(`weight ${i} of group ${g} has no name`);
      const label = `weight "${w.name}"`;
      if (!Array.isArray(w.shape) || w.shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
        throw invalid(`${label} has an invalid shape ${JSON.stringify(w.shape)}`);
      }
      if (typeof w.dtype !== 'string' || !(w.dtype in STORED_DTYPE_BYTES)) throw invalid(`${label} has unsupported dtype ${JSON.stringify(w.dtype)}`);
      const spec: tf.io.WeightsManifestEntry = { name: w.name, shape: w.shape as number[], dtype: w.dtype as 'float32' | 'int32' | 'bool' };
      if (w.quantization !== undefined) {
        const q = w.quantization;
        if (!isRecord(q) || typeof q.dtype !== 'string' || !(q.dtype in QUANTIZED_DTYPE_BYTES)) {
          throw invalid(`${label} has unsupported quantization ${JSON.stringify(q)}`);
        }
        if (q.dtype !== 'float16' && !(typeof q.scale === 'number' && typeof q.min === 'number')) {
          throw invalid(`${label} is ${q.dtype}-quantized without scale and min`);
        }
        if (q.dtype === 'float16' && w.dtype !== 'float32') throw invalid(`${label} is float16-quantized but has dtype ${w.dtype}`);
        spec.quantization = { ...(q as Json), dtype: q.dtype as 'uint8' | 'uint16' | 'float16' };
      }
      return spec;
    });
    const expectedBytes = specs.reduce((sum, spec) => sum + weightByteSize(spec), 0);
    return { paths: paths as string[], weights: specs, expectedBytes };
  });
}

/** The shard for a manifest path: match by base name, with or without `.bin`; prefer the model's folder. */
function findShard(files: InputFile[], manifestPath: string, modelDir: string): InputFile | undefined {
  const wanted = baseName(manifestPath);
  const stem = wanted.replace(/\.bin$/i, '');
  const candidates = files.filter((f) => f.name === wanted || f.name === stem || f.name === `${stem}.bin`);
  if (candidates.length <= 1) return candidates[0];
  const resolved = [modelDir, manifestPath].filter(Boolean).join('/');
  return (
    candidates.find((f) => f.path === resolved) ??
    candidates.find((f) => dirName(f.path) === modelDir && f.name === wanted) ??
    candidates.find((f) => dirName(f.path) === modelDir) ??
    candidates.find((f) => f.name === wanted) ??
    candidates[0]
  );
}

function isFloat16NonFinite(bits: number): boolean {
  return (bits & 0x7c00) === 0x7c00;
}

/** Names of weights holding NaN/Infinity, read straight from the bytes (no tensors allocated). */
export function findNonFiniteWeights(buffer: ArrayBuffer, specs: tf.io.WeightsManifestEntry[]): string[] {
  const bad: string[] = [];
  let offset = 0;
  for (const spec of specs) {
    const size = weightByteSize(spec);
    const count = size === 0 ? 0 : spec.shape.reduce((a, b) => a * b, 1);
    const q = spec.quantization;
    if (q?.dtype === 'uint8' || q?.dtype === 'uint16') {
      if (!Number.isFinite(q.scale) || !Number.isFinite(q.min)) bad.push(spec.name);
    } else if (q?.dtype === 'float16') {
      const values = offset % 2 === 0 ? new Uint16Array(buffer, offset, count) : new Uint16Array(buffer.slice(offset, offset + size));
      for (let i = 0; i < values.length; i++) {
        if (isFloat16NonFinite(values[i])) {
          bad.push(spec.name);
          break;
        }
      }
    } else if (spec.dtype === 'float32') {
      const values = offset % 4 === 0 ? new Float32Array(buffer, offset, count) : new Float32Array(buffer.slice(offset, offset + size));
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i])) {
          bad.push(spec.name);
          break;
        }
      }
    }
    offset += size;
  }
  return bad;
}

/** JSON files that may be the model (sidecars excluded), `model.json` first. */
export function modelJsonCandidates(files: InputFile[]): InputFile[] {
  const jsons = files.filter((f) => extension(f.name) === 'json' && f.name.toLowerCase() !== 'metadata.json');
  return [...jsons.filter((f) => f.name === 'model.json'), ...jsons.filter((f) => f.name !== 'model.json')];
}

async function parseJsonFile(file: InputFile): Promise<unknown> {
  const text = await readText(file);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw studioError('MODEL_JSON_INVALID', { file: file.path, reason: errorReason(e) });
  }
}

export function isGraphModel(json: Json): boolean {
  if (json.format === 'graph-model') return true;
  return isRecord(json.modelTopology) && Array.isArray(json.modelTopology.node);
}

function hasKerasModelConfig(json: Json): boolean {
  const topology = json.modelTopology;
  if (!isRecord(topology)) return false;
  const config = isRecord(topology.model_config) ? topology.model_config : topology;
  return typeof config.class_name === 'string' && (isRecord(config.config) || Array.isArray(config.config));
}

/** Parse candidates in order; the first model of `kind` wins, otherwise the first candidate's error. */
export async function pickModelJson(files: InputFile[], kind: 'layers' | 'graph' = 'layers'): Promise<{ file: InputFile; json: Json }> {
  const candidates = modelJsonCandidates(files);
  if (candidates.length === 0) throw studioError('NO_MODEL_FILE');
  let firstError: unknown;
  for (const file of candidates) {
    try {
      const json = await parseJsonFile(file);
      if (!isRecord(json)) throw studioError('NOT_A_TFJS_MODEL', { file: file.path });
      if (kind === 'graph') {
        if (!isGraphModel(json)) throw studioError('NOT_A_TFJS_MODEL', { file: file.path });
        return { file, json };
      }
      if (isGraphModel(json)) throw studioError('GRAPH_MODEL_UNSUPPORTED', { file: file.path });
      if (!hasKerasModelConfig(json)) throw studioError('NOT_A_TFJS_MODEL', { file: file.path });
      return { file, json };
    } catch (e) {
      firstError ??= e;
    }
  }
  throw firstError;
}

function describeNames(names: string[]): string {
  const shown = names.slice(0, 3).join(', ');
  return names.length > 3 ? `${shown} and ${names.length - 3} more` : shown;
}

/**
 * The weights a TF.js model.json (layers or graph) lists: every shard found by name beside the JSON,
 * sizes checked against the manifest before any byte is read, concatenated in manifest order, and
 * checked for NaN/Infinity (a warning).
 */
export async function readWeightShards(
  files: InputFile[],
  json: Json,
  modelFile: InputFile,
  onProgress?: (p: LoadProgress) => void,
): Promise<{ weightSpecs: tf.io.WeightsManifestEntry[]; weightData: ArrayBuffer; shards: InputFile[]; warnings: StudioNotice[] }> {
  const modelDir = dirName(modelFile.path);
  const groups = parseManifest(json.weightsManifest, modelFile.path);
  const shardsByGroup = groups.map((group) =>
    group.paths.map((path) => {
      const shard = findShard(files, path, modelDir);
      if (!shard) throw studioError('MISSING_SHARD', { name: path });
      return shard;
    }),
  );
  // Sizes come from the file listing: a wrong shard fails before any byte is read.
  groups.forEach((group, g) => {
    const actual = shardsByGroup[g].reduce((sum, shard) => sum + shard.size, 0);
    if (actual !== group.expectedBytes) {
      throw studioError('SHARD_SIZE_MISMATCH', { name: group.paths.join(' + '), expected: group.expectedBytes, actual });
    }
  });

  const shards = shardsByGroup.flat();
  const bytesTotal = shards.reduce((sum, shard) => sum + shard.size, 0);
  const weightData = new Uint8Array(bytesTotal);
  let bytesRead = 0;
  onProgress?.({ phase: 'reading', bytesRead, bytesTotal, message: `Reading ${shards.length} weight file(s)` });
  for (const shard of shards) {
    const bytes = await shard.bytes();
    // A file that changed size since it was listed must not shift every later weight.
    if (bytes.byteLength !== shard.size) {
      throw studioError('SHARD_SIZE_MISMATCH', { name: shard.name, expected: shard.size, actual: bytes.byteLength });
    }
    weightData.set(bytes, bytesRead);
    bytesRead += bytes.byteLength;
    onProgress?.({ phase: 'reading', bytesRead, bytesTotal, message: `Read ${shard.name}` });
  }

  const weightSpecs = groups.flatMap((group) => group.weights);
  onProgress?.({ phase: 'weights', bytesRead, bytesTotal, message: `Checking ${weightSpecs.length} weights` });
  const warnings: StudioNotice[] = [];
  const nonFinite = findNonFiniteWeights(weightData.buffer, weightSpecs);
  if (nonFinite.length > 0) warnings.push(notice('WEIGHTS_NONFINITE', { names: describeNames(nonFinite) }));

  return { weightSpecs, weightData: weightData.buffer, shards, warnings };
}

export const tfjsLayersReader: ModelReader = {
  name: 'tfjs-layers',

  /** Cheap: a `model.json`, or another JSON that mentions a modelTopology. */
  async match(files: InputFile[]): Promise<boolean> {
    for (const file of modelJsonCandidates(files)) {
      if (file.name === 'model.json') return true;
      if (file.size < 64 * 1024 * 1024 && (await readText(file)).includes('"modelTopology"')) return true;
    }
    return false;
  },

  async open(files: InputFile[], onProgress?: (p: LoadProgress) => void): Promise<OpenedModel> {
    const { file: modelFile, json } = await pickModelJson(files);
    const modelDir = dirName(modelFile.path);
    const topology = json.modelTopology as Json;

    // Files from the Python converter keep Keras's node numbering for nested models, which
    // tfjs-layers 4.22 reads one node off ("Graph disconnected"); files tfjs saved itself do not.
    if (isKerasNumbered(json)) {
      const root = isRecord(topology) && isRecord(topology.model_config) ? topology.model_config : topology;
      if (isRecord(root)) shiftNestedNodeIndices(root as Parameters<typeof shiftNestedNodeIndices>[0]);
    }
    const unsupported = findUnsupportedLayers(topology);
    if (unsupported.length > 0) throw studioError('UNSUPPORTED_LAYER', unsupported[0]);
    const problem = findTopologyProblem(topology);
    if (problem) throw studioError('MODEL_BUILD_FAILED', { reason: problem });

    const { weightSpecs, weightData, shards, warnings } = await readWeightShards(files, json, modelFile, onProgress);

    const sidecars = await readSidecars(files, modelFile.path);
    warnings.push(...sidecars.warnings);

    const legacy = json.format === undefined && shards.some((shard) => !shard.name.toLowerCase().endsWith('.bin'));
    // trainingConfig is left out on purpose: we only run inference, and an unknown loss would fail the build.
    const artifacts: tf.io.ModelArtifacts = {
      modelTopology: topology,
      weightSpecs,
      weightData,
      format: typeof json.format === 'string' ? json.format : undefined,
      generatedBy: typeof json.generatedBy === 'string' ? json.generatedBy : undefined,
      convertedBy: typeof json.convertedBy === 'string' ? json.convertedBy : json.convertedBy === null ? null : undefined,
      userDefinedMetadata: isRecord(json.userDefinedMetadata) ? (json.userDefinedMetadata as Record<string, unknown> as Record<string, never>) : undefined,
    };
    return {
      // The folder names a model best; loose files fall back to the model's own name, not "model.json".
      name: modelDir ? baseName(modelDir) : topologyName(topology) ?? modelFile.name,
      format: legacy ? 'tfjs-layers (legacy)' : 'tfjs-layers',
      artifacts,
      labels: sidecars.labels,
      preprocess: sidecars.preprocess,
      warnings,
    };
  },
};
