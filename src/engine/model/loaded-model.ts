/**
 * A loaded, checked, warmed-up model with its compiled flat program, and the one entry point the
 * worker and the CLI use to explain an image: the request's rules (request.ts), the image's
 * activation cache (image-cache.ts), then the methods (explain.ts → methods/). Requests run one
 * after another, so a request's awaits never interleave with another's cache updates.
 * The cache is released on a new image, a new preprocessing, `clearCache()` or `dispose()`.
 */
import * as tf from '@tensorflow/tfjs';
import type { RawImage } from '../files';
import type { ExplainOptions, ExplainProgress, ExplainResult, Heatmap, MethodMap, ModelSummary, Prediction, PreprocessOptions, RgbMap } from '../../shared/types';
import { methodInfo, methodLabel, type MethodId } from '../../shared/methods';
import { notice, studioError, type StudioNotice } from '../../shared/errors';
import { programForOutput, type Program, type ProgramHost } from '../executor/program';
import type { GradientPath } from '../executor/leaf';
import { disposeFoldedWeights } from '../executor/folding';
import { resolvePreprocess } from '../preprocess';
import { releaseFreedRearrangedFilters } from '../kernels/wasm-gradients';
import { disposeMethodTensors, runMethods, type MethodTensors } from '../explain';
import { resolveRequest, resolveTarget } from '../request';
import { methodsWithoutGradients } from '../gradient-support';
import { ImageCache, readFloats, type CachedModel } from './image-cache';
import { predictionsOf } from './summary';

export interface LoadedModel {
  /** The tfjs-layers model (null for a graph model, which runs as its compiled program only). */
  readonly model: tf.LayersModel | null;
  readonly summary: ModelSummary;
  /** The compiled flat program (steps, slots, tree): for tests, the bench and tools. */
  readonly program: Program;
  /**
   * The requested methods (ExplainOptions.methods; Grad-CAM, guided backprop and guided Grad-CAM by
   * default) for one image and class. One forward pass per image (cached); then backward passes, or
   * the costly methods' batches, which check `signal` and report `onProgress` between batches.
   */
  explain(image: RawImage, options: ExplainOptions, signal?: AbortSignal, onProgress?: (progress: ExplainProgress) => void): Promise<ExplainResult>;
  /** All classes sorted by probability desc. */
  predict(image: RawImage, preprocess?: Partial<PreprocessOptions>): Promise<Prediction[]>;
  /** Release the per-image activation cache now. */
  clearCache(): void;
  /** Frees the model and any cached tensors. */
  dispose(): void;
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw studioError('CANCELLED');
}

async function heatmap(t: tf.Tensor2D): Promise<Heatmap> {
  const [height, width] = t.shape;
  return { width, height, data: await readFloats(t) };
}

async function rgbMap(t: tf.Tensor3D): Promise<RgbMap> {
  const [height, width] = t.shape;
  return { width, height, data: await readFloats(t) };
}

async function readMaps(tensors: Map<MethodId, MethodTensors>): Promise<Partial<Record<MethodId, MethodMap>>> {
  const maps: Partial<Record<MethodId, MethodMap>> = {};
  for (const [id, t] of tensors) {
    maps[id] = t.kind === 'heatmap'
      ? { kind: 'heatmap', map: await heatmap(t.map.clone()), upsampled: await heatmap(t.upsampled.clone()), rawMax: t.rawMax, layerPaths: t.layerPaths, settings: t.settings, ...(t.segments ? { segments: t.segments } : {}), ...(t.concepts ? { concepts: t.concepts } : {}) }
      : { kind: 'rgb', map: await rgbMap(t.visual.clone()), saliency: await heatmap(t.saliency.clone()), layerPaths: t.layerPaths, settings: t.settings };
  }
  return maps;
}

function zeroReason(id: MethodId, label: string, layerPath: string | undefined, counterfactual: boolean): string {
  const info = methodInfo(id);
  const where = info.needs === 'layer' ? ` at ${layerPath}` : '';
  const prefix = id === 'gradcam' ? '' : `${methodLabel(id)}: `;
  if (!info.classSpecific) return `${prefix}the activations${where} have no positive principal component; try another layer.`;
  return counterfactual
    ? `${prefix}no evidence against "${label}"${where}; try another layer.`
    : `${prefix}no positive evidence for "${label}"${where}; try the counterfactual or another layer.`;
}

export class LoadedModelImpl implements LoadedModel, CachedModel {
  private cache: ImageCache | null = null;
  private disposed = false;
  private readonly outputPrograms = new Map<number, Program>();

  readonly model: tf.LayersModel | null;
  readonly program: Program;
  readonly imageSize: [number, number, number];
  readonly outputs: ModelSummary['outputs'];

  constructor(
    private readonly host: ProgramHost,
    readonly summary: ModelSummary,
    readonly gradientPath: GradientPath,
  ) {
    this.model = host.layersModel;
    this.program = host.program;
    this.imageSize = summary.imageSize;
    this.outputs = summary.outputs;
  }

  /** The program that scores output `k` (the same steps and slots). */
  programFor(k: number): Program {
    let program = this.outputPrograms.get(k);
    if (!program) {
      program = programForOutput(this.program, k);
      this.outputPrograms.set(k, program);
    }
    return program;
  }

  clearCache(): void {
    this.cache?.dispose();
    this.cache = null;
  }

  dispose(): void {
    if (this.disposed) return;
    this.clearCache();
    disposeFoldedWeights(this.program);
    this.host.dispose();
    // WASM keeps a flipped copy of each conv kernel for gradients; a big model's must not outlive it.
    releaseFreedRearrangedFilters();
    this.disposed = true;
  }

  /** The activations of `image` under `preprocess`, computed once (outside any tape) and reused. */
  private async ensureCache(image: RawImage, preprocess: PreprocessOptions): Promise<ImageCache> {
    if (this.disposed) throw studioError('INTERNAL', { reason: 'the model was disposed' });
    if (this.cache?.holds(image, preprocess)) return this.cache;
    this.clearCache();
    const cache = ImageCache.forImage(this, image, preprocess);
    this.cache = cache;
    try {
      await cache.outputValues(this.summary.defaultOutput);
    } catch (e) {
      this.clearCache();
      throw e;
    }
    return cache;
  }

  /** Requests run one after another: a request's awaits never interleave with another's cache updates. */
  private queue: Promise<unknown> = Promise.resolve();
  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  predict(image: RawImage, preprocess?: Partial<PreprocessOptions>): Promise<Prediction[]> {
    return this.serialised(async () => {
      const cache = await this.ensureCache(image, resolvePreprocess(this.summary.preprocess, preprocess));
      const k = this.summary.defaultOutput;
      const out = this.summary.outputs[k];
      if (!out) throw studioError('OUTPUT_NOT_FOUND', { output: String(k), count: this.summary.outputs.length });
      return predictionsOf(await cache.outputValues(k), out);
    });
  }

  explain(image: RawImage, options: ExplainOptions, signal?: AbortSignal, onProgress?: (progress: ExplainProgress) => void): Promise<ExplainResult> {
    return this.serialised(() => this.explainNow(image, options, signal, onProgress));
  }

  private async explainNow(image: RawImage, options: ExplainOptions, signal?: AbortSignal, onProgress?: (progress: ExplainProgress) => void): Promise<ExplainResult> {
    throwIfAborted(signal);
    const timings: Record<string, number> = {};
    const t0 = performance.now();
    const preprocess = resolvePreprocess(this.summary.preprocess, options.preprocess);
    const request = resolveRequest(this.summary, this.program, options);
    const { layers, output, out } = request;
    let { methods } = request;
    const warnings: StudioNotice[] = [...request.warnings];
    // A model with an op that has no gradient: the gradient methods are skipped, with the reason.
    const gradients = this.summary.gradients;
    if (gradients?.supported === false) {
      const { runnable, skipped } = methodsWithoutGradients(methods, gradients);
      if (skipped.length > 0) {
        if (runnable.length === 0) throw studioError('GRADIENT_UNSUPPORTED', { op: gradients.op, backend: tf.getBackend() });
        warnings.push(notice('GRADIENT_METHODS_SKIPPED', { op: gradients.op, methods: skipped.map(methodLabel).join(', ') }));
        methods = runnable;
      }
    }

    const cache = await this.ensureCache(image, preprocess);
    throwIfAborted(signal);
    timings.forward = performance.now() - t0;
    const head = await cache.outputValues(output);
    const predictions = predictionsOf(head, out);
    const counterfactual = Boolean(options.counterfactual);
    const { classIndex, unit, sign } = resolveTarget(out, predictions, options.target, counterfactual);
    const classLabel = out.labels[classIndex] ?? `class ${classIndex}`;
    // A layer inside a fused conv → BN → ReLU chain: its activation is made now (and kept).
    for (const layer of layers) cache.materialize(layer.slot);
    const layerPaths = layers.map((l) => l.path);
    const tensors = await runMethods({
      program: this.programFor(output),
      cache,
      output,
      classIndex: unit,
      sign,
      path: this.gradientPath,
      methods,
      layers,
      methodOptions: options.methodOptions,
      eigenSmooth: options.eigenSmooth,
      augSmooth: options.augSmooth,
      signal,
      onProgress,
      timings,
    });
    let maps: Partial<Record<MethodId, MethodMap>>;
    try {
      throwIfAborted(signal);
      maps = await readMaps(tensors);
    } finally {
      disposeMethodTensors(tensors.values());
    }
    const layerRan = [...tensors.keys()].some((m) => methodInfo(m).needs === 'layer');
    const result: ExplainResult = {
      output,
      layerPath: layerRan ? layerPaths[0] ?? null : null,
      classIndex,
      classLabel,
      score: sign * (head.logits[unit] ?? 0),
      probability: predictions.find((p) => p.index === classIndex)?.probability ?? 0,
      counterfactual,
      predictions,
      maps: Object.fromEntries(Object.entries(maps).filter(([id]) => methods.includes(id as MethodId))) as Partial<Record<MethodId, MethodMap>>,
      layerPaths: layerRan ? layerPaths : [],
      warnings,
      timings,
    };
    for (const [id, map] of Object.entries(maps) as Array<[MethodId, MethodMap]>) {
      if (!methods.includes(id) && id !== 'gradcam') continue;
      if (map.kind === 'heatmap' && !(map.rawMax > 0)) warnings.push(notice('MAP_ALL_ZERO', { reason: zeroReason(id, classLabel, layerPaths[0], counterfactual) }));
      const raw = tensors.get(id);
      if (map.kind === 'rgb' && id === 'guided-backprop' && !(raw?.kind === 'rgb' && raw.saliencyMax > 0)) {
        warnings.push(notice('MAP_ALL_ZERO', { reason: `guided backprop found no positive path to "${classLabel}" (every ReLU on the way is inactive).` }));
      }
    }
    timings.total = performance.now() - t0;
    return result;
  }
}
