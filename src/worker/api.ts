/**
 * The typed API the worker exposes through Comlink (Squoosh-style). Types only: the page imports
 * this file with `import type`, never the worker's implementation.
 *
 * Cancellation: every long call takes a `requestId`; the client aborts a call by calling
 * `cancel(requestId)` from its AbortSignal, and a newer `explain` cancels the one in flight
 * (the newest request wins). A cancelled call rejects with a StudioError-like `{ code: 'CANCELLED' }`.
 * Errors cross the boundary as plain `{ code, message }` objects (see `toStudioError`).
 */
import type { StudioNotice } from '../shared/errors';
import type { BatchRecord } from '../shared/batch-results';
import type { MethodId, MethodSettings } from '../shared/methods';
import type { FaithfulnessOptions, FaithfulnessResult, SanityOptions, SanityResult } from '../shared/metrics';
import type {
  BackendInfo,
  BackendName,
  ExplainOptions,
  ExplainProgress,
  LoadProgress,
  ModelSummary,
  ExplainResult,
  Heatmap,
  ViewOptions,
} from '../shared/types';
import type { ViewFrame } from '../render/large-view';

/** A file as the page hands it to the worker (File objects clone cheaply; zips/folders are expanded in the worker). */
export interface TransferredFile {
  file: File;
  /** Relative path within a dropped folder, if any. */
  path?: string;
}

/**
 * The canvases the page transfers (`transferControlToOffscreen`), one per panel of the grid; the
 * worker draws into them. Keys: `original`; in the methods grid, the method's id (`gradcam`,
 * `guided-backprop`, …); in the layers grid, `layer:<i>` for the i-th layer.
 */
export type PanelName = string;

/** What the comparison grid shows: one panel per chosen method, or one method at several layers. */
export type GridSpec = { mode: 'methods' } | { mode: 'layers'; layers: string[] };


/** One drawn panel of the grid (besides the original): what it shows, for its title and the export. */
export interface PanelInfo {
  key: PanelName;
  method: MethodId;
  /** The layer(s) explained; [] for input methods. */
  layerPaths: string[];
  output: 'heatmap' | 'rgb';
  /** Largest value before normalisation (heatmaps). */
  rawMax?: number;
  /** The method's resolved settings (methodSettingsText captions them). */
  settings: MethodSettings;
}

export interface ImageInfo {
  name: string;
  width: number;
  height: number;
  notices: StudioNotice[];
}

/** What the page needs of an explanation: no pixel arrays (the worker already drew them). */
export type ExplainSummary = Pick<
  ExplainResult,
  'output' | 'layerPath' | 'classIndex' | 'classLabel' | 'score' | 'probability' | 'counterfactual' | 'predictions' | 'warnings' | 'timings'
> & {
  requestId: number;
  /** The methods drawn, in grid order. */
  methods: MethodId[];
  /** The grid's panels in order (the original excluded). */
  panels: PanelInfo[];
  grid: GridSpec['mode'];
  /** Grad-CAM's map at the layer's own resolution, [0,1], when Grad-CAM was drawn — small; tests read it. */
  cam?: Heatmap;
  /** Grad-CAM's largest value before normalisation. */
  camRawMax?: number;
};

/** What the page gets back for one live frame: a few numbers (the worker drew the overlay). */
export interface LiveFrameSummary {
  requestId: number;
  method: MethodId;
  layerPath: string | null;
  classIndex: number;
  classLabel: string;
  probability: number;
  /** Worker time for the frame: pixels read, explained, drawn. */
  explainMs: number;
}

export interface ModelLoaded {
  summary: ModelSummary;
  /** Which files were used / ignored, for the status region. */
  ignored: string[];
}

export type OpenPart = 'model' | 'image';

/**
 * What the worker holds now: the one source of truth for what the page shows. `version` grows with
 * every commit (across worker restarts too); tokens name the open that brought each part.
 */
export interface CommittedState {
  version: number;
  model: { token: string; summary: ModelSummary; ignored: string[] } | null;
  image: { token: string; info: ImageInfo } | null;
}

export interface DroppedResult {
  /** Several images (a folder, a zip): they went to the gallery instead of the single view. */
  gallery?: GalleryOpened;
  /** What this open itself brought in (absent: nothing of that kind, or superseded). */
  model?: ModelLoaded;
  image?: ImageInfo;
  notices: StudioNotice[];
  /** Parts a newer open superseded (a newer model cancels an older model load, a newer image an older image). */
  cancelled?: { part: OpenPart; name: string }[];
  /** The worker's committed state once this open settled: what the page shows (if newer than what it has). */
  state: CommittedState;
  /** Restored from this browser's IndexedDB cache (restoreCached), not dropped now. */
  fromCache?: boolean;
}

/** One entry of `demo/samples/index.json` (read defensively: missing fields become empty). */
export interface DemoSample {
  file: string;
  shapes: { label: string; bbox: [number, number, number, number] }[];
}

/** Which part of a drop to take: a restarted worker reloads the model and the image separately. */
export type OpenOnly = OpenPart;

export interface OpenOptions {
  /** Take only this part of the files (a restarted worker reloads the model and the image separately). */
  only?: OpenOnly;
  /** Names this open in the committed state (the page's own id, kept when a restarted worker reloads it). */
  token?: string;
}

export interface DemoOptions extends OpenOptions {
  /** Sample file from index.json (default: the first). */
  sample?: string;
}

/** RGBA pixels of a drawn panel (what `inspectPanels` returns; the page cannot read transferred canvases). */
export interface PanelImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/**
 * One panel redrawn for the large view, at the size the page asked for: the model's view of the
 * image, the method's picture over it (null for the original), and the map the readout reads (the
 * heatmap, or an RGB method's saliency, at the model's input size; null for the original).
 */
export interface LargeViewImages {
  key: PanelName;
  title: string;
  original: PanelImage;
  overlay: PanelImage | null;
  map: Heatmap | null;
  /** The model's input size: the readout gives pixel coordinates in it. */
  input: { width: number; height: number };
}

/** One file of a model exported as TF.js. */
export interface ExportedModelFile {
  name: string;
  data: Uint8Array;
}

/** One thing the in-worker benchmark times (`npm run bench`). */
export interface BenchCase {
  label: string;
  /**
   * 'forward' = one prediction; 'live-frame' = one live-mode frame (a 320-px bitmap explained with
   * Grad-CAM at `layerPath` and its overlay rendered: the worker's share of a live frame); otherwise
   * one explanation with these methods.
   */
  methods: MethodId[] | 'forward' | 'live-frame';
  layerPath?: string;
  /**
   * cold (default): the per-image activation cache is cleared before every run, so the figure
   * includes the full forward pass (one explanation of a new image). warm: the cache is kept and each
   * run asks for another class, so only the backward pass re-runs.
   */
  warm?: boolean;
  /**
   * Time the faithfulness curves instead: the case's explanation runs untimed, then the deletion and
   * insertion curves of its first map at this many steps are timed (no references, no ROAD).
   */
  metricsSteps?: number;
  /** After the timed rounds, run the case once more under tf.profile and report its kernels. */
  profile?: boolean;
}

export interface BenchSpec {
  runs: number;
  cases: BenchCase[];
}

export interface BenchCaseResult {
  label: string;
  /** Milliseconds per timed run (one untimed warm-up run comes first). */
  runs: number[];
  /** With `profile`: one more run under tf.profile, kernel by kernel (time inside each kernel call). */
  profile?: KernelProfile;
}

export interface KernelProfile {
  /** The profiled run's wall time (tf.profile's bookkeeping included) and the time inside kernels. */
  wallMs: number;
  kernelMs: number;
  /** Per kernel name, slowest first. */
  kernels: { name: string; ms: number; calls: number }[];
}

export interface BenchResult {
  backend: string;
  cases: BenchCaseResult[];
}

/** Progress of a faithfulness measurement or a sanity check (every curve point / step is counted). */
export interface MetricsProgress {
  kind: 'faithfulness' | 'sanity';
  fraction: number;
}

/** The sanity check with its strip: each method's map at each step, small, drawn by the worker. */
export interface SanitySummary extends SanityResult {
  strip: Partial<Record<MethodId, PanelImage[]>>;
}

/** A picture the page adds to the exported PNG (a plot shown beside the grid). */
export interface ExtraPanel {
  title: string;
  pixels: PanelImage;
}

// ---- the gallery (many images) -------------------------------------------------------------------
/** Which class each gallery image is explained for: its own top-1, its true label (from the folder), or one class for all. */
export type GalleryClassMode = 'predicted' | 'true' | 'fixed';

/** What a drop of several images (a folder, a zip) put in the gallery. */
export interface GalleryOpened {
  count: number;
  /** True labels found in the folder names (sorted), [] when the images sit at the root. */
  trueLabels: string[];
}

export interface GalleryRunOptions {
  layerPath: string | null;
  method: MethodId;
  classMode: GalleryClassMode;
  /** The class for 'fixed' (index into the model's labels). */
  fixedClass?: number | null;
  preprocess?: ExplainOptions['preprocess'];
  view: ViewOptions;
  /** Images per forward/backward pass (default 16); at most this many are decoded at once. */
  batchSize?: number;
  /** The bench's comparison: explain each image through the single-image path (LoadedModel.explain) instead of one batched pass. */
  singleImagePath?: boolean;
}

/** One explained (or failed) gallery image: its record and its thumbnail with the map over it. */
export interface GalleryItem {
  index: number;
  record: BatchRecord;
  /** The explained class (index into the model's labels); null when the image failed. */
  classIndex: number | null;
  /** PNG of the thumbnail with the overlay (null when the image failed). */
  thumb: Blob | null;
}

export interface GalleryProgress {
  done: number;
  total: number;
  imagesPerSecond: number;
  /** Estimated seconds left; null until the first batch is done. */
  secondsLeft: number | null;
  paused: boolean;
  /** The items finished since the last report. */
  items: GalleryItem[];
}

export interface GalleryRunResult {
  done: number;
  total: number;
  elapsedMs: number;
  imagesPerSecond: number;
  /** Where the time went: decoding (overlaps the previous batch's explanation), explaining, drawing and encoding thumbnails. */
  timings: { decodeMs: number; explainMs: number; drawMs: number };
}

/** Per class (true label, else predicted): the mean map (maps averaged at 32×32) and the mean image, as PNGs. */
export interface GalleryClassSummary {
  label: string;
  count: number;
  meanMap: Blob;
  meanImage: Blob;
}

/** Progress of one request, on the session's progress channel (`listen`). */
export type ProgressEvent =
  | { requestId: number; load: LoadProgress }
  | { requestId: number; explain: ExplainProgress }
  | { requestId: number; metrics: MetricsProgress }
  | { requestId: number; gallery: GalleryProgress };

/** Sent with `postMessage` (outside Comlink) when the worker cannot go on: the client restarts it. */
export interface WorkerFatalMessage {
  type: 'studio-fatal';
  code: 'DEVICE_LOST' | 'WORKER_CRASHED';
  reason: string;
  /**
   * Present when the call that died must not be retried (a WebAssembly trap: the same input would
   * trap again): the call fails with this error once the new worker has the model and image back.
   */
  error?: { code: string; message: string };
}

/** Settings the page hands to every worker it starts. */
export interface WorkerOptions {
  /** Memory budget for MODEL_TOO_LARGE (default: from navigator.deviceMemory, else 1 GB); the page's `?memoryBudgetMb=`. */
  memoryBudgetMb?: number;
  /** Committed-state versions start above this (a restarted worker continues the page's count). */
  firstVersion?: number;
  /** Tests (`?testLoadDelayMs=`): every model load waits this long first, so that a test can act while it is in flight. */
  testLoadDelayMs?: number;
  /** WASM threads (the page's `?threads=`; 1 = single-threaded); default: one per core when cross-origin isolated. */
  threads?: number;
  /** Tests (`?testThreadedStartMs=`): the threaded WASM build's start limit, so that a test can see the single-threaded fallback. */
  testThreadedStartMs?: number;
}

export interface StudioWorkerApi {
  /**
   * The one progress channel of the session (a Comlink proxy handed over once): loads and costly
   * explanations report through it with their request id. One channel, not a proxy per call — each
   * proxy is a MessagePort that lives until both sides have collected it.
   */
  listen(listener: (event: ProgressEvent) => void): Promise<void>;
  /** Pick a backend (or the one asked for) and say why; `avoid` = backends that just failed (tried last). */
  init(preferred?: BackendName | null, avoid?: BackendName[], options?: WorkerOptions): Promise<BackendInfo>;
  /** Hand over the panel canvases once. */
  attachCanvases(canvases: Partial<Record<PanelName, OffscreenCanvas>>): Promise<void>;
  /** Anything dropped/picked/pasted: model files, zips, folders' files and/or images, told apart by content and name. */
  openFiles(requestId: number, files: TransferredFile[], options?: OpenOptions): Promise<DroppedResult>;
  /** Load the built-in demo (fetched from the app's own origin). */
  openDemo(requestId: number, options?: DemoOptions): Promise<DroppedResult>;
  /** The demo's samples (from demo/samples/index.json); [] when there is none. */
  demoSamples(): Promise<DemoSample[]>;
  /** Explain and draw the grid; costly methods report their progress through `listen` (newest request wins, as always). */
  explain(requestId: number, options: ExplainOptions, grid?: GridSpec): Promise<ExplainSummary>;
  /** Hand over the live view's canvas (again when live mode reopens). */
  attachLiveCanvas(canvas: OffscreenCanvas): Promise<void>;
  /**
   * Live mode: explain one camera frame (transferred, closed after use) with a single-pass method at
   * the chosen layer and class, and draw it on the live canvas. A newer frame cancels one in flight.
   */
  explainFrame(requestId: number, frame: ImageBitmap, options: ExplainOptions): Promise<LiveFrameSummary>;
  /** Recolour the current maps without recomputing. */
  setView(view: ViewOptions): Promise<void>;
  cancel(requestId: number): void;
  /** PNG of the panels side by side plus a caption strip, and `extras` (the plots shown) after the panels. */
  exportPng(caption: string[], extras?: ExtraPanel[]): Promise<Blob>;
  /**
   * Faithfulness of the maps on screen (the last explanation, methods grid), with the random and
   * centre-Gaussian maps as references; a newer explanation or measurement cancels it.
   */
  faithfulness(requestId: number, options: FaithfulnessOptions): Promise<FaithfulnessResult>;
  /** The randomisation sanity check of the last explanation's methods, on copies of the weights. */
  sanityCheck(requestId: number, options: SanityOptions): Promise<SanitySummary>;
  /** One panel redrawn for the large view, its longer side `longSide` pixels (see LargeViewImages). */
  largeView(key: PanelName, longSide: number): Promise<LargeViewImages>;
  /** PNG of the large view as shown (frame: size, zoom, centre, wipe; drawn from `largeView(key, longSide)`'s pixels) plus a caption strip. */
  exportLargeView(key: PanelName, frame: ViewFrame, longSide: number, caption: string[]): Promise<Blob>;
  /** The current model as TF.js files (model.json, weights.bin, metadata.json with its labels): the in-browser converter. */
  exportTfjs(): Promise<ExportedModelFile[]>;
  /** tfjs memory in the worker (leak checks). */
  memory(): Promise<{ numTensors: number; numBytes: number; wasmHeapBytes?: number; jsHeapBytes?: number }>;
  /** The pixels last drawn on each panel (tests; transferred canvases cannot be read from the page). */
  inspectPanels(): Promise<Partial<Record<PanelName, PanelImage>>>;
  /** Tests: report a WebGPU device loss as if the GPU had gone away. */
  simulateDeviceLossForTest(): void;
  /** Answers at once when the worker's event loop is free (the client's watchdog). */
  ping(): Promise<number>;
  /** Tests: run a real WebAssembly `unreachable` trap inside the worker's error path. */
  trapForTest(): Promise<void>;
  /** Tests: block the worker's thread for `ms` (a hung computation, for the watchdog). */
  hangForTest(ms: number): Promise<void>;
  /** The model (and image) last dropped, from this browser's IndexedDB cache; null when there is none. */
  restoreCached(requestId: number, options?: OpenOptions): Promise<DroppedResult | null>;
  /** Empty the IndexedDB model cache. */
  forgetCachedModels(): Promise<void>;
  /** Time forward passes and explanations of the current model and image in this worker (`npm run bench`). */
  benchmark(requestId: number, spec: BenchSpec): Promise<BenchResult>;

  /**
   * Explain every gallery image (newest run wins: a new run cancels the one in flight): decode and
   * explain in batches (never more than one batch decoded at once), each batch's items reported on
   * the progress channel as they finish. Resolves when all are done; CANCELLED when cancelled.
   */
  galleryRun(requestId: number, options: GalleryRunOptions): Promise<GalleryRunResult>;
  /** Pause or resume the run in flight (between batches). */
  galleryPause(paused: boolean): Promise<void>;
  /** Per-class mean maps and mean images of the last run. */
  gallerySummary(view: ViewOptions): Promise<GalleryClassSummary[]>;
  /** A contact sheet PNG of these gallery images (thumbnails with their overlays, captioned), in this order. */
  galleryContactSheet(indices: number[], caption: string[], view: ViewOptions): Promise<Blob>;
  /** A zip: results.csv (every image of `indices`) and one overlay PNG per explained image. */
  galleryExportZip(requestId: number, indices: number[], view: ViewOptions): Promise<Blob>;
  /** Gallery image `index` as a file (the page opens it in the single-image view like a dropped image). */
  galleryFile(index: number): Promise<TransferredFile>;
  /** Tests / the bench: the gallery images, set directly (as a drop of several images would). */
  gallerySetFiles(files: TransferredFile[]): Promise<GalleryOpened>;
}
