/**
 * Plain data shared by the engine, the worker and the UI. Nothing here holds a tensor:
 * these values cross the worker boundary by structured clone.
 */
import type { StudioNotice } from './errors';
import type { CamSmoothing, MethodId, MethodOptionValue, MethodSettings } from './methods';

/** One row of the layer tree: the outer model, a nested model, or a leaf layer call. */
export interface LayerNode {
  /** Stable path from the outer model, e.g. `sequential_4/sequential_1/model1/out_relu`;
   *  a layer/model that runs more than once has `[k]` on the call, e.g. `block[1]`. */
  path: string;
  name: string;
  className: string;
  /** Output shape with null for the batch dimension, e.g. [null, 7, 7, 1280]. */
  outputShape: (number | null)[];
  params: number;
  /** The shape as the model's own framework writes it, when that differs (ONNX: NCHW, `1×512×7×7`). */
  displayShape?: (number | null)[];
  /** Spatial output (rank 4) — Grad-CAM can run here. */
  explainable: boolean;
  /** Why an explainable layer is not useful (a 1×1 output), for the tree's tooltip. */
  note?: string;
  /** Nested models have children; leaf layers do not. */
  children?: LayerNode[];
}

export type NormalizationPreset = 'unit' | 'symmetric' | 'imagenet' | 'caffe' | 'raw';
export type ResizeMode = 'stretch' | 'center-crop';

export interface PreprocessOptions {
  normalization: NormalizationPreset;
  resize: ResizeMode;
}

/** Where each default came from, so the UI can say "from metadata.json". */
export interface PreprocessDefaults extends PreprocessOptions {
  source: string;
}

export type HeadKind = 'softmax' | 'logits' | 'multi-label' | 'binary';

/** One output of the model: what it means and its classes. */
export interface OutputSummary {
  index: number;
  /** The output's name (its layer or graph node). */
  name: string;
  shape: (number | null)[];
  /** A [batch, classes] output: one that can be explained as classes. */
  classification: boolean;
  head: HeadKind;
  outputActivation: 'softmax' | 'sigmoid' | 'linear';
  labels: string[];
}

export interface ModelSummary {
  name: string;
  format: string;
  inputShape: (number | null)[];
  /** [height, width, channels] of one image. */
  imageSize: [number, number, number];
  labels: string[];
  /** True when the labels came from a file, false when they are "class 0..n-1". */
  labelsFromFile: boolean;
  tree: LayerNode;
  defaultLayerPath: string | null;
  preprocess: PreprocessDefaults;
  /** The score is the logit: a final softmax/sigmoid was found and is stripped for the gradient. */
  outputActivation: 'softmax' | 'sigmoid' | 'linear';
  /**
   * What the output means. 'softmax': one class of several (probabilities sum to 1); 'logits': the
   * same without a softmax in the model (shown through one); 'multi-label': several sigmoid units,
   * each label on its own; 'binary': one unit — `labels` is then [label, "not label"] and the second
   * class is the unit's negated logit, with probability 1 − p.
   */
  head: HeadKind;
  /**
   * Every output of the model (one for most). `labels`, `head` and `outputActivation` above are those
   * of `defaultOutput`, the first classification-shaped one; ExplainOptions.output picks another.
   */
  outputs: OutputSummary[];
  defaultOutput: number;
  params: number;
  weightBytes: number;
  warnings: StudioNotice[];
  /**
   * Whether the class score can be differentiated (probed once at load): a model with an op that has
   * no gradient on this backend explains only with the gradient-free methods. Absent: not probed.
   */
  gradients?: GradientSupport;
}

export type GradientSupport = { supported: true } | { supported: false; op: string; message: string };

export interface ExplainOptions extends CamSmoothing {
  /** Layer path from the tree; null or absent = the model's default layer. */
  layerPath?: string | null;
  /**
   * Several layers for the layer methods: each method's map is the mean of its maps at these layers
   * (each normalised, at input resolution), renormalised (multi-layer fusion). Overrides layerPath.
   */
  layerPaths?: string[];
  /** Class index, a label, or absent for top-1. */
  target?: number | string | null;
  /** Which output to explain (ModelSummary.outputs); absent = the default output. */
  output?: number | null;
  counterfactual?: boolean;
  /** Which methods to compute (ids of src/shared/methods.ts); Grad-CAM, guided backprop and guided Grad-CAM by default. */
  methods?: MethodId[];
  /** Per-method settings by option name (see each METHODS entry's `options`); defaults fill the rest. */
  methodOptions?: Partial<Record<MethodId, Record<string, MethodOptionValue>>>;
  preprocess?: Partial<PreprocessOptions>;
  /**
   * The model and image the page shows (the tokens of the opens that brought them): when the worker
   * holds others, the request is stale — a newer open is on its way to the page — and is cancelled.
   */
  expect?: { model?: string | null; image?: string | null };
}

export interface Prediction {
  index: number;
  label: string;
  probability: number;
  logit: number;
}

/** A single-channel map, row-major, values in [0, 1] after normalisation. */
export interface Heatmap {
  width: number;
  height: number;
  data: Float32Array;
}

/** An RGB image of gradients, row-major, 3 floats per pixel, visualised to [0, 1]. */
export interface RgbMap {
  width: number;
  height: number;
  data: Float32Array;
}

export interface ExplainResult {
  layerPath: string | null;
  /** The output explained (index into ModelSummary.outputs). */
  output: number;
  classIndex: number;
  classLabel: string;
  /** The score explained: the logit of the class (negated for a counterfactual). */
  score: number;
  probability: number;
  counterfactual: boolean;
  predictions: Prediction[];
  /** Every requested method's map, keyed by method id. */
  maps: Partial<Record<MethodId, MethodMap>>;
  /** The layers the layer methods explained (several with fusion); [] when none ran. */
  layerPaths: string[];
  /** Present when a map came out all zero, with the likely reason. */
  warnings: StudioNotice[];
  timings: Record<string, number>;
}

/** A heatmap method's result. */
export interface HeatmapMethodMap {
  kind: 'heatmap';
  /** At the layer's resolution for a layer method on one layer; at the input's for input methods and fusion. Normalised to [0, 1]. */
  map: Heatmap;
  /** Bilinear upsampling of `map` to the model's input size, [0, 1]. */
  upsampled: Heatmap;
  /** Largest value before normalisation (of the first layer's map when several are fused). */
  rawMax: number;
  /** The layers explained ([] for input methods). */
  layerPaths: string[];
  /** Resolved options (+ eigenSmooth, augSmooth, fusedLayers for CAM methods): methodSettingsText(id, settings) captions it. */
  settings: MethodSettings;
  /** The superpixels a perturbation method moved (feature ablation, LIME, KernelSHAP, Shapley sampling): drawn over its panel. */
  segments?: Segments;
  /** Deep Feature Factorization with show = combined: every concept's map, its top classes and colour (the panel draws them all). */
  concepts?: Concepts;
}

/** k concept maps at a layer's resolution with the classes the head links them with. */
export interface Concepts {
  width: number;
  height: number;
  count: number;
  /** [count · height · width], each concept's map scaled to [0, 1]. */
  maps: Float32Array;
  /** Per concept, its three most probable classes (indices) and their probabilities. */
  topClasses: Array<Array<{ index: number; probability: number }>>;
  /** Per concept, its colour [r, g, b] (0–255), distinct for up to 16 concepts. */
  colours: Array<[number, number, number]>;
}

/** A segmentation of the model's input: labels 0 … count − 1, row-major [height · width]. */
export interface Segments {
  width: number;
  height: number;
  count: number;
  labels: Int32Array;
}

/** An RGB (gradient image) method's result. */
export interface RgbMethodMap {
  kind: 'rgb';
  /** At the model's input size, visualised to [0, 1] (zero → 0.5 grey). */
  map: RgbMap;
  /** |value| summed over the channels, normalised to [0, 1]: where the method puts its weight (the pointing game reads it). */
  saliency: Heatmap;
  layerPaths: string[];
  settings: MethodSettings;
}

export type MethodMap = HeatmapMethodMap | RgbMethodMap;

/** Progress of an explanation with costly methods (Score-CAM, Ablation-CAM, SmoothGrad, Integrated Gradients). */
export interface ExplainProgress {
  /** The method running now. */
  method: MethodId;
  /** Its share done, 0–1. */
  fraction: number;
  /** Methods finished and requested in this explanation. */
  done: number;
  total: number;
}

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

export interface BackendInfo {
  name: BackendName;
  reason: string;
  available: BackendName[];
  adapter?: string;
  /** WASM only: XNNPACK's thread pool size (1 = single-threaded). */
  threads?: number;
}

export type ColormapName = 'turbo' | 'viridis' | 'inferno' | 'jet';

export interface ViewOptions {
  colormap: ColormapName;
  /** 0..1 */
  opacity: number;
  /** Map values below this (0..1) are transparent. */
  threshold: number;
  /** The superpixel methods' segment outlines over their panels (absent: shown). */
  segmentOutlines?: boolean;
}

export interface LoadProgress {
  phase: 'reading' | 'weights' | 'building' | 'warmup' | 'done';
  bytesRead?: number;
  bytesTotal?: number;
  message: string;
  /** A warning to show at once, before the load finishes (e.g. MODEL_TOO_LARGE before the weights are read). */
  notice?: StudioNotice;
}
