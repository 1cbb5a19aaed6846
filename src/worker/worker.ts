/**
 * The computation worker: holds the model, the image and the last maps; explains, recolours and
 * draws into the transferred panel canvases. Exposed to the page through Comlink (see api.ts).
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
import { notice, studioError, toStudioError, type StudioNotice } from '../shared/errors';
import type { BackendInfo, BackendName, ExplainOptions, ExplainProgress, ExplainResult, Heatmap, LoadProgress, MethodMap, ResizeMode, ViewOptions } from '../shared/types';
import { CLASSIC_METHODS, isMethodId, methodLabel, type MethodId } from '../shared/methods';
import type { FaithfulnessOptions, SanityOptions } from '../shared/metrics';
import { classProbability, measureFaithfulness } from '../engine/metrics/measure';
import { scoreFaithfulness } from '../engine/metrics/faithfulness';
import { preprocessImage, resolvePreprocess } from '../engine/preprocess';
import { sanityCheck } from '../engine/metrics/sanity';
import { fromBrowserFile, fromBytes, type InputFile } from '../engine/files';
import { classifyFiles } from '../engine/formats/index';
import { cropBox } from '../engine/preprocess';
import { loadModel, type LoadedModel } from '../engine/model';
import { registerFastWasmGradients } from '../engine/kernels/wasm-gradients';
import { yieldToEvents } from '../engine/methods/context';
import { exportLayersModelAsTfjs } from '../engine/formats/export-tfjs';
import { drawPanel, drawRegion, exportGridPng, renderMethodPanel, type ExportPanel } from '../render/composite';
import { blankPanel, DISPLAY_LONG_SIDE, displaySize, type PanelPixels } from '../render/pixels';
import { exportLargeViewPng } from '../render/large-view-export';
import { methodPictureAt } from '../render/upsample';
import type { ViewFrame } from '../render/large-view';
import type {
  BenchCase,
  BenchCaseResult,
  KernelProfile,
  BenchSpec,
  CommittedState,
  DemoOptions,
  DemoSample,
  DroppedResult,
  GalleryOpened,
  GalleryRunOptions,
  ExplainSummary,
  ExtraPanel,
  SanitySummary,
  GridSpec,
  ImageInfo,
  OpenOptions,
  OpenPart,
  PanelImage,
  PanelInfo,
  PanelName,
  ProgressEvent,
  LargeViewImages,
  StudioWorkerApi,
  TransferredFile,
  WorkerFatalMessage,
  WorkerOptions,
} from './api';
import { layerPanelKey } from '../shared/panels';
import { activeGpuDevice, initBackend, WasmThreadsFailed } from './backend';
import { checkModelSize, defaultMemoryBudgetMb } from '../engine/formats/memory-estimate';
import { decodeImage, type DecodedImage } from './image-decode';
import { demoSamplePath, parseSamples } from './demo-samples';
import { forgetAll, forgetCurrent, loadCurrent, rememberImage, rememberModel, type CachedFile, type RestoredModel } from './model-cache';
import { OpenCoordinator, type Loaders, type OpenTicket } from './open-coordinator';
import { isWasmTrap, trapNow } from './wasm-trap';
import { Gallery } from './gallery';
import { LiveSession } from './live';

const live = new LiveSession();
/** The benchmark's live session: renders frames like live mode, onto no canvas. */
const benchLive = new LiveSession();
/** The live frame in flight: a newer one aborts it (frames are dropped, never queued). */
let liveFrameId: number | null = null;

type Progress = ((p: LoadProgress) => void) | undefined;

// ---- state -------------------------------------------------------------------------------------
let backend: BackendInfo | null = null;
let model: LoadedModel | null = null;
let image: DecodedImage | null = null;
let view: ViewOptions = { colormap: 'turbo', opacity: 0.5, threshold: 0 };
/** The grid's canvases, by panel key (the page hands over a new set when the grid changes). */
let canvases = new Map<PanelName, OffscreenCanvas>();
/** One drawn cell of the grid: its map (kept to recolour without recomputing), pixels and title. */
interface Cell {
  info: PanelInfo;
  map: MethodMap;
  title: string;
  pixels: PanelPixels;
}
/** What the panels show: the original (the model's view of the image) and the last explanation's cells. */
let panels: { original: PanelPixels; cells: Cell[] } | null = null;
/** What the cells on screen explain (the class and the options they were made with): the metrics measure them. */
let explained: { classIndex: number; options: ExplainOptions; grid: GridSpec['mode'] } | null = null;
/** The long side of the sanity check's strip pictures, in pixels. */
const STRIP_LONG_SIDE = 96;
/** The crop the panels were drawn with (the large view draws the same region, larger). */
let panelsResize: ResizeMode = 'stretch';
/** Every call in flight that can be cancelled, by request id. */
const controllers = new Map<number, AbortController>();
const explainIds = new Set<number>();
/** Explanations run one at a time (a new one aborts the old, then waits for it to stop). */
let explainChain: Promise<unknown> = Promise.resolve();
/** Rendering + drawing run one at a time, each reading the latest state, so panels never mix. */
let drawChain: Promise<unknown> = Promise.resolve();
let demoLoaded = false;
/** The gallery's images and results (a drop of several images); its runs, newest wins, one at a time. */
const gallery = new Gallery();
const galleryRunIds = new Set<number>();
let galleryChain: Promise<unknown> = Promise.resolve();

function abortGalleryRuns(): void {
  for (const id of galleryRunIds) controllers.get(id)?.abort();
}
/** Above this estimate a dropped model is announced as MODEL_TOO_LARGE before its weights are read. */
let memoryBudgetMb = defaultMemoryBudgetMb((self.navigator as Navigator & { deviceMemory?: number }).deviceMemory);
/** Tests only (?testLoadDelayMs=): a model load waits this long first, so a test can act while it is in flight. */
let testLoadDelayMs = 0;

/** Wait `ms`, or stop with CANCELLED when `signal` aborts. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ms <= 0) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(studioError('CANCELLED'))), { once: true });
  });
}

// ---- helpers -----------------------------------------------------------------------------------
const OOM_PATTERN = /out of memory|\bOOM\b|could not allocate|allocation failed|Array buffer allocation|Aborted\(/i;

function postFatal(code: WorkerFatalMessage['code'], reason: string, error?: { code: string; message: string }): void {
  const message: WorkerFatalMessage = { type: 'studio-fatal', code, reason, ...(error ? { error: { code: error.code, message: error.message } } : {}) };
  self.postMessage(message);
}

/** Errors cross Comlink as plain `{ code, message, detail }` (Comlink would drop a StudioError's code). */
function plainError(e: unknown): { code: string; message: string; detail?: unknown } {
  const err = toStudioError(e);
  let detail: unknown;
  try {
    detail = err.detail === undefined ? undefined : JSON.parse(JSON.stringify(err.detail));
  } catch {
    detail = undefined;
  }
  return { code: err.code, message: err.message, detail };
}

/**
 * Every API call runs through here: errors become plain coded objects. Out of memory ends the worker
 * (the client restarts it and retries). A WebAssembly trap ends it too, without a retry: the backend's
 * memory may be corrupted (every later model would fail), and the same input would trap again — the
 * call fails with BACKEND_TRAPPED once the new worker has the model and image back.
 */
async function guard<T>(run: () => Promise<T>, during = 'working'): Promise<T> {
  try {
    return await run();
  } catch (e) {
    // The client answers this one by starting a single-threaded worker: its text (a pthread's abort,
    // an allocation failure) must not be taken for a trap or an out-of-memory crash first.
    if ((e as { code?: unknown })?.code === 'WASM_THREADS_FAILED') throw plainError(e);
    const reason = e instanceof Error ? e.message : String((e as { message?: unknown })?.message ?? e);
    if (isWasmTrap(e)) {
      const error = plainError(studioError('BACKEND_TRAPPED', { reason, during }));
      postFatal('WORKER_CRASHED', `WebAssembly trap: ${reason}`, error);
      throw error;
    }
    if (OOM_PATTERN.test(reason)) postFatal('WORKER_CRASHED', `out of memory: ${reason}`);
    throw plainError(e);
  }
}

function register(requestId: number): AbortController {
  const controller = new AbortController();
  controllers.set(requestId, controller);
  return controller;
}

function unregister(requestId: number): void {
  controllers.delete(requestId);
  explainIds.delete(requestId);
  galleryRunIds.delete(requestId);
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw studioError('CANCELLED');
}

/** The session's progress channel (api.listen): one Comlink proxy for every request's progress. */
let progressListener: ((event: ProgressEvent) => void) | null = null;

function sendProgress(event: ProgressEvent): void {
  const listener = progressListener;
  if (!listener) return;
  // A Comlink proxy returns a promise; progress is best effort and must never fail the request.
  void Promise.resolve()
    .then(() => listener(event))
    .catch(() => undefined);
}

/** Load progress of request `requestId`, for the page. */
function loadProgressOf(requestId: number): (p: LoadProgress) => void {
  return (load) => sendProgress({ requestId, load });
}


function currentResize(options?: ExplainOptions): ResizeMode {
  return options?.preprocess?.resize ?? model?.summary.preprocess.resize ?? 'stretch';
}

/**
 * The model's view of the current image at display size: the engine's crop box (the whole image
 * for 'stretch', the centred model-aspect region for 'center-crop'), longer side 320 px. All four
 * panels show this region, so the maps line up with what the model saw.
 */
function originalPanel(resize: ResizeMode, longSide?: number): PanelPixels | null {
  if (!image) return null;
  const [modelHeight, modelWidth] = model ? model.summary.imageSize : [image.raw.height, image.raw.width];
  const region = cropBox(image.raw, [modelHeight, modelWidth], resize);
  const size = displaySize(region.width, region.height, longSide);
  return drawRegion(image.canvas, region, size.width, size.height);
}

/** Pixels for a panel key: the original, an explained cell, or a blank panel the size of the original. */
function panelPixels(key: PanelName): PanelPixels | null {
  if (!panels) return null;
  if (key === 'original') return panels.original;
  return panels.cells.find((c) => c.info.key === key)?.pixels ?? blankPanel(panels.original.width, panels.original.height);
}

function drawAll(which: Iterable<PanelName> = canvases.keys()): void {
  for (const key of which) {
    const canvas = canvases.get(key);
    const pixels = panelPixels(key);
    if (canvas && pixels) drawPanel(canvas, pixels);
  }
}

function enqueueDraw<T>(step: () => Promise<T>): Promise<T> {
  const run = drawChain.then(step);
  drawChain = run.catch(() => undefined);
  return run;
}

/** After a new model or image: the old maps no longer apply; show the new original, blank the rest. */
function resetPanels(): Promise<void> {
  return enqueueDraw(async () => {
    panelsResize = currentResize();
    const original = originalPanel(panelsResize);
    panels = original ? { original, cells: [] } : null;
    explained = null;
    drawAll();
  });
}

/** A panel's title: the method, and the layer when the grid compares layers. */
function cellTitle(info: PanelInfo, grid: GridSpec['mode']): string {
  const method = methodLabel(info.method);
  if (grid !== 'layers' || info.layerPaths.length === 0) return method;
  const layer = info.layerPaths.map((p) => p.split('/').pop()).join(' + ');
  return `${method} · ${layer}`;
}

/**
 * The maps the grid shows: in the methods grid, every requested method at the chosen layer (one
 * explanation); in the layers grid, the first method at each layer (one backward pass each: the
 * forward pass is cached). Returns the first explanation (predictions, class) and the cells.
 */
async function explainGrid(
  loaded: LoadedModel,
  raw: DecodedImage['raw'],
  options: ExplainOptions,
  grid: GridSpec,
  signal: AbortSignal,
  onProgress: ((p: ExplainProgress) => void) | undefined,
): Promise<{ result: ExplainResult; cells: { info: PanelInfo; map: MethodMap }[] }> {
  const requested = options.methods?.length ? options.methods : [...CLASSIC_METHODS];
  const cellOf = (key: PanelName, method: MethodId, map: MethodMap | undefined) =>
    map ? [{ info: { key, method, layerPaths: map.layerPaths, output: map.kind, settings: map.settings, ...(map.kind === 'heatmap' ? { rawMax: map.rawMax } : {}) }, map }] : [];
  if (grid.mode === 'methods' || grid.layers.length === 0) {
    const result = await loaded.explain(raw, { ...options, methods: requested }, signal, onProgress);
    return { result, cells: requested.flatMap((m) => cellOf(m, m, result.maps[m])) };
  }
  const method = requested[0]!;
  let first: ExplainResult | null = null;
  const cells: { info: PanelInfo; map: MethodMap }[] = [];
  for (const [i, layerPath] of grid.layers.entries()) {
    if (i > 0) await yieldToEvents(); // the watchdog's ping and a newer request get in between layers
    throwIfAborted(signal);
    const result = await loaded.explain(raw, { ...options, methods: [method], layerPath, layerPaths: undefined }, signal, (p) =>
      onProgress?.({ ...p, done: i, total: grid.layers.length, fraction: (i + p.fraction) / grid.layers.length }),
    );
    first ??= result;
    cells.push(...cellOf(layerPanelKey(i), method, result.maps[method]));
  }
  return { result: first!, cells };
}

function imageInfo(decoded: DecodedImage): ImageInfo {
  return { name: decoded.name, width: decoded.raw.width, height: decoded.raw.height, notices: decoded.notices };
}

// ---- opening: what the worker holds, and the rules for opens in flight ---------------------------
/** Where a part came from: files (dropped now), the demo, or this browser's cache (already stored). */
type OpenSource = 'files' | 'demo' | 'cache';

interface ModelPart {
  loaded: LoadedModel;
  token: string;
  ignored: string[];
  source: OpenSource;
  files: InputFile[];
}

interface ImagePart {
  decoded: DecodedImage;
  token: string;
  source: OpenSource;
  file: InputFile | null;
}

/** Tokens of the committed model and image, and the version the page compares (see CommittedState). */
let modelToken: string | null = null;
let imageToken: string | null = null;
let modelIgnored: string[] = [];
let imageFile: InputFile | null = null;
let stateVersion = 0;

function committedState(): CommittedState {
  return {
    version: stateVersion,
    model: model && modelToken !== null ? { token: modelToken, summary: model.summary, ignored: modelIgnored } : null,
    image: image && imageToken !== null ? { token: imageToken, info: imageInfo(image) } : null,
  };
}

/** Swap in what the coordinator decided; the old model is freed only once the new one is in. */
async function commitParts(change: { model?: ModelPart; image?: ImagePart }): Promise<void> {
  // An explanation still running uses the old model and image: stop it before swapping them out.
  for (const id of explainIds) controllers.get(id)?.abort();
  await explainChain;
  // A gallery run uses the old model too: it stops (the page starts a new run for the new model).
  if (change.model) {
    abortGalleryRuns();
    await galleryChain;
  }
  if (change.model) {
    const old = model;
    model = change.model.loaded;
    modelToken = change.model.token;
    modelIgnored = change.model.ignored;
    old?.dispose();
    demoLoaded = change.model.source === 'demo';
  }
  if (change.image) {
    image = change.image.decoded;
    imageToken = change.image.token;
    imageFile = change.image.file;
  }
  stateVersion++;
  await resetPanels();
  rememberCommitted(change);
}

const opens = new OpenCoordinator<ModelPart, ImagePart>({
  commit: commitParts,
  discardModel: (part) => part.loaded.dispose(),
});

/** Progress of a part's load that stops it (at its next phase) once a newer open superseded it. */
function partProgress(signal: AbortSignal, onProgress: Progress): (p: LoadProgress) => void {
  return (p) => {
    if (signal.aborted && p.phase !== 'done') throw studioError('CANCELLED');
    onProgress?.(p);
  };
}

/** The result an open hands back: what it brought, what was superseded, and the state now. */
function openResult(outcome: { model?: ModelPart; image?: ImagePart; cancelled: OpenPart[] }, names: Record<OpenPart, string>, notices: StudioNotice[]): DroppedResult {
  const result: DroppedResult = { notices, state: committedState() };
  if (outcome.model) result.model = { summary: outcome.model.loaded.summary, ignored: outcome.model.ignored };
  if (outcome.image) result.image = imageInfo(outcome.image.decoded);
  if (outcome.cancelled.length) result.cancelled = outcome.cancelled.map((part) => ({ part, name: names[part] }));
  return result;
}

/** The name a person knows a dropped model by: its model.json's folder or file, else the first model file. */
function modelFilesName(files: InputFile[]): string {
  const main = files.find((f) => /\.(json|h5|hdf5|keras)$/i.test(f.name)) ?? files[0];
  return main ? main.path || main.name : 'model';
}

// ---- demo --------------------------------------------------------------------------------------
function demoUrl(path: string): string {
  const base = import.meta.env.BASE_URL || '/';
  // A relative base ('./') is relative to the page; the built worker lives one level down, in assets/.
  const relativeTo = base.startsWith('/') || /^[a-z]+:/i.test(base) ? self.location.href : new URL('../', self.location.href).href;
  return new URL(`${base}demo/${path}`, relativeTo).href;
}

async function fetchDemo(path: string, optional = false): Promise<Uint8Array | null> {
  let response: Response;
  try {
    response = await fetch(demoUrl(path));
  } catch (e) {
    throw studioError('DEMO_UNAVAILABLE', { file: path, reason: e instanceof Error ? e.message : String(e) });
  }
  // A single-page-app server answers a missing file with index.html: that is a 404 too.
  const missing = !response.ok || (/text\/html/i.test(response.headers.get('content-type') ?? '') && !path.endsWith('.html'));
  if (missing) {
    if (optional) return null;
    throw studioError('DEMO_UNAVAILABLE', { file: path, reason: response.ok ? 'not found' : `HTTP ${response.status}` });
  }
  return new Uint8Array(await response.arrayBuffer());
}

async function loadDemoSamples(): Promise<DemoSample[]> {
  const bytes = await fetchDemo('samples/index.json', true);
  if (!bytes) return [];
  try {
    return parseSamples(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    return [];
  }
}

/** `progress` is called synchronously (it may throw CANCELLED to stop the load: see partProgress). */
async function loadDemoModel(progress: (p: LoadProgress) => void): Promise<LoadedModel> {
  const modelJson = await fetchDemo('model.json');
  if (!modelJson) throw studioError('DEMO_UNAVAILABLE', { file: 'model.json', reason: 'missing' });
  let paths: string[];
  try {
    const manifest = (JSON.parse(new TextDecoder().decode(modelJson)) as { weightsManifest?: { paths?: string[] }[] }).weightsManifest ?? [];
    paths = manifest.flatMap((group) => group.paths ?? []);
  } catch (e) {
    throw studioError('DEMO_UNAVAILABLE', { file: 'model.json', reason: e instanceof Error ? e.message : String(e) });
  }
  const files: InputFile[] = [fromBytes('model.json', modelJson)];
  for (const path of paths) files.push(fromBytes(path, (await fetchDemo(path)) as Uint8Array));
  const metadata = await fetchDemo('metadata.json', true);
  if (metadata) files.push(fromBytes('metadata.json', metadata));
  return loadModel(files, { onProgress: progress });
}

// ---- the model cache (IndexedDB) ---------------------------------------------------------------
/** The last cache write in flight (the bench waits for it: hashing and storing a big model takes time). */
let remembering: Promise<void> = Promise.resolve();

async function asCachedFile(file: InputFile): Promise<CachedFile> {
  const bytes = await file.bytes();
  const copy = bytes.slice().buffer as ArrayBuffer;
  return file.path && file.path !== file.name ? { name: file.name, path: file.path, bytes: copy } : { name: file.name, bytes: copy };
}

/**
 * After a commit: a dropped model is kept with the image now on screen; a new image alone is kept for
 * the cached model; the demo clears the cache (a reload opens the demo again, not an older drop).
 * Best effort: a browser without IndexedDB still works.
 */
function rememberCommitted(change: { model?: ModelPart; image?: ImagePart }): void {
  const remember = async () => {
    try {
      if (change.model?.source === 'demo') {
        await forgetCurrent();
        return;
      }
      const keptImage = imageFile ? await asCachedFile(imageFile) : undefined;
      if (change.model?.source === 'files') await rememberModel(change.model.loaded.summary.name, await Promise.all(change.model.files.map(asCachedFile)), keptImage);
      else if (!change.model && change.image?.source === 'files' && !demoLoaded && keptImage) await rememberImage(keptImage);
    } catch (e) {
      console.warn('the model could not be kept in this browser (IndexedDB):', e instanceof Error ? e.message : e);
    }
  };
  remembering = remembering.then(remember);
}

/**
 * Open dropped files (or the cache's) under a ticket taken when the call arrived: sort them, then load
 * the model and decode the image as parts of the coordinator (see open-coordinator.ts).
 */
async function openFileList(
  ticket: OpenTicket,
  requestId: number,
  files: TransferredFile[],
  onProgress: Progress,
  options: OpenOptions | undefined,
  source: OpenSource,
): Promise<DroppedResult> {
  const { signal } = register(requestId);
  try {
    let modelFiles: InputFile[];
    let images: InputFile[];
    let notices: StudioNotice[];
    let ignored: string[];
    try {
      onProgress?.({ phase: 'reading', message: `Reading ${files.length} file${files.length === 1 ? '' : 's'}` });
      const classified = await classifyFiles(files.map((f) => fromBrowserFile(f.file, f.path)));
      throwIfAborted(signal);
      modelFiles = options?.only === 'image' ? [] : classified.modelFiles;
      images = options?.only === 'model' ? [] : classified.images;
      notices = [...classified.problems, ...classified.ignored.map((f) => notice('UNKNOWN_FILE', { file: f.path || f.name }))];
      ignored = classified.ignored.map((f) => f.path || f.name);
      if (modelFiles.length === 0 && images.length === 0) throw studioError('NO_MODEL_FILE');
    } catch (e) {
      opens.abandon(ticket);
      throw e;
    }
    const token = options?.token ?? `worker-${requestId}`;
    // Several images (a folder, a zip, a multiple drop): the gallery takes them all; the single view keeps its image.
    let galleryOpened: GalleryOpened | undefined;
    if (images.length > 1) {
      abortGalleryRuns();
      galleryOpened = gallery.setFiles(images);
      images = [];
    }
    const imageFile = images[0] ?? null;
    const loaders: Loaders<ModelPart, ImagePart> = {};
    if (modelFiles.length) {
      loaders.model = async (partSignal) => {
        await delay(testLoadDelayMs, partSignal);
        // Said before any weight is read: a model too large may take the worker down while loading.
        const tooLarge = await checkModelSize(modelFiles, memoryBudgetMb);
        if (tooLarge) onProgress?.({ phase: 'reading', message: tooLarge.message, notice: tooLarge });
        const loaded = await loadModel(modelFiles, { onProgress: partProgress(partSignal, onProgress) });
        return { loaded, token, ignored, source, files: modelFiles };
      };
    }
    if (imageFile) loaders.image = async () => ({ decoded: await decodeImage(imageFile), token, source, file: imageFile });
    if (!loaders.model && !loaders.image) opens.abandon(ticket);
    const outcome = loaders.model || loaders.image ? await opens.run(ticket, loaders, signal) : { cancelled: [] };
    onProgress?.({ phase: 'done', message: 'Loaded' });
    const result = openResult(outcome, { model: modelFilesName(modelFiles), image: imageFile ? imageFile.path || imageFile.name : '' }, notices);
    return galleryOpened ? { ...result, gallery: galleryOpened } : result;
  } finally {
    unregister(requestId);
  }
}


/** Longest side the large view is drawn at (a 4k screen's view; zooming past it shows the pixels). */
const LARGE_VIEW_MAX_SIDE = 2048;

/** One panel redrawn at the large view's size: the original, the method's overlay over it, and its map. */
async function largeViewPixels(key: PanelName, longSide: number): Promise<{ title: string; original: PanelPixels; overlay: PanelPixels | null; map: Heatmap | null }> {
  await drawChain; // the latest recolour is in the picture
  if (!panels) throw studioError('NO_IMAGE');
  const side = Math.round(Math.min(LARGE_VIEW_MAX_SIDE, Math.max(DISPLAY_LONG_SIDE, longSide)));
  const original = originalPanel(panelsResize, side);
  if (!original) throw studioError('NO_IMAGE');
  if (key === 'original') return { title: 'Original', original, overlay: null, map: null };
  const cell = panels.cells.find((c) => c.info.key === key);
  if (!cell) throw studioError('EXPORT_FAILED', { reason: `the panel ${key} has nothing drawn yet` });
  const map = cell.map.kind === 'heatmap' ? cell.map.upsampled : cell.map.saliency;
  // Plain JS at this size: the tfjs path took seconds on WASM at 1280² (render/upsample.ts).
  return { title: cell.title, original, overlay: methodPictureAt(original, cell.map, view), map };
}

const api: StudioWorkerApi = {
  init(preferred?: BackendName | null, avoid?: BackendName[], options?: WorkerOptions) {
    return guard(async () => {
      if (options?.memoryBudgetMb && options.memoryBudgetMb > 0) memoryBudgetMb = options.memoryBudgetMb;
      if (options?.firstVersion && options.firstVersion > stateVersion) stateVersion = options.firstVersion;
      testLoadDelayMs = options?.testLoadDelayMs ?? 0;
      try {
        backend = await initBackend(preferred, avoid ?? [], options?.threads, options?.testThreadedStartMs);
      } catch (e) {
        if (e instanceof WasmThreadsFailed) throw studioError('WASM_THREADS_FAILED', { threads: e.threads, reason: e.message });
        throw studioError('BACKEND_FAILED', { backend: preferred ?? 'any', reason: e instanceof Error ? e.message : String(e) });
      }
      if (backend.name === 'wasm') registerFastWasmGradients();
      const device = activeGpuDevice();
      const name = backend.name;
      void device?.lost.then((info) => {
        if (tf.getBackend() === name && info.reason !== 'destroyed') postFatal('DEVICE_LOST', info.message || info.reason || 'unknown');
      });
      return backend;
    });
  },

  async attachCanvases(transferred) {
    // The page's whole grid: canvases of panels no longer shown are dropped.
    canvases = new Map(Object.entries(transferred).filter((entry): entry is [string, OffscreenCanvas] => !!entry[1]));
    drawAll();
  },

  async listen(listener: (event: ProgressEvent) => void) {
    progressListener = listener;
  },

  openFiles(requestId: number, files: TransferredFile[], options?: OpenOptions) {
    const ticket = opens.begin(); // in arrival order, before anything is awaited
    return guard(() => openFileList(ticket, requestId, files, loadProgressOf(requestId), options, 'files'), 'opening files');
  },

  openDemo(requestId: number, options?: DemoOptions) {
    const ticket = opens.begin();
    const onProgress = loadProgressOf(requestId);
    return guard(async () => {
      const { signal } = register(requestId);
      try {
        const wantModel = options?.only !== 'image' && !(options?.sample && demoLoaded && model && !options.only);
        const wantImage = options?.only !== 'model';
        let sample: string | undefined;
        try {
          if (wantImage) {
            sample = options?.sample ?? (await loadDemoSamples())[0]?.file;
            // No sample listed: the demo model still opens, and the user drops an image.
            if (!sample && !wantModel) throw studioError('DEMO_UNAVAILABLE', { file: 'samples/index.json', reason: 'no sample listed' });
          }
        } catch (e) {
          opens.abandon(ticket);
          throw e;
        }
        const token = options?.token ?? `worker-${requestId}`;
        const loaders: Loaders<ModelPart, ImagePart> = {};
        if (wantModel) {
          loaders.model = async (partSignal) => ({
            loaded: await loadDemoModel(partProgress(partSignal, onProgress)),
            token,
            ignored: [],
            source: 'demo',
            files: [],
          });
        }
        if (sample) {
          const file = sample;
          loaders.image = async () => {
            const bytes = await fetchDemo(demoSamplePath(file));
            return { decoded: await decodeImage(fromBytes(file, bytes as Uint8Array)), token, source: 'demo', file: null };
          };
        }
        const outcome = await opens.run(ticket, loaders, signal);
        onProgress?.({ phase: 'done', message: 'Demo loaded' });
        return openResult(outcome, { model: 'the demo', image: sample ?? '' }, []);
      } finally {
        unregister(requestId);
      }
    }, 'opening the demo');
  },

  demoSamples() {
    return guard(loadDemoSamples);
  },

  explain(requestId: number, options: ExplainOptions, grid: GridSpec = { mode: 'methods' }) {
    return guard(async () => {
      // Newest wins: abort every explanation in flight, then queue behind them.
      for (const id of explainIds) controllers.get(id)?.abort();
      const { signal } = register(requestId);
      explainIds.add(requestId);
      const run = explainChain.then(async (): Promise<ExplainSummary> => {
        throwIfAborted(signal);
        if (!model) throw studioError('NO_MODEL');
        if (!image) throw studioError('NO_IMAGE');
        // Asked about a model or image the worker no longer holds: the page has not yet applied the
        // newer open (its answer is on its way and brings a fresh request), so this one is void.
        const expected = options.expect;
        if (expected && ((expected.model != null && expected.model !== modelToken) || (expected.image != null && expected.image !== imageToken))) {
          throw studioError('CANCELLED');
        }
        const started = performance.now();
        const progress = (p: ExplainProgress) => sendProgress({ requestId, explain: p });
        const { result, cells } = await explainGrid(model, image.raw, options, grid, signal, progress);
        throwIfAborted(signal);
        const resize = currentResize(options);
        const renderStarted = performance.now();
        await enqueueDraw(async () => {
          throwIfAborted(signal);
          const original = originalPanel(resize);
          if (!original) throw studioError('NO_IMAGE');
          const drawn: Cell[] = [];
          for (const cell of cells) drawn.push({ ...cell, title: cellTitle(cell.info, grid.mode), pixels: await renderMethodPanel(original, cell.map, view) });
          throwIfAborted(signal);
          panels = { original, cells: drawn };
          explained = { classIndex: result.classIndex, options, grid: grid.mode };
          panelsResize = resize;
          drawAll();
        });
        const gradcam = result.maps.gradcam;
        return {
          requestId,
          output: result.output,
          layerPath: result.layerPath,
          classIndex: result.classIndex,
          classLabel: result.classLabel,
          score: result.score,
          probability: result.probability,
          counterfactual: result.counterfactual,
          predictions: result.predictions,
          methods: cells.map((c) => c.info.method),
          panels: cells.map((c) => c.info),
          grid: grid.mode,
          ...(gradcam?.kind === 'heatmap' ? { cam: gradcam.map, camRawMax: gradcam.rawMax } : {}),
          warnings: result.warnings,
          timings: { ...result.timings, render: performance.now() - renderStarted, total: performance.now() - started },
        };
      });
      explainChain = run.catch(() => undefined);
      try {
        return await run;
      } finally {
        unregister(requestId);
      }
    }, 'explaining');
  },

  setView(next: ViewOptions) {
    return guard(async () => {
      view = { ...next };
      // Recolour the heatmap panels from the maps kept: nothing is recomputed.
      await enqueueDraw(async () => {
        if (!panels) return;
        const original = panels.original;
        const cells: Cell[] = [];
        for (const cell of panels.cells) cells.push(cell.map.kind === 'heatmap' ? { ...cell, pixels: await renderMethodPanel(original, cell.map, view) } : cell);
        panels = { original, cells };
        drawAll(cells.filter((c) => c.map.kind === 'heatmap').map((c) => c.info.key));
      });
    });
  },

  attachLiveCanvas(canvas: OffscreenCanvas) {
    return guard(async () => live.attach(canvas));
  },

  explainFrame(requestId: number, frame: ImageBitmap, options: ExplainOptions) {
    return guard(async () => {
      if (liveFrameId !== null) controllers.get(liveFrameId)?.abort();
      liveFrameId = requestId;
      const { signal } = register(requestId);
      try {
        if (!model) {
          frame.close();
          throw studioError('NO_MODEL');
        }
        return { requestId, ...(await live.explainFrame(model, frame, options, view, signal)) };
      } finally {
        if (liveFrameId === requestId) liveFrameId = null;
        unregister(requestId);
      }
    });
  },

  cancel(requestId: number) {
    controllers.get(requestId)?.abort();
  },

  largeView(key: PanelName, longSide: number) {
    return guard(async () => {
      const { title, original, overlay, map } = await largeViewPixels(key, longSide);
      const [inputHeight, inputWidth] = model ? model.summary.imageSize : [original.height, original.width];
      // The map is the cell's own: the page gets a copy; the fresh pixels are handed over.
      const copy = map ? { width: map.width, height: map.height, data: map.data.slice() } : null;
      const result: LargeViewImages = { key, title, original, overlay, map: copy, input: { width: inputWidth, height: inputHeight } };
      const buffers = [original.data.buffer, overlay?.data.buffer, copy?.data.buffer].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
      return Comlink.transfer(result, buffers);
    });
  },

  exportLargeView(key: PanelName, frame: ViewFrame, longSide: number, caption: string[]) {
    return guard(async () => {
      // The same pixels the page was given for this view (`longSide`), placed by the same frame.
      const { original, overlay } = await largeViewPixels(key, longSide);
      return exportLargeViewPng(original, overlay, frame, caption);
    });
  },

  exportPng(caption: string[], extras: ExtraPanel[] = []) {
    return guard(async () => {
      await drawChain; // the latest recolour is in the picture
      if (!panels) throw studioError('NO_IMAGE');
      const shown: ExportPanel[] = [
        { title: 'Original', pixels: panels.original },
        ...panels.cells.map((c) => ({ title: c.title, pixels: c.pixels })),
        ...extras.map((e) => ({ title: e.title, pixels: { width: e.pixels.width, height: e.pixels.height, data: new Uint8ClampedArray(e.pixels.data) } })),
      ];
      const heatmaps = panels.cells.some((c) => c.map.kind === 'heatmap');
      return exportGridPng(shown, caption, heatmaps ? view.colormap : null);
    });
  },

  exportTfjs() {
    return guard(async () => {
      if (!model) throw studioError('NO_MODEL');
      const current = model;
      // A graph model is already TF.js files, and has no layers to write out.
      if (!current.model) throw studioError('MODEL_EXPORT_FAILED', { reason: 'a TF.js graph model is already in TF.js format (use its own files)' });
      const layersModel = current.model;
      let files;
      try {
        // Numbered placeholder labels ("class 3") are not worth writing out; a guessed preprocessing neither.
        const { labels, labelsFromFile, preprocess } = current.summary;
        files = await exportLayersModelAsTfjs(layersModel, labelsFromFile ? labels : undefined, preprocess.source === 'default' ? undefined : preprocess);
      } catch (e) {
        throw studioError('MODEL_EXPORT_FAILED', { reason: toStudioError(e).message });
      }
      // Each file owns its buffer: hand them over instead of copying (weights can be tens of MB).
      return Comlink.transfer(files, files.map((f) => f.data.buffer as ArrayBuffer));
    });
  },

  faithfulness(requestId: number, options: FaithfulnessOptions) {
    return guard(
      () =>
        runMeasurement(requestId, async (signal, current, raw, shown) => {
          const maps: Partial<Record<MethodId, { width: number; height: number; data: Float32Array }>> = {};
          for (const cell of shown.cells) maps[cell.info.method] = cell.map.kind === 'heatmap' ? cell.map.upsampled : cell.map.saliency;
          return measureFaithfulness(current, {
            image: raw, preprocess: shown.options.preprocess, classIndex: shown.classIndex, maps, options, signal,
            onProgress: (fraction) => sendProgress({ requestId, metrics: { kind: 'faithfulness', fraction } }),
          });
        }),
      'measuring faithfulness',
    );
  },

  sanityCheck(requestId: number, options: SanityOptions) {
    return guard(
      () =>
        runMeasurement(requestId, async (signal, current, raw, shown): Promise<SanitySummary> => {
          const methods = shown.cells.map((c) => c.info.method);
          const resize = currentResize(shown.options);
          const region = cropBox(raw, [current.summary.imageSize[0], current.summary.imageSize[1]], resize);
          const size = displaySize(region.width, region.height, STRIP_LONG_SIDE);
          const small = image ? drawRegion(image.canvas, region, size.width, size.height) : null;
          const strip: SanitySummary['strip'] = {};
          const result = await sanityCheck({
            loaded: current, image: raw, explain: { ...shown.options, methods }, classIndex: shown.classIndex,
            mode: options.mode, seed: options.seed, signal,
            onStep: async (fraction, _step, result) => {
              sendProgress({ requestId, metrics: { kind: 'sanity', fraction } });
              if (!small) return;
              for (const id of methods) {
                const map = result.maps[id];
                if (!map) continue;
                const pixels = await renderMethodPanel(small, map, view);
                (strip[id] ??= []).push({ width: pixels.width, height: pixels.height, data: pixels.data });
              }
            },
          });
          return { ...result, strip };
        }),
      'running the sanity check',
    );
  },

  async memory() {
    // Only with --js-flags=--expose-gc (the soak): measure after a full collection, not between two.
    (globalThis as { gc?: () => void }).gc?.();
    const m = tf.memory();
    // The WASM backend's heap only grows: its size is what a leak in WASM memory would show.
    const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
    // Chromium's (non-standard) performance.memory: the worker's JS heap, for the gallery bench's flat-memory check.
    const heap = (performance as Performance & { memory?: { usedJSHeapSize?: number } }).memory?.usedJSHeapSize;
    return {
      numTensors: m.numTensors,
      numBytes: m.numBytes,
      ...(wasm?.HEAPU8 ? { wasmHeapBytes: wasm.HEAPU8.byteLength } : {}),
      ...(typeof heap === 'number' ? { jsHeapBytes: heap } : {}),
    };
  },

  async inspectPanels() {
    await drawChain;
    const out: Record<PanelName, PanelImage> = {};
    const copy = (p: PanelPixels): PanelImage => ({ width: p.width, height: p.height, data: p.data.slice() });
    if (panels) {
      out.original = copy(panels.original);
      for (const cell of panels.cells) out[cell.info.key] = copy(cell.pixels);
      // Panels on screen with nothing drawn yet read as the blank they show.
      for (const key of canvases.keys()) out[key] ??= copy(panelPixels(key)!);
    }
    return out;
  },

  simulateDeviceLossForTest() {
    postFatal('DEVICE_LOST', 'simulated for a test');
  },

  async ping() {
    return stateVersion;
  },

  trapForTest() {
    return guard(async () => trapNow(), 'running a test trap');
  },

  async hangForTest(ms: number) {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      // Busy on purpose: a computation that never yields to the event loop.
    }
  },

  restoreCached(requestId: number, options?: OpenOptions) {
    const onProgress = loadProgressOf(requestId);
    const ticket = opens.begin();
    return guard(async (): Promise<DroppedResult | null> => {
      let restored: RestoredModel | null;
      try {
        restored = await loadCurrent();
      } catch {
        restored = null; // no IndexedDB (private mode, blocked storage): nothing to restore
      }
      if (!restored) {
        opens.abandon(ticket);
        return null;
      }
      const files: TransferredFile[] = restored.model.files.map((f) => ({ file: new File([f.bytes], f.name), path: f.path }));
      if (restored.image && options?.only !== 'model') files.push({ file: new File([restored.image.bytes], restored.image.name) });
      // Already stored: the 'cache' source is not stored again.
      const result = await openFileList(ticket, requestId, files, onProgress, options, 'cache');
      return { ...result, fromCache: true };
    }, 'restoring the cached model');
  },

  forgetCachedModels() {
    return guard(async () => {
      await forgetAll();
    });
  },

  benchmark(requestId: number, spec: BenchSpec) {
    return guard(async () => {
      const { signal } = register(requestId);
      try {
        await explainChain; // never time alongside an explanation
        await remembering; // nor alongside the IndexedDB write of the model just opened
        if (!model) throw studioError('NO_MODEL');
        if (!image) throw studioError('NO_IMAGE');
        const results = await benchCases(model, image.raw, spec, signal);
        model.clearCache();
        return { backend: tf.getBackend(), cases: results };
      } finally {
        unregister(requestId);
      }
    });
  },

  galleryRun(requestId: number, options: GalleryRunOptions) {
    return guard(async () => {
      abortGalleryRuns(); // newest wins
      const { signal } = register(requestId);
      galleryRunIds.add(requestId);
      const run = galleryChain.then(async () => {
        if (signal.aborted) throw studioError('CANCELLED');
        if (!model) throw studioError('NO_MODEL');
        return gallery.run(model, options, signal, (gallery) => sendProgress({ requestId, gallery }));
      });
      galleryChain = run.catch(() => undefined);
      try {
        return await run;
      } finally {
        unregister(requestId);
      }
    }, 'explaining the gallery');
  },

  async galleryPause(paused: boolean) {
    gallery.setPaused(paused);
  },

  gallerySummary(view: ViewOptions) {
    return guard(() => gallery.summary(view));
  },

  galleryContactSheet(indices: number[], caption: string[], view: ViewOptions) {
    return guard(() => gallery.contactSheet(indices, caption, view));
  },

  galleryExportZip(requestId: number, indices: number[], view: ViewOptions) {
    return guard(async () => {
      const { signal } = register(requestId);
      try {
        if (!model) throw studioError('NO_MODEL');
        return await gallery.exportZip(indices, view, model, signal);
      } finally {
        unregister(requestId);
      }
    }, 'exporting the gallery');
  },

  galleryFile(index: number) {
    return guard(async () => {
      const file = gallery.file(index);
      const bytes = await file.bytes();
      return { file: new File([bytes as BlobPart], file.name), path: file.path || file.name };
    });
  },

  gallerySetFiles(files: TransferredFile[]) {
    return guard(async () => {
      abortGalleryRuns();
      const { images } = await classifyFiles(files.map((f) => fromBrowserFile(f.file, f.path)));
      return gallery.setFiles(images);
    });
  },
};

/** Measurements in flight (a newer one cancels them, as a newer explanation does). */
const measurementIds = new Set<number>();

interface Shown {
  classIndex: number;
  options: ExplainOptions;
  cells: Cell[];
}

/**
 * Run a measurement of the maps on screen: queued behind the explanations (never alongside one), and
 * cancelled by a newer explanation (its maps would be stale) or a newer measurement.
 */
async function runMeasurement<T>(requestId: number, measure: (signal: AbortSignal, current: LoadedModel, raw: DecodedImage['raw'], shown: Shown) => Promise<T>): Promise<T> {
  for (const id of measurementIds) controllers.get(id)?.abort();
  const { signal } = register(requestId);
  explainIds.add(requestId);
  measurementIds.add(requestId);
  const run = explainChain.then(async () => {
    throwIfAborted(signal);
    if (!model) throw studioError('NO_MODEL');
    if (!image) throw studioError('NO_IMAGE');
    if (!panels || !explained || panels.cells.length === 0) throw studioError('METRICS_NOTHING_EXPLAINED');
    if (explained.grid !== 'methods') throw studioError('METRICS_METHODS_GRID');
    const cells = panels.cells.filter((c) => isMethodId(c.info.key));
    return measure(signal, model, image.raw, { classIndex: explained.classIndex, options: explained.options, cells });
  });
  explainChain = run.catch(() => undefined);
  try {
    return await run;
  } finally {
    measurementIds.delete(requestId);
    unregister(requestId);
  }
}

/**
 * One untimed warm-up run of every case, then `runs` rounds that time each case once, interleaved,
 * so a busy machine's slow moments spread over all cases alike instead of skewing one (see BenchCase
 * for cold vs warm).
 */
async function benchCases(loaded: LoadedModel, raw: DecodedImage['raw'], spec: BenchSpec, signal: AbortSignal): Promise<BenchCaseResult[]> {
  const classes = loaded.summary.labels.length;
  let warmCalls = 0;
  const once = async (c: BenchCase): Promise<number> => {
    const target = c.warm ? ++warmCalls % classes : 0; // warm: a new class each call, so the backward pass re-runs
    if (c.warm) await loaded.predict(raw); // untimed: the activations are cached (a cold case may have cleared them)
    else loaded.clearCache();
    if (c.methods === 'live-frame') {
      // The frame the page would grab (untimed): longer side 320 px.
      const scale = Math.min(1, 320 / Math.max(raw.width, raw.height));
      const frame = await createImageBitmap(new ImageData(new Uint8ClampedArray(raw.data), raw.width, raw.height), { resizeWidth: Math.round(raw.width * scale), resizeHeight: Math.round(raw.height * scale) });
      const t0 = performance.now();
      await benchLive.explainFrame(loaded, frame, { methods: ['gradcam'], layerPath: c.layerPath }, view, signal);
      return performance.now() - t0;
    }
    if (c.metricsSteps && c.methods !== 'forward') return timeCurves(loaded, raw, c.methods, c.layerPath, c.metricsSteps, signal);
    const t0 = performance.now();
    if (c.methods === 'forward') await loaded.predict(raw);
    else await loaded.explain(raw, { methods: c.methods, layerPath: c.layerPath, target }, signal);
    return performance.now() - t0;
  };
  for (const c of spec.cases) {
    await yieldToEvents();
    await once(c);
  }
  const results: BenchCaseResult[] = spec.cases.map((c) => ({ label: c.label, runs: [] }));
  for (let round = 0; round < spec.runs; round++) {
    for (let i = 0; i < spec.cases.length; i++) {
      // Between runs (untimed) the worker answers the watchdog's ping and a cancel.
      await yieldToEvents();
      throwIfAborted(signal);
      results[i]!.runs.push(await once(spec.cases[i]!));
    }
  }
  for (let i = 0; i < spec.cases.length; i++) {
    if (!spec.cases[i]!.profile) continue;
    await yieldToEvents();
    throwIfAborted(signal);
    results[i]!.profile = await profileKernels(() => once(spec.cases[i]!));
  }
  return results;
}

/** One run under tf.profile: where its time goes, kernel by kernel (`npm run bench -- --threads`). */
async function profileKernels(run: () => Promise<number>): Promise<KernelProfile> {
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    await run();
  });
  const wallMs = performance.now() - t0;
  const rows = new Map<string, { ms: number; calls: number }>();
  let kernelMs = 0;
  for (const k of info.kernels) {
    // "fusedConv2d__op" and the like are op scopes (a custom gradient) around kernels listed too.
    if (k.name.endsWith('__op')) continue;
    const ms = Number(k.kernelTimeMs) || 0;
    const row = rows.get(k.name) ?? { ms: 0, calls: 0 };
    row.ms += ms;
    row.calls++;
    kernelMs += ms;
    rows.set(k.name, row);
  }
  const kernels = [...rows].map(([name, r]) => ({ name, ms: Math.round(r.ms * 10) / 10, calls: r.calls })).sort((a, b) => b.ms - a.ms);
  return { wallMs: Math.round(wallMs), kernelMs: Math.round(kernelMs), kernels };
}

/** ms of the deletion + insertion curves of the first method's map (its explanation untimed). */
async function timeCurves(loaded: LoadedModel, raw: DecodedImage['raw'], methods: MethodId[], layerPath: string | undefined, steps: number, signal: AbortSignal): Promise<number> {
  const result = await loaded.explain(raw, { methods, layerPath }, signal);
  const map = result.maps[methods[0]!]!;
  const input = preprocessImage(raw, loaded.summary.imageSize, resolvePreprocess(loaded.summary.preprocess));
  try {
    const t0 = performance.now();
    await scoreFaithfulness({
      input, probability: classProbability(loaded, result.classIndex), signal,
      maps: [{ id: 'map', map: (map.kind === 'heatmap' ? map.upsampled : map.saliency).data }], options: { steps, measures: 'curves' },
    });
    return performance.now() - t0;
  } finally {
    input.dispose();
  }
}

Comlink.expose(api);
