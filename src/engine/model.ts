/**
 * A loaded, checked, warmed-up model with its compiled flat program, and the one entry point the
 * worker and the CLI use to explain an image.
 *
 * Per-image cache: the first request for an image (+ preprocessing) runs one full forward pass outside
 * any tape and keeps every slot's activation. A new class, the counterfactual or another layer then
 * runs only a backward pass over those activations, from the score back to the target layer
 * (backward.ts); the last guided backprop gradient (which does not depend on the layer) is kept too,
 * so a new layer costs only its Grad-CAM.
 * The cache is released on a new image, a new preprocessing, `clearCache()` or `dispose()`.
 */
import * as tf from '@tensorflow/tfjs';
import type { InputFile, RawImage } from './files';
import type { OpenedModel } from './formats/reader';
import { buildLayersModel, openModel } from './formats/index';
import type {
  ExplainMethod, ExplainOptions, ExplainResult, Heatmap, LayerNode, LoadProgress, ModelSummary,
  Prediction, PreprocessDefaults, PreprocessOptions, RgbMap,
} from '../shared/types';
import { notice, studioError, type StudioNotice } from '../shared/errors';
import { compileProgram, type Program } from './program';
import type { GradientPath } from './leaf';
import { logitFromSlots, runForward, runOutput } from './forward';
import { disposeFoldedWeights, prepareFoldedWeights } from './folding';
import { buildLayerTree, defaultLayerPath, resolveLayerPath } from './tree';
import { DEFAULT_PREPROCESS, preprocessImage, resolvePreprocess } from './preprocess';
import { releaseFreedRearrangedFilters } from './kernels/wasm-gradients';
import { gradCamMap, guidedBackprop, guidedGradCam, normaliseMap, upsampleMap, visualiseGradient } from './explain';

export interface LoadedModel {
  readonly model: tf.LayersModel;
  readonly summary: ModelSummary;
  /** The compiled flat program (steps, slots, tree): for tests, the bench and tools. */
  readonly program: Program;
  /** One forward pass (+ the gradient part downstream of the layer). Caches per image so a new class / counterfactual re-runs only what changed. */
  explain(image: RawImage, options: ExplainOptions, signal?: AbortSignal): Promise<ExplainResult>;
  /** All classes sorted by probability desc. */
  predict(image: RawImage, preprocess?: Partial<PreprocessOptions>): Promise<Prediction[]>;
  /** Release the per-image activation cache now. */
  clearCache(): void;
  /** Frees the model and any cached tensors. */
  dispose(): void;
}

export interface LoadedModelMeta {
  name?: string;
  format?: string;
  labels?: string[];
  preprocess?: Partial<PreprocessOptions> & { source: string };
  warnings?: StudioNotice[];
  weightBytes?: number;
  /** 'fast' (default): the written-out backward pass (backward.ts). 'plain': a tfjs tape through layer.apply (the reference). */
  gradientPath?: GradientPath;
  onProgress?: (p: LoadProgress) => void;
}

export const ALL_METHODS: readonly ExplainMethod[] = ['gradcam', 'guided-backprop', 'guided-gradcam'];

/** = openModel + loadedModelFromOpened. */
export async function loadModel(files: InputFile[], options?: { onProgress?: (p: LoadProgress) => void }): Promise<LoadedModel> {
  const opened = await openModel(files, options?.onProgress);
  return loadedModelFromOpened(opened, options?.onProgress);
}

export async function loadedModelFromOpened(opened: OpenedModel, onProgress?: (p: LoadProgress) => void): Promise<LoadedModel> {
  onProgress?.({ phase: 'building', message: `Building ${opened.name}…` });
  const model = await buildLayersModel(opened);
  try {
    return await loadedModelFromLayersModel(model, {
      name: opened.name,
      format: opened.format,
      labels: opened.labels,
      preprocess: opened.preprocess,
      warnings: opened.warnings,
      weightBytes: weightBytes(opened.artifacts),
      onProgress,
    });
  } catch (e) {
    model.dispose();
    throw e;
  }
}

function weightBytes(artifacts: tf.io.ModelArtifacts): number {
  const data = artifacts.weightData;
  if (!data) return 0;
  return Array.isArray(data) ? data.reduce((n, b) => n + b.byteLength, 0) : data.byteLength;
}

/** [h, w, c] of the model's image input, or INPUT_NOT_IMAGE. */
function imageSizeOf(model: tf.LayersModel): [number, number, number] {
  const shape = model.inputs[0].shape;
  const [, h, w, c] = shape;
  if (shape.length !== 4 || typeof h !== 'number' || typeof w !== 'number' || (c !== 1 && c !== 3)) {
    throw studioError('INPUT_NOT_IMAGE', { shape: shape.map((d) => (d == null ? 'null' : String(d))).join(', ') });
  }
  return [h, w, c];
}

export async function loadedModelFromLayersModel(model: tf.LayersModel, meta: LoadedModelMeta = {}): Promise<LoadedModel> {
  if (model.inputs.length !== 1) throw studioError('MULTI_INPUT', { count: model.inputs.length });
  const imageSize = imageSizeOf(model);
  const warnings: StudioNotice[] = [...(meta.warnings ?? [])];
  if (model.outputs.length > 1) warnings.push(notice('MULTI_OUTPUT', { count: model.outputs.length }));
  const program = compileProgram(model);
  const tree = buildLayerTree(program);
  const defaultPath = defaultLayerPath(program);
  if (defaultPath === null) warnings.push(notice('NO_SPATIAL_LAYER'));

  const outputShape = model.outputs[0].shape;
  const classes = outputShape.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1);
  const labels = Array.from({ length: classes }, (_, i) => meta.labels?.[i] ?? `class ${i}`);
  const preprocess: PreprocessDefaults = {
    ...DEFAULT_PREPROCESS,
    ...(meta.preprocess ?? {}),
    source: meta.preprocess?.source ?? DEFAULT_PREPROCESS.source,
  };
  const summary: ModelSummary = {
    name: meta.name ?? model.name,
    format: meta.format ?? 'tfjs-layers',
    inputShape: model.inputs[0].shape.map((d) => (d == null ? null : d)),
    imageSize,
    labels,
    labelsFromFile: Boolean(meta.labels && meta.labels.length > 0),
    tree,
    defaultLayerPath: defaultPath,
    preprocess,
    outputActivation: program.logit.activation,
    params: model.countParams(),
    weightBytes: meta.weightBytes ?? model.weights.reduce((n, w) => n + w.shape.reduce<number>((a, d) => a * (d ?? 1), 1) * 4, 0),
    warnings,
  };

  // Warm up once: compiles kernels (shaders on GPU backends) so the first explanation is not the slow one.
  meta.onProgress?.({ phase: 'warmup', message: 'Warming up the model…' });
  if ((meta.gradientPath ?? 'fast') === 'fast' && CPU_SIDE_BACKENDS.has(tf.getBackend())) prepareFoldedWeights(program);
  try {
    const warm = tf.tidy(() => runOutput(program, tf.zeros([1, ...imageSize])));
    await warm.data();
    warm.dispose();
  } catch (e) {
    disposeFoldedWeights(program);
    throw e;
  }
  if (SHADER_BACKENDS.has(tf.getBackend())) await warmGradientShaders(program, imageSize, defaultPath, meta.onProgress);
  meta.onProgress?.({ phase: 'done', message: 'Model ready.' });
  return new LoadedModelImpl(model, summary, program, meta.gradientPath ?? 'fast');
}

/** Backends that compile a shader per kernel and shape on first use. */
const SHADER_BACKENDS = new Set(['webgpu', 'webgl']);

/**
 * On GPU backends the backward kernels' shaders compile on first use: run one guided backprop and
 * one Grad-CAM at the default layer on a blank image while loading, so the first explanation is not
 * the slow one. Best effort: a failure here shows up (with its coded error) at the first explanation.
 */
async function warmGradientShaders(program: Program, imageSize: [number, number, number], layerPath: string | null, onProgress?: (p: LoadProgress) => void): Promise<void> {
  onProgress?.({ phase: 'warmup', message: 'Compiling the gradient shaders…' });
  try {
    const maps = tf.tidy(() => {
      const values = runForward(program, tf.zeros([1, ...imageSize]));
      const out: tf.Tensor[] = [guidedBackprop(program, values, 0)];
      const slot = layerPath === null ? undefined : program.slotsByPath.get(layerPath);
      if (slot !== undefined && values[slot]?.rank === 4) out.push(gradCamMap(program, values, slot, 0));
      return out;
    });
    await Promise.all(maps.map((m) => m.data()));
    tf.dispose(maps);
  } catch {
    // Not fatal: the explanation that needs these kernels reports its own error.
  }
}

/** Backends whose tensors live in CPU memory: a copy of the folded conv weights costs little there. */
const CPU_SIDE_BACKENDS = new Set(['wasm', 'cpu']);

interface ImageCache {
  image: RawImage;
  key: string;
  /** Every slot's activation for this image. */
  values: tf.Tensor[];
  /** [classes] logits and probabilities, read back once. */
  logits: Float32Array;
  probabilities: Float32Array;
  /** The last guided backprop gradient (independent of the layer): reused when only the layer changes. */
  guided?: { key: string; gradient: tf.Tensor3D };
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw studioError('CANCELLED');
}

/** Asynchronous read-back (readSync is slow or unavailable on GPU backends); disposes `t`. */
async function readFloats(t: tf.Tensor): Promise<Float32Array> {
  try {
    return Float32Array.from(await t.data());
  } finally {
    t.dispose();
  }
}

async function heatmap(t: tf.Tensor2D): Promise<Heatmap> {
  const [height, width] = t.shape;
  return { width, height, data: await readFloats(t) };
}

async function rgbMap(t: tf.Tensor3D): Promise<RgbMap> {
  const [height, width] = t.shape;
  return { width, height, data: await readFloats(t) };
}

class LoadedModelImpl implements LoadedModel {
  private cache: ImageCache | null = null;
  private disposed = false;
  private readonly nodesByPath: Map<string, LayerNode>;

  constructor(
    readonly model: tf.LayersModel,
    readonly summary: ModelSummary,
    readonly program: Program,
    private readonly gradientPath: GradientPath,
  ) {
    this.nodesByPath = new Map();
    const visit = (n: LayerNode) => {
      this.nodesByPath.set(n.path, n);
      n.children?.forEach(visit);
    };
    visit(summary.tree);
  }

  clearCache(): void {
    if (this.cache) tf.dispose([...this.cache.values, ...(this.cache.guided ? [this.cache.guided.gradient] : [])]);
    this.cache = null;
  }

  dispose(): void {
    if (this.disposed) return;
    this.clearCache();
    disposeFoldedWeights(this.program);
    this.model.dispose();
    // WASM keeps a flipped copy of each conv kernel for gradients; a big model's must not outlive it.
    releaseFreedRearrangedFilters();
    this.disposed = true;
  }

  /** The activations of `image` under `preprocess`, computed once (outside any tape) and reused. */
  private async ensureCache(image: RawImage, preprocess: PreprocessOptions): Promise<ImageCache> {
    if (this.disposed) throw studioError('INTERNAL', { reason: 'the model was disposed' });
    const key = this.cacheKey(preprocess);
    if (this.cache && this.cache.image === image && this.cache.key === key) return this.cache;
    this.clearCache();
    const values = tf.tidy(() => runForward(this.program, preprocessImage(image, this.summary.imageSize, preprocess), { fast: this.gradientPath === 'fast' }));
    const [logitsT, probabilitiesT] = tf.tidy(() => {
      const l = logitFromSlots(this.program, (s) => values[s]).reshape([-1]);
      // A linear output is read as logits: probabilities for display are its softmax.
      const p = this.summary.outputActivation === 'sigmoid' || l.size === 1 ? tf.sigmoid(l) : tf.softmax(l);
      return [l, p];
    });
    let logits: Float32Array;
    let probabilities: Float32Array;
    try {
      [logits, probabilities] = await Promise.all([readFloats(logitsT), readFloats(probabilitiesT)]);
    } catch (e) {
      tf.dispose(values);
      throw e;
    }
    this.cache = { image, key, values, logits, probabilities };
    return this.cache;
  }

  private cacheKey(preprocess: PreprocessOptions): string {
    return `${preprocess.normalization}|${preprocess.resize}`;
  }

  private predictions(cache: Pick<ImageCache, 'logits' | 'probabilities'>): Prediction[] {
    return Array.from(cache.probabilities, (probability, index) => ({
      index,
      label: this.summary.labels[index] ?? `class ${index}`,
      probability,
      logit: cache.logits[index],
    })).sort((a, b) => b.probability - a.probability);
  }

  /** Requests run one after another: a request's awaits never interleave with another's cache updates. */
  private queue: Promise<unknown> = Promise.resolve();
  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  predict(image: RawImage, preprocess?: Partial<PreprocessOptions>): Promise<Prediction[]> {
    return this.serialised(async () => this.predictions(await this.ensureCache(image, resolvePreprocess(this.summary.preprocess, preprocess))));
  }

  /** Class index from a number, a numeric string or a label (exact, then case-insensitive). */
  resolveClass(target: number | string | null | undefined, predictions: Prediction[]): number {
    const count = this.summary.labels.length;
    if (target === null || target === undefined || target === '') return predictions[0].index;
    if (typeof target === 'number') {
      if (Number.isInteger(target) && target >= 0 && target < count) return target;
      throw studioError('CLASS_NOT_FOUND', { query: String(target), count });
    }
    const exact = this.summary.labels.indexOf(target);
    if (exact >= 0) return exact;
    const lower = target.toLowerCase();
    const loose = this.summary.labels.findIndex((l) => l.toLowerCase() === lower);
    if (loose >= 0) return loose;
    if (/^\d+$/.test(target) && Number(target) < count) return Number(target);
    throw studioError('CLASS_NOT_FOUND', { query: target, count });
  }

  explain(image: RawImage, options: ExplainOptions, signal?: AbortSignal): Promise<ExplainResult> {
    return this.serialised(() => this.explainNow(image, options, signal));
  }

  private async explainNow(image: RawImage, options: ExplainOptions, signal?: AbortSignal): Promise<ExplainResult> {
    throwIfAborted(signal);
    const timings: Record<string, number> = {};
    const warnings: StudioNotice[] = [];
    const t0 = performance.now();
    const preprocess = resolvePreprocess(this.summary.preprocess, options.preprocess);
    const requested = options.methods && options.methods.length > 0 ? options.methods : [...ALL_METHODS];

    // Target layer: needed by Grad-CAM and guided Grad-CAM.
    let layerPath = options.layerPath ?? this.summary.defaultLayerPath;
    let methods = requested;
    const needsLayer = requested.includes('gradcam') || requested.includes('guided-gradcam');
    if (needsLayer) {
      if (layerPath === null) {
        if (options.methods && options.methods.length > 0 && !requested.includes('guided-backprop')) throw studioError('NO_SPATIAL_LAYER');
        warnings.push(notice('NO_SPATIAL_LAYER'));
        methods = requested.filter((m) => m === 'guided-backprop');
      } else {
        const node = this.nodesByPath.get(layerPath) ?? resolveLayerPath(this.summary.tree, layerPath);
        if (!node) throw studioError('LAYER_NOT_FOUND', { path: layerPath });
        if (!node.explainable) throw studioError('LAYER_NOT_SPATIAL', { path: node.path });
        layerPath = node.path;
      }
    }

    const sign = options.counterfactual ? -1 : 1;
    const cache = await this.ensureCache(image, preprocess);
    let camUp: tf.Tensor2D | null = null;
    try {
      throwIfAborted(signal);
      timings.forward = performance.now() - t0;
      const predictions = this.predictions(cache);
      const classIndex = this.resolveClass(options.target, predictions);
      const counterfactual = Boolean(options.counterfactual);
      const result: ExplainResult = {
        layerPath: methods.some((m) => m !== 'guided-backprop') ? layerPath : null,
        classIndex,
        classLabel: this.summary.labels[classIndex],
        score: sign * cache.logits[classIndex],
        probability: cache.probabilities[classIndex],
        counterfactual,
        predictions,
        warnings,
        timings,
      };
      const [inputH, inputW] = this.summary.imageSize;
      const gradOptions = { path: this.gradientPath, sign };

      if (methods.includes('gradcam') || methods.includes('guided-gradcam')) {
        throwIfAborted(signal);
        const t = performance.now();
        const slot = this.program.slotsByPath.get(layerPath as string);
        if (slot === undefined) throw studioError('LAYER_NOT_FOUND', { path: String(layerPath) });
        const raw = gradCamMap(this.program, cache.values, slot, classIndex, gradOptions);
        const rawMax = (await readFloats(raw.max()))[0] || 0;
        const cam = normaliseMap(raw, rawMax);
        raw.dispose();
        camUp = upsampleMap(cam, [inputH, inputW]);
        result.cam = await heatmap(cam);
        result.camUpsampled = await heatmap(camUp.clone());
        result.camRawMax = rawMax;
        if (!(rawMax > 0)) {
          warnings.push(notice('MAP_ALL_ZERO', {
            reason: counterfactual
              ? `no evidence against "${result.classLabel}" at ${layerPath}; try another layer.`
              : `no positive evidence for "${result.classLabel}" at ${layerPath}; try the counterfactual or another layer.`,
          }));
        }
        timings.gradcam = performance.now() - t;
      }
      if (methods.includes('guided-backprop') || methods.includes('guided-gradcam')) {
        throwIfAborted(signal);
        const t = performance.now();
        const guidedKey = `${classIndex}|${sign}`;
        if (cache.guided?.key !== guidedKey) {
          cache.guided?.gradient.dispose();
          cache.guided = undefined;
          cache.guided = { key: guidedKey, gradient: guidedBackprop(this.program, cache.values, classIndex, gradOptions) };
        }
        const guided = cache.guided.gradient; // owned by the image cache
        if (methods.includes('guided-backprop')) {
          result.guidedBackprop = await rgbMap(visualiseGradient(guided));
          if ((await readFloats(tf.tidy(() => guided.abs().max())))[0] === 0) {
            warnings.push(notice('MAP_ALL_ZERO', { reason: `guided backprop found no positive path to "${result.classLabel}" (every ReLU on the way is inactive).` }));
          }
        }
        timings.guidedBackprop = performance.now() - t;
        if (methods.includes('guided-gradcam') && camUp) {
          const t2 = performance.now();
          const up = camUp;
          result.guidedGradcam = await rgbMap(tf.tidy(() => visualiseGradient(guidedGradCam(guided, up))));
          timings.guidedGradcam = performance.now() - t2;
        }
      }
      timings.total = performance.now() - t0;
      return result;
    } finally {
      camUp?.dispose();
    }
  }
}

