/**
 * The model-randomisation sanity check (Adebayo et al. 2018): re-explain the image with the learned
 * weights replaced by random ones, layer by layer from the head down (cascading: each step adds the
 * next layer; independent: one layer at a time), and compare each map with the original. A map
 * that stays the same does not depend on what the model learned.
 *
 * The user's model is never changed: the model is serialised once, and each step builds a copy from
 * those bytes with some weights overwritten (through the normal loader, so nested models build as
 * they do when opened), explains with it and frees it before the next step.
 * Randomised: the layers with a kernel (convolutions, dense layers), kernel and bias, drawn from a
 * normal distribution with mean 0 and the learned tensor's standard deviation (the scale is kept, so
 * activations neither vanish nor explode; what was learned is gone). Normalisation layers keep theirs.
 */
import * as tf from '@tensorflow/tfjs';
import { studioError } from '../../shared/errors';
import { type SanityMethodResult, type SanityMode, type SanityResult, type SanityStep } from '../../shared/metrics';
import type { MethodId } from '../../shared/methods';
import type { ExplainOptions, ExplainResult } from '../../shared/types';
import type { RawImage } from '../files';
import { loadedModelFromOpened, type LoadedModel } from '../model';
import { yieldToEvents } from '../methods/context';
import { Rng } from './random';
import { spearman, ssim } from './similarity';
import { layerShortName, sanityRule, sanityVerdict } from '../../shared/sanity-verdict';

/** At most this many randomisation steps: deeper models randomise their layers in groups. */
export const MAX_SANITY_STEPS = 16;

const KERNEL_NAMES = /(^|\/)(kernel|depthwise_kernel|pointwise_kernel)$/;

interface WeightSlice {
  name: string;
  offset: number;
  length: number;
}

/** One randomisable layer: its name (as the program shows it) and its weights in the serialised bytes. */
interface RandomisableLayer {
  path: string;
  weights: WeightSlice[];
}

async function serialise(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved?.modelTopology || !saved.weightSpecs) throw studioError('INTERNAL', { reason: 'the model could not be serialised for the sanity check' });
  return saved;
}

function weightBuffer(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (!data) return new ArrayBuffer(0);
  if (!Array.isArray(data)) return data;
  const out = new Uint8Array(data.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const b of data) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out.buffer;
}

/** The layers with a kernel, from the head down (program order reversed; a layer called twice once). */
function randomisableLayers(loaded: LoadedModel, specs: tf.io.WeightsManifestEntry[]): RandomisableLayer[] {
  const slices = new Map<string, WeightSlice>();
  let offset = 0;
  for (const spec of specs) {
    const length = spec.shape.reduce((n, d) => n * d, 1);
    if (spec.dtype === 'float32') slices.set(spec.name, { name: spec.name, offset, length });
    offset += length * 4; // float32 and int32: 4 bytes each (a saved model is not quantised)
  }
  const seen = new Set<unknown>();
  const out: RandomisableLayer[] = [];
  for (const step of [...loaded.program.steps].reverse()) {
    if (seen.has(step.layer)) continue;
    seen.add(step.layer);
    const weights = step.layer.trainableWeights.map((w) => slices.get(w.originalName)).filter((w): w is WeightSlice => !!w);
    if (weights.some((w) => KERNEL_NAMES.test(w.name))) out.push({ path: step.path, weights });
  }
  return out;
}

/** Overwrite `weights` in `bytes` with normal(0, σ of the learned values) draws. */
function randomise(bytes: ArrayBuffer, weights: WeightSlice[], seed: number): void {
  for (const [k, w] of weights.entries()) {
    const values = new Float32Array(bytes, w.offset, w.length);
    let mean = 0;
    for (const v of values) mean += v;
    mean /= w.length || 1;
    let variance = 0;
    for (const v of values) variance += (v - mean) ** 2;
    const sigma = Math.sqrt(variance / (w.length || 1));
    const rng = new Rng(seed * 1009 + k * 7 + w.length);
    for (let i = 0; i < values.length; i++) values[i] = sigma * rng.normal();
  }
}

/** Consecutive groups of layers, at most MAX_SANITY_STEPS of them. */
function groupLayers(layers: RandomisableLayer[]): RandomisableLayer[][] {
  const groups = Math.min(layers.length, MAX_SANITY_STEPS);
  return Array.from({ length: groups }, (_, g) => layers.slice(Math.floor((g * layers.length) / groups), Math.floor(((g + 1) * layers.length) / groups)));
}

/** The map compared, as |map| (the paper compares absolute values): a heatmap at the input's resolution, or an RGB method's saliency. */
function comparedMap(result: ExplainResult, id: MethodId): { data: Float32Array; width: number; height: number } {
  const map = result.maps[id];
  if (!map) throw studioError('INTERNAL', { reason: `no ${id} map` });
  const shown = map.kind === 'heatmap' ? map.upsampled : map.saliency;
  return { width: shown.width, height: shown.height, data: shown.data.map(Math.abs) };
}

/** A step's label: the short names of its first and last layer (the full paths are in `randomised`). */
function groupLabel(group: RandomisableLayer[]): string {
  const first = layerShortName(group[0]?.path ?? '');
  const last = layerShortName(group.at(-1)?.path ?? '');
  return first === last ? first : `${first} … ${last}`;
}

export interface SanityRun {
  loaded: LoadedModel;
  image: RawImage;
  /** The explanation to check: methods, layer, preprocessing; its class is fixed to `classIndex`. */
  explain: ExplainOptions;
  classIndex: number;
  mode?: SanityMode;
  seed?: number;
  signal?: AbortSignal;
  /** After each step: its fraction, and the maps of every method at that step (the strip). */
  onStep?: (fraction: number, step: SanityStep, result: ExplainResult) => void | Promise<void>;
}

export async function sanityCheck(run: SanityRun): Promise<SanityResult> {
  const { loaded, image, classIndex } = run;
  const mode = run.mode ?? 'cascading';
  const seed = run.seed ?? 1;
  const methods = [...new Set(run.explain.methods ?? [])];
  if (methods.length === 0) throw studioError('METHOD_UNKNOWN', { method: '(none)', known: 'at least one method' });
  const options: ExplainOptions = { ...run.explain, methods, target: classIndex, counterfactual: false };
  const check = () => {
    if (run.signal?.aborted) throw studioError('CANCELLED');
  };
  // The randomised copies are rebuilt from a layers model's saved weights.
  if (!loaded.model) throw studioError('SANITY_LAYERS_ONLY');
  const layersModel = loaded.model;
  const original = await loaded.explain(image, options, run.signal);
  const artifacts = await serialise(layersModel);
  const learned = weightBuffer(artifacts.weightData);
  const layers = randomisableLayers(loaded, artifacts.weightSpecs!);
  if (layers.length === 0) throw studioError('SANITY_NO_LAYER_TO_RANDOMISE');
  const groups = groupLayers(layers);
  const steps: SanityStep[] = [{ label: 'original', randomised: [] }];
  const similarity = new Map<MethodId, SanityMethodResult>(methods.map((m) => [m, { spearman: [1], ssim: [1], verdict: 'inconclusive', flagged: false }]));
  const originals = new Map(methods.map((m) => [m, comparedMap(original, m)]));
  await run.onStep?.(1 / (groups.length + 1), steps[0]!, original);
  for (const [g, group] of groups.entries()) {
    await yieldToEvents();
    check();
    const chosen = mode === 'cascading' ? groups.slice(0, g + 1).flat() : group;
    const bytes = learned.slice(0);
    // The same layer gets the same random weights at every step, so the cascade only ever adds layers.
    for (const layer of chosen) randomise(bytes, layer.weights, seed + 31 * layers.indexOf(layer));
    const copy = await loadedModelFromOpened({
      name: `${loaded.summary.name} (randomised)`,
      format: loaded.summary.format,
      artifacts: { ...artifacts, weightData: bytes },
      labels: loaded.summary.labels,
      preprocess: loaded.summary.preprocess,
      warnings: [],
    });
    let result: ExplainResult;
    try {
      check();
      result = await copy.explain(image, options, run.signal);
    } finally {
      copy.dispose();
    }
    const step: SanityStep = { label: groupLabel(group), randomised: chosen.map((l) => l.path) };
    steps.push(step);
    for (const id of methods) {
      const before = originals.get(id)!;
      const after = comparedMap(result, id);
      const s = similarity.get(id)!;
      s.spearman.push(spearman(before.data, after.data));
      s.ssim.push(ssim(before.data, after.data, before.width, before.height));
    }
    await run.onStep?.((g + 2) / (groups.length + 1), step, result);
  }
  const rule = sanityRule(mode, layers.map((l) => l.path), steps.map((st) => st.randomised));
  for (const s of similarity.values()) {
    s.verdict = sanityVerdict(s.spearman, rule);
    s.flagged = s.verdict === 'fail';
  }
  return {
    mode,
    classIndex,
    classLabel: loaded.summary.labels[classIndex] ?? `class ${classIndex}`,
    steps,
    rule,
    methods: Object.fromEntries(similarity) as SanityResult['methods'],
  };
}

