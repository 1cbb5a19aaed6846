/**
 * A loaded, checked, warmed-up model with its compiled flat program, and the one entry point the
 * worker and the CLI use to explain an image.
 *
 * Per-image cache: the first request for an image (+ preprocessing) runs one full forward pass outside
 * any tape and keeps every slot's activation. A new class, the counterfactual or another layer then
 * runs only a backward pass over those activations, from the score back to the target layer
 * (backward.ts); the last guided backprop gradient (which does not depend on the layer) is kept too,
 * so a new layer costs only its Grad-CAM. Flip smoothing adds the mirrored image's activations to the
 * cache (one more forward pass, once per image). The methods themselves are src/engine/methods/,
 * run by explain.ts's runMethods.
 * The cache is released on a new image, a new preprocessing, `clearCache()` or `dispose()`.
 */
import * as tf from '@tensorflow/tfjs';
import type { InputFile, RawImage } from './files';
import type { OpenedModel } from './formats/reader';
import { buildLayersModel, openModel } from './formats/index';
import type {
  ExplainOptions, ExplainProgress, ExplainResult, HeadKind, Heatmap, LayerNode, OutputSummary, LoadProgress, MethodMap, ModelSummary,
  Prediction, PreprocessDefaults, PreprocessOptions, RgbMap,
} from '../shared/types';
import { CLASSIC_METHODS, isMethodId, METHOD_IDS, methodInfo, methodLabel, type MethodId } from '../shared/methods';
import { notice, studioError, type StudioNotice } from '../shared/errors';
import { resolveClass } from '../shared/classes';
import { compileProgram, programForOutput, type Program, type ProgramHost } from './program';
import { buildGraphHost } from './graph/load-graph';
import { buildOnnxHost } from './onnx/load-onnx';
import type { GradientPath } from './leaf';
import { materializeSlot } from './compiled-forward';
import { logitFromSlots, runForward, runOutput } from './forward';
import { disposeFoldedWeights, prepareFoldedWeights } from './folding';
import { buildLayerTree, defaultLayerPath, resolveLayerPath } from './tree';
import { DEFAULT_PREPROCESS, preprocessImage, resolvePreprocess } from './preprocess';
import { releaseFreedRearrangedFilters } from './kernels/wasm-gradients';
import { disposeMethodTensors, flipWidth, methodsWithDependencies, runMethods, type MethodTensors } from './explain';
import { gradientAt } from './gradient';
import { withGuidedGradients } from './guided';

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


/** = openModel + loadedModelFromOpened. */
export async function loadModel(files: InputFile[], options?: { onProgress?: (p: LoadProgress) => void }): Promise<LoadedModel> {
  const opened = await openModel(files, options?.onProgress);
  return loadedModelFromOpened(opened, options?.onProgress);
}

export async function loadedModelFromOpened(opened: OpenedModel, onProgress?: (p: LoadProgress) => void): Promise<LoadedModel> {
  onProgress?.({ phase: 'building', message: `Building ${opened.name}…` });
  const meta: LoadedModelMeta = {
    name: opened.name,
    format: opened.format,
    labels: opened.labels,
    preprocess: opened.preprocess,
    warnings: opened.warnings,
    weightBytes: weightBytes(opened.artifacts),
    onProgress,
  };
  if (opened.kind === 'graph' || opened.kind === 'onnx') {
    const host = opened.kind === 'onnx' ? buildOnnxHost(opened) : await buildGraphHost(opened);
    try {
      return await loadedModelFromHost(host, { ...meta, warnings: [...(meta.warnings ?? []), ...host.warnings] });
    } catch (e) {
      host.dispose();
      throw e;
    }
  }
  const model = await buildLayersModel(opened);
  try {
    return await loadedModelFromLayersModel(model, meta);
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
function imageSizeOf(shape: (number | null)[]): [number, number, number] {
  const [, h, w, c] = shape;
  if (shape.length !== 4 || typeof h !== 'number' || typeof w !== 'number' || (c !== 1 && c !== 3)) {
    throw studioError('INPUT_NOT_IMAGE', { shape: shape.map((d) => (d == null ? 'null' : String(d))).join(', ') });
  }
  return [h, w, c];
}

export async function loadedModelFromLayersModel(model: tf.LayersModel, meta: LoadedModelMeta = {}): Promise<LoadedModel> {
  if (model.inputs.length !== 1) throw studioError('MULTI_INPUT', { count: model.inputs.length });
  imageSizeOf(model.inputs[0].shape);
  const host: ProgramHost = {
    program: compileProgram(model),
    inputShape: model.inputs[0].shape.map((d) => (d == null ? null : d)),
    outputShapes: model.outputs.map((o) => o.shape.map((d) => (d == null ? null : d))),
    outputNames: model.outputNames,
    params: model.countParams(),
    weightBytes: model.weights.reduce((n, w) => n + w.shape.reduce<number>((a, d) => a * (d ?? 1), 1) * 4, 0),
    layersModel: model,
    warnings: [],
    dispose: () => model.dispose(),
  };
  return loadedModelFromHost(host, { format: 'tfjs-layers', name: model.name, ...meta });
}

export async function loadedModelFromHost(host: ProgramHost, meta: LoadedModelMeta = {}): Promise<LoadedModel> {
  const { program } = host;
  const imageSize = imageSizeOf(host.inputShape);
  const warnings: StudioNotice[] = [...(meta.warnings ?? [])];
  const tree = buildLayerTree(program);
  const defaultPath = defaultLayerPath(program);
  if (defaultPath === null) warnings.push(notice('NO_SPATIAL_LAYER'));

  // Several outputs: each is described, and the first classification-shaped one is the default.
  const outputs: OutputSummary[] = host.outputShapes.map((shape, index) => {
    const units = shape.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1);
    const activation = programForOutput(program, index).logit.activation;
    const head = headKind(activation, units);
    return { index, name: host.outputNames[index] ?? `output ${index}`, shape, classification: shape.length === 2, head, outputActivation: activation, labels: [] };
  });
  const defaultOutput = Math.max(0, outputs.findIndex((o) => o.classification));
  for (const out of outputs) {
    // Label files name the classes of the output that is explained by default.
    const fromFile = out.index === defaultOutput ? meta.labels : undefined;
    const units = out.shape.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1);
    out.labels = out.head === 'binary' ? binaryLabels(fromFile) : Array.from({ length: units }, (_, i) => fromFile?.[i] ?? `class ${i}`);
  }
  const main = outputs[defaultOutput]!;
  if (outputs.length > 1) warnings.push(notice('MULTI_OUTPUT', { count: outputs.length, name: main.name }));
  const preprocess: PreprocessDefaults = {
    ...DEFAULT_PREPROCESS,
    ...(meta.preprocess ?? {}),
    source: meta.preprocess?.source ?? DEFAULT_PREPROCESS.source,
  };
  const summary: ModelSummary = {
    name: meta.name ?? 'model',
    format: meta.format ?? 'tfjs-layers',
    inputShape: host.inputShape,
    imageSize,
    labels: main.labels,
    labelsFromFile: Boolean(meta.labels && meta.labels.length > 0),
    tree,
    defaultLayerPath: defaultPath,
    preprocess,
    outputActivation: main.outputActivation,
    head: main.head,
    outputs,
    defaultOutput,
    params: host.params,
    weightBytes: meta.weightBytes ?? host.weightBytes,
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
  return new LoadedModelImpl(host, summary, meta.gradientPath ?? 'fast');
}

/** What the output means (see ModelSummary.head). */
export function headKind(activation: 'softmax' | 'sigmoid' | 'linear', units: number): HeadKind {
  if (units === 1) return 'binary';
  if (activation === 'sigmoid') return 'multi-label';
  return activation === 'softmax' ? 'softmax' : 'logits';
}

/**
 * A single unit's two classes: the unit's label and its negation. Keras binary classifiers name
 * both classes with the unit meaning the second (labels.txt "fake / real" → real, not real = fake).
 */
export function binaryLabels(fromFile: string[] | undefined): [string, string] {
  if (fromFile && fromFile.length >= 2) return [fromFile[1]!, fromFile[0]!];
  const label = fromFile?.[0] ?? 'class 0';
  return [label, `not ${label}`];
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
      const out: tf.Tensor[] = [withGuidedGradients(() => gradientAt(program, values, program.inputSlot, 0))];
      const slot = layerPath === null ? undefined : program.slotsByPath.get(layerPath);
      if (slot !== undefined && values[slot]?.rank === 4) out.push(gradientAt(program, values, slot, 0));
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

export interface OutputValues {
  logits: Float32Array;
  probabilities: Float32Array;
}

interface ImageCache {
  image: RawImage;
  key: string;
  /** Every slot's activation for this image. */
  values: tf.Tensor[];
  /** Each explained output's [classes] logits and probabilities, read back once. */
  heads: Map<number, OutputValues>;
  /** The last guided backprop gradient (independent of the layer): reused when only the layer changes. */
  guided?: { key: string; gradient: tf.Tensor4D };
  /** The mirrored image's activations (flip smoothing), made on first use. */
  flipped?: tf.Tensor[];
  /** The preprocessed black image (Integrated Gradients' baseline), made on first use. */
  black?: tf.Tensor4D;
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

/** All classes of one output, sorted by probability desc (a binary head: the unit and its negation). */
export function predictionsOf(values: OutputValues, out: OutputSummary): Prediction[] {
  if (out.head === 'binary') {
    const [p, logit] = [values.probabilities[0]!, values.logits[0]!];
    const both: Prediction[] = [
      { index: 0, label: out.labels[0]!, probability: p, logit },
      { index: 1, label: out.labels[1]!, probability: 1 - p, logit: -logit },
    ];
    return both.sort((a, b) => b.probability - a.probability);
  }
  return Array.from(values.probabilities, (probability, index) => ({
    index,
    label: out.labels[index] ?? `class ${index}`,
    probability,
    logit: values.logits[index]!,
  })).sort((a, b) => b.probability - a.probability);
}

class LoadedModelImpl implements LoadedModel {
  private cache: ImageCache | null = null;
  private disposed = false;
  private readonly nodesByPath: Map<string, LayerNode>;

  readonly model: tf.LayersModel | null;
  readonly program: Program;

  constructor(
    private readonly host: ProgramHost,
    readonly summary: ModelSummary,
    private readonly gradientPath: GradientPath,
  ) {
    this.model = host.layersModel;
    this.program = host.program;
    this.nodesByPath = new Map();
    const visit = (n: LayerNode) => {
      this.nodesByPath.set(n.path, n);
      n.children?.forEach(visit);
    };
    visit(summary.tree);
  }

  clearCache(): void {
    if (this.cache) {
      const { values, guided, flipped, black } = this.cache;
      // The mirrored pass's input is its own tensor; everything else in it too.
      tf.dispose([...values, ...(guided ? [guided.gradient] : []), ...(flipped ?? []), ...(black ? [black] : [])]);
    }
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
    const key = this.cacheKey(preprocess);
    if (this.cache && this.cache.image === image && this.cache.key === key) return this.cache;
    this.clearCache();
    // Compiled (conv → BN → ReLU chains fused) where the folded weights were prepared at load.
    const fast = this.gradientPath === 'fast';
    const values = tf.tidy(() => runForward(this.program, preprocessImage(image, this.summary.imageSize, preprocess), { fast, compiled: fast }));
    this.cache = { image, key, values, heads: new Map() };
    try {
      await this.outputValues(this.cache, this.summary.defaultOutput);
    } catch (e) {
      this.clearCache();
      throw e;
    }
    return this.cache;
  }

  /** Output `k`'s logits and probabilities for the cached image (read back on first use). */
  private async outputValues(cache: ImageCache, k: number): Promise<OutputValues> {
    const known = cache.heads.get(k);
    if (known) return known;
    const out = this.summary.outputs[k]!;
    const [logitsT, probabilitiesT] = tf.tidy(() => {
      const l = logitFromSlots(this.programFor(k), (s) => materializeSlot(cache.values, s)!).reshape([-1]);
      // A linear output is read as logits: probabilities for display are its softmax.
      const p = out.outputActivation === 'sigmoid' || l.size === 1 ? tf.sigmoid(l) : tf.softmax(l);
      return [l, p];
    });
    const [logits, probabilities] = await Promise.all([readFloats(logitsT), readFloats(probabilitiesT)]);
    const values = { logits, probabilities };
    cache.heads.set(k, values);
    return values;
  }

  private readonly outputPrograms = new Map<number, Program>();
  /** The program that scores output `k` (the same steps and slots). */
  private programFor(k: number): Program {
    let program = this.outputPrograms.get(k);
    if (!program) {
      program = programForOutput(this.program, k);
      this.outputPrograms.set(k, program);
    }
    return program;
  }

  private cacheKey(preprocess: PreprocessOptions): string {
    return `${preprocess.normalization}|${preprocess.resize}`;
  }

  private predictions(values: OutputValues, out: OutputSummary): Prediction[] {
    return predictionsOf(values, out);
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
      return this.predictions(await this.outputValues(cache, k), this.summary.outputs[k]!);
    });
  }

  /** The class meant by `target` (src/shared/classes.ts: the rule the page and the CLI use too); absent = the top-1. */
  resolveClass(target: number | string | null | undefined, predictions: Prediction[], labels: string[] = this.summary.labels): number {
    if (target === null || target === undefined || (typeof target === 'string' && target.trim() === '')) return predictions[0].index;
    const index = resolveClass(target, labels);
    if (index === null) throw studioError('CLASS_NOT_FOUND', { query: String(target), count: labels.length });
    return index;
  }

  explain(image: RawImage, options: ExplainOptions, signal?: AbortSignal, onProgress?: (progress: ExplainProgress) => void): Promise<ExplainResult> {
    return this.serialised(() => this.explainNow(image, options, signal, onProgress));
  }

  /** The layers the layer methods explain: layerPaths (fusion), else layerPath, else the default; null when there is none. */
  private targetLayers(options: ExplainOptions): string[] | null {
    const paths = options.layerPaths && options.layerPaths.length > 0 ? options.layerPaths : [options.layerPath ?? this.summary.defaultLayerPath];
    if (paths.some((p) => p === null || p === undefined)) return null;
    const resolved = (paths as string[]).map((path) => {
      const node = this.nodesByPath.get(path) ?? resolveLayerPath(this.summary.tree, path);
      if (!node) throw studioError('LAYER_NOT_FOUND', { path });
      if (!node.explainable) throw studioError('LAYER_NOT_SPATIAL', { path: node.path });
      return node.path;
    });
    return [...new Set(resolved)];
  }

  private async explainNow(image: RawImage, options: ExplainOptions, signal?: AbortSignal, onProgress?: (progress: ExplainProgress) => void): Promise<ExplainResult> {
    throwIfAborted(signal);
    const timings: Record<string, number> = {};
    const warnings: StudioNotice[] = [];
    const t0 = performance.now();
    const preprocess = resolvePreprocess(this.summary.preprocess, options.preprocess);
    const explicit = Boolean(options.methods && options.methods.length > 0);
    const requested: MethodId[] = explicit ? [...new Set(options.methods)] : [...CLASSIC_METHODS];
    for (const id of requested) if (!isMethodId(id)) throw studioError('METHOD_UNKNOWN', { method: String(id), known: METHOD_IDS.join(', ') });

    // Target layers: needed by the layer methods (and guided Grad-CAM).
    let methods = requested;
    let layerPaths: string[] = [];
    if (methodsWithDependencies(requested).some((m) => methodInfo(m).needs === 'layer')) {
      const layers = this.targetLayers(options);
      if (layers === null) {
        if (explicit && requested.every((m) => methodInfo(m).needs === 'layer')) throw studioError('NO_SPATIAL_LAYER');
        warnings.push(notice('NO_SPATIAL_LAYER'));
        methods = requested.filter((m) => methodInfo(m).needs === 'input');
      } else {
        layerPaths = layers;
      }
    }

    const cache = await this.ensureCache(image, preprocess);
    throwIfAborted(signal);
    timings.forward = performance.now() - t0;
    const output = options.output ?? this.summary.defaultOutput;
    const out = this.summary.outputs[output];
    if (!out || !Number.isInteger(output)) throw studioError('OUTPUT_NOT_FOUND', { output: String(output), count: this.summary.outputs.length });
    const program = this.programFor(output);
    const head = await this.outputValues(cache, output);
    const predictions = this.predictions(head, out);
    const classIndex = this.resolveClass(options.target, predictions, out.labels);
    // The output unit scored, and its sign: a binary head's second class is its unit's negation.
    const unit = out.head === 'binary' ? 0 : classIndex;
    const negated = out.head === 'binary' && classIndex === 1;
    const sign: 1 | -1 = negated !== Boolean(options.counterfactual) ? -1 : 1;
    const counterfactual = Boolean(options.counterfactual);
    const classLabel = out.labels[classIndex]!;
    const slots = layerPaths.map((path) => {
      const slot = this.program.slotsByPath.get(path);
      if (slot === undefined) throw studioError('LAYER_NOT_FOUND', { path });
      // A layer inside a fused conv → BN → ReLU chain: its activation is made now (and kept).
      materializeSlot(cache.values, slot);
      return { path, slot };
    });
    const tensors = await runMethods({
      program,
      values: cache.values,
      classIndex: unit,
      sign,
      path: this.gradientPath,
      methods,
      layers: slots,
      methodOptions: options.methodOptions,
      eigenSmooth: options.eigenSmooth,
      augSmooth: options.augSmooth,
      flippedValues: () => (cache.flipped ??= tf.tidy(() => runForward(this.program, flipWidth(cache.values[this.program.inputSlot] as tf.Tensor4D), { fast: this.gradientPath === 'fast' }))),
      guidedGradient: () => this.guidedGradient(cache, program, output, unit, sign),
      blackInput: () => (cache.black ??= this.blackInput(preprocess)),
      signal,
      onProgress,
      timings,
    });
    let maps: Partial<Record<MethodId, MethodMap>>;
    try {
      throwIfAborted(signal);
      maps = await this.readMaps(tensors);
    } finally {
      disposeMethodTensors(tensors.values());
    }
    const layerRan = [...tensors.keys()].some((m) => methodInfo(m).needs === 'layer');
    const result: ExplainResult = {
      output,
      layerPath: layerRan ? layerPaths[0] ?? null : null,
      classIndex,
      classLabel,
      score: sign * head.logits[unit]!,
      probability: predictions.find((p) => p.index === classIndex)!.probability,
      counterfactual,
      predictions,
      maps: Object.fromEntries(Object.entries(maps).filter(([id]) => methods.includes(id as MethodId))) as Partial<Record<MethodId, MethodMap>>,
      layerPaths: layerRan ? layerPaths : [],
      warnings,
      timings,
    };
    for (const [id, map] of Object.entries(maps) as Array<[MethodId, MethodMap]>) {
      if (!methods.includes(id) && id !== 'gradcam') continue;
      if (map.kind === 'heatmap' && !(map.rawMax > 0)) warnings.push(notice('MAP_ALL_ZERO', { reason: this.zeroReason(id, classLabel, layerPaths[0], counterfactual) }));
      if (map.kind === 'rgb' && id === 'guided-backprop' && !(tensors.get(id)?.kind === 'rgb' && (tensors.get(id) as Extract<MethodTensors, { kind: 'rgb' }>).saliencyMax > 0)) {
        warnings.push(notice('MAP_ALL_ZERO', { reason: `guided backprop found no positive path to "${classLabel}" (every ReLU on the way is inactive).` }));
      }
    }
    timings.total = performance.now() - t0;
    return result;
  }

  private zeroReason(id: MethodId, label: string, layerPath: string | undefined, counterfactual: boolean): string {
    const info = methodInfo(id);
    const where = info.needs === 'layer' ? ` at ${layerPath}` : '';
    const prefix = id === 'gradcam' ? '' : `${methodLabel(id)}: `;
    if (!info.classSpecific) return `${prefix}the activations${where} have no positive principal component; try another layer.`;
    return counterfactual
      ? `${prefix}no evidence against "${label}"${where}; try another layer.`
      : `${prefix}no positive evidence for "${label}"${where}; try the counterfactual or another layer.`;
  }

  /** Guided backprop's input gradient for this class and sign, kept in the image cache (it does not depend on the layer). */
  private guidedGradient(cache: ImageCache, program: Program, output: number, classIndex: number, sign: number): tf.Tensor4D {
    const key = `${output}|${classIndex}|${sign}`;
    if (cache.guided?.key !== key) {
      cache.guided?.gradient.dispose();
      cache.guided = undefined;
      const gradient = withGuidedGradients(() => gradientAt(program, cache.values, program.inputSlot, classIndex, { path: this.gradientPath, sign })) as tf.Tensor4D;
      cache.guided = { key, gradient };
    }
    return cache.guided.gradient;
  }

  /** A black image through the model's preprocessing, [1, H, W, c]. */
  private blackInput(preprocess: PreprocessOptions): tf.Tensor4D {
    const [height, width] = this.summary.imageSize;
    const data = new Uint8ClampedArray(width * height * 4);
    for (let i = 3; i < data.length; i += 4) data[i] = 255;
    return preprocessImage({ width, height, data }, this.summary.imageSize, preprocess);
  }

  private async readMaps(tensors: Map<MethodId, MethodTensors>): Promise<Partial<Record<MethodId, MethodMap>>> {
    const maps: Partial<Record<MethodId, MethodMap>> = {};
    for (const [id, t] of tensors) {
      maps[id] = t.kind === 'heatmap'
        ? { kind: 'heatmap', map: await heatmap(t.map.clone()), upsampled: await heatmap(t.upsampled.clone()), rawMax: t.rawMax, layerPaths: t.layerPaths, settings: t.settings }
        : { kind: 'rgb', map: await rgbMap(t.visual.clone()), saliency: await heatmap(t.saliency.clone()), layerPaths: t.layerPaths, settings: t.settings };
    }
    return maps;
  }
}

