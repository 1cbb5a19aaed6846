/**
 * Everything the page can do, as plain functions over the store and the worker client.
 * Rule for every action: on failure push a coded notice and keep what is on screen (model, image,
 * explanation); never clear state before its replacement has succeeded. CANCELLED (a newer request
 * won) is not an error and is never shown.
 */
import { studioError, toStudioError, type StudioNotice } from '../shared/errors';
import { isMethodId, methodLabel, methodsForModel, methodSettingsText, type MethodId, type MethodOptionValue } from '../shared/methods';
import type {
  BackendInfo,
  BackendName,
  ExplainOptions,
  ExplainProgress,
  PreprocessOptions,
  ViewOptions,
} from '../shared/types';
import { zipSync, type Zippable } from 'fflate';
import type { CommittedState, DroppedResult, ExplainSummary, ExportedModelFile, ExtraPanel, GridSpec, LargeViewImages, PanelName, TransferredFile } from '../worker/api';
import type { ViewFrame } from '../render/large-view';
import { createClient, type ClientEvent, type StudioClientPort } from './client-port';
import { findNode, gridLayers, leafLayers, resolveClass } from './layer-tree';
import { NOTICE_HISTORY, currentOutput, initialState, useStore, type ExplanationSlice, type MetricsSlice, type NoticeLevel, type StudioState, type UiNotice } from './store';

const BACKEND_STORAGE_KEY = 'gradcam-studio.backend';
const BACKEND_NAMES: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

let client: StudioClientPort | null = null;
let clientReady: Promise<StudioClientPort> | null = null;
let resolveClientReady: ((c: StudioClientPort) => void) | null = null;
let booted = false;
let unsubscribeClient: (() => void) | null = null;
let panelContainers: Partial<Record<PanelName, HTMLElement>> | null = null;
let panelsMounted = false;
let noticeSeq = 0;
let explainSeq = 0;
let explainsInFlight = 0;

export type ExplainOutcome = 'ok' | 'failed' | 'cancelled' | 'skipped';

/** The client, once `boot()` made it (for tests and the `window.__studio` hook). */
export function getClient(): StudioClientPort | null {
  return client;
}

export function whenClient(): Promise<StudioClientPort> {
  if (client) return Promise.resolve(client);
  if (!clientReady) clientReady = new Promise((resolve) => (resolveClientReady = resolve));
  return clientReady;
}

// ---------------------------------------------------------------- notices and busy state

export function pushNotice(n: StudioNotice | { code: null; message: string }, level: NoticeLevel): void {
  const entry: UiNotice = { id: ++noticeSeq, code: n.code, message: n.message, level, time: Date.now() };
  useStore.setState((s) => ({
    status: {
      ...s.status,
      notices: [...s.status.notices, entry].slice(-NOTICE_HISTORY),
      // An error with nothing else running is the page's outcome; while busy, the op's end decides.
      outcome: level === 'error' && s.status.pending === 0 ? 'error' : s.status.outcome,
    },
  }));
}

export function dismissNotices(): void {
  useStore.setState((s) => ({ status: { ...s.status, notices: [] } }));
}

export function isCancelled(e: unknown): boolean {
  if (e && typeof e === 'object' && 'name' in e && (e as { name: unknown }).name === 'AbortError') return true;
  return toStudioError(e).code === 'CANCELLED';
}

function begin(phase: string): void {
  useStore.setState((s) => ({ status: { ...s.status, pending: s.status.pending + 1, phase } }));
}

/** `since`: the last notice id when the operation began; only errors before it count as resolved. */
function end(outcome: 'ready' | 'error' | null, since: number): void {
  useStore.setState((s) => {
    const pending = Math.max(0, s.status.pending - 1);
    return {
      status: {
        ...s.status,
        pending,
        outcome: outcome ?? s.status.outcome,
        resolvedUpTo: outcome === 'ready' ? Math.max(s.status.resolvedUpTo, since) : s.status.resolvedUpTo,
        phase: pending === 0 ? null : s.status.phase,
        progress: pending === 0 ? null : s.status.progress,
        explainProgress: pending === 0 ? null : s.status.explainProgress,
      },
    };
  });
}

type Tracked<T> = { ok: true; value: T } | { ok: false; cancelled: boolean };

/** Run one operation with the busy indicator; a failure becomes a coded error notice. */
async function track<T>(phase: string, op: () => Promise<T>): Promise<Tracked<T>> {
  begin(phase);
  const since = noticeSeq;
  try {
    const value = await op();
    end('ready', since);
    return { ok: true, value };
  } catch (e) {
    if (isCancelled(e)) {
      end(null, since);
      return { ok: false, cancelled: true };
    }
    pushNotice(toStudioError(e).toNotice(), 'error');
    end('error', since);
    return { ok: false, cancelled: false };
  }
}

// ---------------------------------------------------------------- boot and client events

function preferredBackend(): BackendName | null {
  const fromUrl = typeof location !== 'undefined' ? new URLSearchParams(location.search).get('backend') : null;
  if (fromUrl && (BACKEND_NAMES as string[]).includes(fromUrl)) return fromUrl as BackendName;
  try {
    const saved = typeof localStorage !== 'undefined' ? localStorage.getItem(BACKEND_STORAGE_KEY) : null;
    if (saved && (BACKEND_NAMES as string[]).includes(saved)) return saved as BackendName;
  } catch {
    // Storage can be blocked (privacy settings); the automatic choice is fine then.
  }
  return null;
}

function detectShare(): boolean {
  if (typeof navigator === 'undefined' || typeof navigator.canShare !== 'function' || typeof File === 'undefined') return false;
  try {
    return navigator.canShare({ files: [new File([new Uint8Array([0])], 'gradcam.png', { type: 'image/png' })] });
  } catch {
    return false;
  }
}

function onClientEvent(e: ClientEvent): void {
  switch (e.type) {
    case 'progress':
      useStore.setState((s) => ({ status: { ...s.status, progress: e.progress, phase: e.progress.message } }));
      if (e.progress.notice) pushNotice(e.progress.notice, 'warning');
      break;
    case 'backend':
      useStore.setState((s) => ({ backend: { ...s.backend, info: e.info } }));
      break;
    case 'restarted': {
      useStore.setState((s) => ({ backend: { ...s.backend, info: e.backend } }));
      // A death the failed call reports itself (a trap, a hang) is said once, by that call.
      if (!e.reported) {
        const code = e.code ?? (/device/i.test(e.reason) ? 'DEVICE_LOST' : 'WORKER_CRASHED');
        pushNotice(studioError(code, { reason: e.reason }).toNotice(), 'warning');
      }
      // The new worker drew nothing yet: explain again unless a retried explanation is on its way.
      if (explainsInFlight === 0 && !e.retrying) void runExplain();
      break;
    }
  }
}

function mountPanelsIfReady(): void {
  if (!client || !panelContainers || panelsMounted) return;
  panelsMounted = true;
  client.mountPanels(panelContainers);
}

/**
 * The grid hands its panel containers here: once at start, and again whenever its panels change
 * (other methods, the layers grid). Given to the client when it exists; unchanged sets are ignored.
 */
export function attachPanels(containers: Partial<Record<PanelName, HTMLElement>>): void {
  const same =
    panelContainers !== null &&
    Object.keys(containers).length === Object.keys(panelContainers).length &&
    Object.entries(containers).every(([k, el]) => panelContainers?.[k] === el);
  if (same) return;
  panelContainers = containers;
  panelsMounted = false;
  mountPanelsIfReady();
}

/** Start the app: make the client, pick the backend, mount the panels, open the demo, explain. */
export async function boot(): Promise<void> {
  if (booted) return;
  booted = true;
  const started = await track('Starting…', async () => {
    const made = await createClient();
    client = made;
    resolveClientReady?.(made);
    unsubscribeClient = made.on(onClientEvent);
    exposeForTests();
    // The client keeps the containers and attaches canvases to every worker it starts.
    mountPanelsIfReady();
    useStore.setState({ canShare: detectShare() });
    const preferred = preferredBackend();
    let info: BackendInfo;
    try {
      info = await made.init(preferred);
    } catch (e) {
      if (!preferred) throw e;
      // The asked-for backend failed: say so and let the client choose.
      pushNotice(toStudioError(e).toNotice(), 'warning');
      info = await made.init(null);
    }
    useStore.setState((s) => ({ backend: { ...s.backend, info } }));
  });
  useStore.setState((s) => ({ status: { ...s.status, started: true } }));
  if (!started.ok) return;
  // The model dropped last time comes back from this browser's cache; otherwise the demo opens.
  if (await restoreCachedModel()) {
    void listDemoSamples();
    return;
  }
  const demo = await track('Opening the demo…', () => requireClient().openDemo());
  if (demo.ok && applyOpened(demo.value)) await runExplain();
  void listDemoSamples();
}

/** True when a cached model was restored (and explained, if its image came back too). */
async function restoreCachedModel(): Promise<boolean> {
  const c = requireClient();
  if (!c.restoreCached) return false;
  const restored = await track('Restoring the last model…', () => c.restoreCached!());
  if (!restored.ok || !restored.value?.model) return false;
  const changed = applyOpened(restored.value, { restored: true });
  if (changed && useStore.getState().image) await runExplain();
  return true;
}

/** Empty this browser's model cache; the model on screen stays. */
export async function forgetCachedModels(): Promise<void> {
  const c = await whenClient();
  if (!c.forgetCachedModels) return;
  const forgot = await track('Forgetting cached models…', () => c.forgetCachedModels!());
  if (forgot.ok) pushNotice({ code: null, message: 'Forgot the models cached in this browser.' }, 'info');
}

async function listDemoSamples(): Promise<void> {
  const c = client;
  if (!c?.demoSamples) return;
  try {
    useStore.setState({ demoSamples: await c.demoSamples() });
  } catch (e) {
    // Only the sample menu is missing; the app works without it.
    if (!isCancelled(e)) pushNotice(toStudioError(e).toNotice(), 'warning');
  }
}

function requireClient(): StudioClientPort {
  if (!client) throw studioError('INTERNAL', { reason: 'the worker client is not started' });
  return client;
}

function exposeForTests(): void {
  if (typeof window === 'undefined') return;
  (window as unknown as { __studio: unknown }).__studio = {
    getState: useStore.getState,
    client,
    actions: {
      forgetCachedModels, dropFiles, openDemo, selectLayer, setTarget, setCounterfactual, setView, setPreprocess, switchBackend, exportPng, exportTfjs, runExplain,
      setMethods, toggleMethod, setMethodOption, setSmoothing, setGrid, cancelExplain, share, copyImage,
    },
  };
}

// ---------------------------------------------------------------- opening files

/**
 * Show what the worker committed, if it is newer than what the screen shows. Each newly shown model
 * or image gets a fresh status line, then its warnings. Returns whether the model or image changed.
 */
function applyState(state: CommittedState, how: { restored?: boolean } = {}): boolean {
  const current = useStore.getState().committed;
  if (state.version <= current.version) return false;
  const committed = { ...current, version: state.version };
  let changed = false;
  const model = state.model;
  if (model && model.token !== current.modelToken) {
    const { summary, ignored } = model;
    const opened = how.restored ? "restored from this browser's cache" : 'opened';
    pushNotice({ code: null, message: `${summary.name}: ${opened} (${summary.format}, ${leafLayers(summary.tree).length} layers, input ${summary.imageSize.join('×')}).` }, 'info');
    for (const n of summary.warnings) pushNotice(n, 'warning');
    useStore.setState((s) => ({
      model: { summary, ignored },
      // A model without a gradient keeps only the gradient-free methods chosen (the picker says why).
      explanation: { ...s.explanation, methods: methodsForModel(s.explanation.methods, summary.gradients?.supported !== false), selectedLayerPath: summary.defaultLayerPath, target: null, counterfactual: false, output: null },
      preprocess: {},
    }));
    committed.modelToken = model.token;
    changed = true;
  }
  const image = state.image;
  if (image && image.token !== current.imageToken) {
    if (!changed || image.token !== model?.token) pushNotice({ code: null, message: `Image ${image.info.name} (${image.info.width}×${image.info.height}) opened.` }, 'info');
    for (const n of image.info.notices) pushNotice(n, 'warning');
    useStore.setState({ image: image.info });
    committed.imageToken = image.token;
    changed = true;
  }
  useStore.setState({ committed });
  return changed;
}

/** An open's answer: its notices, what a newer open superseded, then the worker's state. */
function applyOpened(result: DroppedResult, how: { restored?: boolean } = {}): boolean {
  for (const n of result.notices) pushNotice(n, 'warning');
  for (const c of result.cancelled ?? []) {
    const newer = c.part === 'model' ? 'a newer model was opened' : 'a newer image was opened';
    pushNotice({ code: null, message: `Opening ${c.name} was cancelled: ${newer}.` }, 'info');
  }
  return applyState(result.state, how);
}

/**
 * Anything dropped, picked or pasted: the worker tells models from images. Opens are independent
 * (see src/worker/open-coordinator.ts): an image opened while a model loads arrives with that model;
 * a newer model cancels an older model load, which is said in the status history.
 */
export async function dropFiles(files: TransferredFile[]): Promise<void> {
  if (!files.length) return;
  const c = await whenClient();
  const opened = await track('Opening files…', () => c.openFiles(files));
  if (!opened.ok) return;
  const gallery = opened.value.gallery;
  if (gallery) {
    // Several images: the gallery (loaded lazily: the single view does not need it) shows and explains them.
    const changed = applyOpened(opened.value);
    const { openGallery } = await import('./gallery');
    await Promise.all([openGallery(gallery), changed ? runExplain() : null]);
    return;
  }
  if (applyOpened(opened.value)) {
    await runExplain();
  } else if (!opened.value.cancelled?.length && !opened.value.model && !opened.value.image) {
    // Nothing usable: the notices (e.g. UNKNOWN_FILE) are the answer; make sure one is an error.
    if (!opened.value.notices.length) pushNotice(studioError('NO_MODEL_FILE').toNotice(), 'error');
    useStore.setState((s) => ({ status: { ...s.status, outcome: s.status.pending === 0 ? 'error' : s.status.outcome } }));
  }
}

/** Reopen the built-in demo model, with one of its samples (by file name) or the first. */
export async function openDemo(sample?: string): Promise<void> {
  const c = await whenClient();
  const demo = await track('Opening the demo…', () => c.openDemo(undefined, sample));
  if (demo.ok && applyOpened(demo.value)) await runExplain();
}

// ---------------------------------------------------------------- explaining

export function explainOptions(s: StudioState): ExplainOptions {
  return {
    layerPath: s.explanation.selectedLayerPath,
    target: s.explanation.target,
    counterfactual: s.explanation.counterfactual,
    output: s.explanation.output,
    methods: [...s.explanation.methods],
    methodOptions: { ...s.explanation.methodOptions },
    eigenSmooth: s.explanation.smoothing.eigenSmooth,
    augSmooth: s.explanation.smoothing.augSmooth,
    preprocess: { ...s.preprocess },
    // The worker answers only for the model and image on screen (else a newer open is on its way).
    expect: { model: s.committed.modelToken, image: s.committed.imageToken },
  };
}

/** What the grid shows: the methods side by side, or the first method at the grid's layers. */
export function gridSpec(s: StudioState): GridSpec {
  if (s.explanation.grid !== 'layers' || !s.model.summary) return { mode: 'methods' };
  return { mode: 'layers', layers: gridLayers(s.model.summary.tree, s.explanation.selectedLayerPath ?? s.model.summary.defaultLayerPath) };
}

/** Aborts the explanation in flight (the Cancel button); the previous one stays on screen. */
let explainController: AbortController | null = null;

export function cancelExplain(): void {
  explainController?.abort();
}

/** Explain with the current choices; the newest call wins. */
export async function runExplain(): Promise<ExplainOutcome> {
  const s = useStore.getState();
  if (!client || !s.model.summary) return 'skipped';
  if (!s.image) {
    pushNotice(studioError('NO_IMAGE').toNotice(), 'warning');
    return 'skipped';
  }
  const c = client;
  const seq = ++explainSeq;
  explainsInFlight++;
  const controller = new AbortController();
  explainController = controller;
  const onProgress = (progress: ExplainProgress) => {
    if (seq !== explainSeq) return;
    useStore.setState((st) => ({ status: { ...st.status, explainProgress: progress, phase: `${methodLabel(progress.method)}: ${Math.round(progress.fraction * 100)} %` } }));
  };
  try {
    const done = await track('Explaining…', () => c.explain(explainOptions(s), controller.signal, gridSpec(s), onProgress));
    if (seq === explainSeq) useStore.setState((st) => ({ status: { ...st.status, explainProgress: null } }));
    if (!done.ok) return done.cancelled ? 'cancelled' : 'failed';
    // A newer request was issued meanwhile: its answer is the one to show.
    if (seq !== explainSeq) return 'cancelled';
    const summary = done.value;
    for (const n of summary.warnings) pushNotice(n, 'warning');
    // The scores were of the maps now replaced.
    useStore.setState((st) => ({ explanation: { ...st.explanation, last: summary }, metrics: { ...st.metrics, faithfulness: null, sanity: null } }));
    return 'ok';
  } finally {
    explainsInFlight--;
    if (explainController === controller) explainController = null;
  }
}

/** Change one choice, explain, and put the choice back if the explanation failed. */
async function explainWith(apply: (s: StudioState) => Partial<StudioState>): Promise<ExplainOutcome> {
  const before = useStore.getState();
  const patch = apply(before);
  useStore.setState(patch);
  const outcome = await runExplain();
  if (outcome === 'failed') {
    const now = useStore.getState();
    // Only undo if nobody changed the same choice again meanwhile.
    const untouched = (Object.keys(patch) as (keyof StudioState)[]).every((k) => now[k] === patch[k]);
    if (untouched) {
      const undo: Partial<StudioState> = {};
      for (const k of Object.keys(patch) as (keyof StudioState)[]) (undo as Record<string, unknown>)[k] = before[k];
      useStore.setState(undo);
    }
  }
  return outcome;
}

export async function selectLayer(path: string): Promise<ExplainOutcome> {
  const summary = useStore.getState().model.summary;
  if (!summary) return 'skipped';
  const node = findNode(summary.tree, path);
  if (!node) {
    pushNotice(studioError('LAYER_NOT_FOUND', { path }).toNotice(), 'error');
    return 'failed';
  }
  if (!node.explainable) {
    pushNotice(studioError('LAYER_NOT_SPATIAL', { path }).toNotice(), 'error');
    return 'failed';
  }
  return explainWith((s) => ({ explanation: { ...s.explanation, selectedLayerPath: path } }));
}

/** A class index, a label or an index typed as text; null = the top-1 prediction. */
export async function setTarget(query: number | string | null): Promise<ExplainOutcome> {
  const summary = useStore.getState().model.summary;
  if (!summary) return 'skipped';
  let target: number | null = null;
  if (query !== null && !(typeof query === 'string' && query.trim() === '')) {
    const { labels } = currentOutput(summary, useStore.getState().explanation.output);
    target = resolveClass(query, labels);
    if (target === null) {
      pushNotice(studioError('CLASS_NOT_FOUND', { query: String(query), count: labels.length }).toNotice(), 'error');
      return 'failed';
    }
  }
  return explainWith((s) => ({ explanation: { ...s.explanation, target } }));
}

/** Explain another output of a multi-output model (its classes differ: the target goes back to top-1). */
export async function setOutput(output: number): Promise<ExplainOutcome> {
  return explainWith((s) => ({ explanation: { ...s.explanation, output, target: null } }));
}

export async function setCounterfactual(counterfactual: boolean): Promise<ExplainOutcome> {
  return explainWith((s) => ({ explanation: { ...s.explanation, counterfactual } }));
}

// ---------------------------------------------------------------- methods and the comparison grid

/** The methods to show, in order (at least one; unknown ids dropped). */
export async function setMethods(methods: MethodId[]): Promise<ExplainOutcome> {
  const chosen = [...new Set(methods.filter(isMethodId))];
  if (chosen.length === 0) return 'skipped';
  return explainWith((s) => ({ explanation: { ...s.explanation, methods: chosen } }));
}

/** Add or remove one method (the last one cannot be removed). */
export async function toggleMethod(method: MethodId, on: boolean): Promise<ExplainOutcome> {
  const current = useStore.getState().explanation.methods;
  const next = on ? (current.includes(method) ? current : [...current, method]) : current.filter((m) => m !== method);
  if (next.length === 0 || next.length === current.length && next.every((m, i) => m === current[i])) return 'skipped';
  return setMethods(next);
}

/** One method setting (SmoothGrad's samples, Integrated Gradients' baseline, …): re-explains. */
export async function setMethodOption(method: MethodId, name: string, value: MethodOptionValue): Promise<ExplainOutcome> {
  return explainWith((s) => ({
    explanation: { ...s.explanation, methodOptions: { ...s.explanation.methodOptions, [method]: { ...(s.explanation.methodOptions[method] ?? {}), [name]: value } } },
  }));
}

/** Eigen-smoothing and flip (test-time augmentation) smoothing for the CAM methods. */
export async function setSmoothing(partial: Partial<ExplanationSlice['smoothing']>): Promise<ExplainOutcome> {
  return explainWith((s) => ({ explanation: { ...s.explanation, smoothing: { ...s.explanation.smoothing, ...partial } } }));
}

/** Compare the chosen methods side by side, or the first of them at several layers. */
export async function setGrid(grid: ExplanationSlice['grid']): Promise<ExplainOutcome> {
  if (useStore.getState().explanation.grid === grid) return 'skipped';
  return explainWith((s) => ({ explanation: { ...s.explanation, grid } }));
}

export async function setPreprocess(partial: Partial<PreprocessOptions>): Promise<ExplainOutcome> {
  return explainWith((s) => ({ preprocess: { ...s.preprocess, ...partial } }));
}

/** Back to the model's own preprocessing defaults. */
export async function resetPreprocess(): Promise<ExplainOutcome> {
  return explainWith(() => ({ preprocess: {} }));
}

/** Recolour only: the worker redraws from the maps it has, nothing is recomputed. */
export async function setView(partial: Partial<ViewOptions>): Promise<void> {
  const view = { ...useStore.getState().view, ...partial };
  useStore.setState({ view });
  if (!client) return;
  try {
    await client.setView(view);
  } catch (e) {
    if (!isCancelled(e)) pushNotice(toStudioError(e).toNotice(), 'error');
  }
}

// ---------------------------------------------------------------- backend

export async function switchBackend(name: BackendName): Promise<void> {
  const c = await whenClient();
  useStore.setState((s) => ({ backend: { ...s.backend, switching: true } }));
  const switched = await track(`Switching to ${name}…`, () => c.init(name));
  useStore.setState((s) => ({
    backend: { info: switched.ok ? switched.value : s.backend.info, switching: false },
  }));
  if (!switched.ok) return;
  try {
    localStorage.setItem(BACKEND_STORAGE_KEY, switched.value.name);
  } catch {
    // Not remembered across visits when storage is blocked; the switch itself worked.
  }
  await runExplain();
}

// ---------------------------------------------------------------- sharing

/** The caption's class line: label, index, counterfactual, score and probability. */
function classCaption(last: ExplainSummary): string {
  return (
    `Class: ${last.classLabel} (#${last.classIndex})${last.counterfactual ? ' — counterfactual' : ''}, ` +
    `score ${last.score.toFixed(3)}, p = ${(last.probability * 100).toFixed(1)}%`
  );
}

/** The caption strip under the exported panels. */
export function exportCaption(s: StudioState): string[] {
  const last = s.explanation.last;
  const lines = [`Model: ${s.model.summary?.name ?? '—'}`];
  if (last) {
    lines.push(`Layer: ${last.layerPath ?? s.model.summary?.defaultLayerPath ?? '(default)'}`);
    lines.push(classCaption(last));
    const methods = [...new Set(last.methods)].map((m) => {
      const panel = last.panels?.find((p) => p.method === m);
      return panel ? methodSettingsText(m, panel.settings) : methodLabel(m);
    });
    lines.push(`${methods.length > 1 ? 'Methods' : 'Method'}: ${methods.join('; ')}`);
    if (last.grid === 'layers') lines.push(`Layers: ${(last.panels ?? []).flatMap((p) => p.layerPaths).join(', ')}`);
  }
  return lines;
}


/** Longest part of an export file name taken from a model or layer name (file systems cap names at 255 bytes). */
const MAX_NAME_PART = 60;

/** A short stable hash, so that two long names cut to the same prefix still give different files. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

/** `text` made safe for a file name and at most MAX_NAME_PART long (cut ones end in a hash of the whole). */
export function fileNamePart(text: string): string {
  const safe = text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'x';
  if (safe.length <= MAX_NAME_PART) return safe;
  const hash = shortHash(text);
  return `${safe.slice(0, MAX_NAME_PART - hash.length - 1)}~${hash}`;
}

/** `gradcam-<model>-<layer>.png`, with anything unsafe for a file name replaced and each part bounded. */
export function exportFileName(s: StudioState): string {
  const layer = s.explanation.last?.layerPath ?? s.model.summary?.defaultLayerPath ?? 'default';
  // The layer's own name is the informative end of a long nested path.
  const layerName = layer.length > MAX_NAME_PART ? layer.split('/').pop() || layer : layer;
  return `gradcam-${fileNamePart(s.model.summary?.name ?? 'model')}-${fileNamePart(layerName)}.png`;
}

async function makePng(): Promise<Blob | null> {
  const c = await whenClient();
  const made = await track('Making the PNG…', async () => {
    try {
      return await c.exportPng(exportCaption(useStore.getState()), exportExtras?.() ?? []);
    } catch (e) {
      const err = toStudioError(e);
      throw err.code === 'INTERNAL' ? studioError('EXPORT_FAILED', { reason: err.message }) : err;
    }
  });
  return made.ok ? made.value : null;
}

/** Save a blob through a temporary <a download>. */
function downloadBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Give the download a moment to start before the URL goes away.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function exportPng(): Promise<void> {
  const blob = await makePng();
  if (!blob) return;
  const name = exportFileName(useStore.getState());
  downloadBlob(blob, name);
  pushNotice({ code: null, message: `Saved ${name}.` }, 'info');
}

/** Whether this browser can put a PNG on the clipboard. */
export function canCopyImages(): boolean {
  return typeof ClipboardItem !== 'undefined' && typeof navigator !== 'undefined' && typeof navigator.clipboard?.write === 'function';
}

/**
 * How Share hands a picture over here: the Web Share API with the PNG file where the browser can
 * share files (phones, tablets), else a copy to the clipboard, else nothing (said when pressed).
 */
export type ShareRoute = 'share' | 'copy' | 'none';

export function shareRoute(s: StudioState = useStore.getState()): ShareRoute {
  if (s.canShare) return 'share';
  return canCopyImages() ? 'copy' : 'none';
}

async function copyBlob(blob: Blob): Promise<boolean> {
  try {
    await navigator.clipboard.write([new ClipboardItem({ 'image/png': blob })]);
    return true;
  } catch (e) {
    pushNotice(studioError('CLIPBOARD_FAILED', { reason: e instanceof Error ? e.message : String(e) }).toNotice(), 'error');
    return false;
  }
}

async function copyMadePng(make: () => Promise<Blob | null>): Promise<void> {
  if (!canCopyImages()) {
    pushNotice(studioError('CLIPBOARD_FAILED', { reason: 'this browser cannot put images on the clipboard' }).toNotice(), 'error');
    return;
  }
  const blob = await make();
  if (blob && (await copyBlob(blob))) pushNotice({ code: null, message: 'Copied the image to the clipboard.' }, 'info');
}

/** Share a PNG by the route this browser has (see ShareRoute); the caption goes along as text. */
async function shareMadePng(make: () => Promise<Blob | null>, name: string, caption: string[]): Promise<void> {
  const route = shareRoute();
  if (route === 'none') {
    pushNotice(
      studioError('SHARE_FAILED', { reason: 'this browser can neither share files nor copy images. Use Export PNG, then share the saved file' }).toNotice(),
      'error',
    );
    return;
  }
  const blob = await make();
  if (!blob) return;
  if (route === 'copy') {
    if (await copyBlob(blob)) pushNotice({ code: null, message: 'This browser cannot share files: the image was copied to the clipboard instead — paste it where you want to share it.' }, 'info');
    return;
  }
  const file = new File([blob], name, { type: 'image/png' });
  try {
    // Asked again with the real file: a browser may refuse a size or type that the probe passed.
    if (typeof navigator.canShare === 'function' && !navigator.canShare({ files: [file] })) throw new Error('this browser refused to share this PNG file');
    await navigator.share({ files: [file], title: 'Grad-CAM Studio', text: caption.join('\n') });
    pushNotice({ code: null, message: `Shared ${name}.` }, 'info');
  } catch (e) {
    // The person closed the share sheet: not an error.
    if (e instanceof Error && e.name === 'AbortError') return;
    pushNotice(studioError('SHARE_FAILED', { reason: e instanceof Error ? e.message : String(e) }).toNotice(), 'error');
  }
}

export async function copyImage(): Promise<void> {
  await copyMadePng(makePng);
}

export async function share(): Promise<void> {
  const s = useStore.getState();
  await shareMadePng(makePng, exportFileName(s), exportCaption(s));
}

// ---------------------------------------------------------------- the large view

/** The caption of one panel shown large: model, the panel's layer(s), class, and its method with its settings. */
export function largeViewCaption(s: StudioState, key: PanelName): string[] {
  const last = s.explanation.last;
  const lines = [`Model: ${s.model.summary?.name ?? '—'}`];
  const panel = last?.panels?.find((p) => p.key === key);
  if (!last || !panel) return [...lines, `Original: ${s.image?.name ?? 'the image'}, as the model sees it`];
  lines.push(`Layer: ${panel.layerPaths.length ? panel.layerPaths.join(' + ') : 'the input (an input-gradient method)'}`);
  lines.push(classCaption(last));
  lines.push(`Method: ${methodSettingsText(panel.method, panel.settings)}`);
  return lines;
}

/** `gradcam-<model>-<layer>-<panel>.png`. */
export function largeViewFileName(s: StudioState, key: PanelName): string {
  return exportFileName(s).replace(/\.png$/, `-${fileNamePart(key.replace(':', '-'))}.png`);
}

/** One panel's pixels for the large view; null (with the reason in the status region) when they cannot be had. */
export async function largeViewImages(key: PanelName, longSide: number, signal?: AbortSignal): Promise<LargeViewImages | null> {
  const c = await whenClient();
  if (!c.largeView) return null;
  try {
    return await c.largeView(key, longSide, signal);
  } catch (e) {
    if (!isCancelled(e)) pushNotice(toStudioError(e).toNotice(), 'error');
    return null;
  }
}

function makeLargeViewPng(key: PanelName, frame: ViewFrame, longSide: number): () => Promise<Blob | null> {
  return async () => {
    const c = await whenClient();
    const made = await track('Making the PNG…', async () => {
      if (!c.exportLargeView) throw studioError('EXPORT_FAILED', { reason: 'this worker client cannot export the large view' });
      try {
        return await c.exportLargeView(key, frame, longSide, largeViewCaption(useStore.getState(), key));
      } catch (e) {
        const err = toStudioError(e);
        throw err.code === 'INTERNAL' ? studioError('EXPORT_FAILED', { reason: err.message }) : err;
      }
    });
    return made.ok ? made.value : null;
  };
}

/** Save the large view as shown (frame: its size, zoom, centre, wipe), with its caption. */
export async function exportLargeView(key: PanelName, frame: ViewFrame, longSide: number): Promise<void> {
  const blob = await makeLargeViewPng(key, frame, longSide)();
  if (!blob) return;
  const name = largeViewFileName(useStore.getState(), key);
  downloadBlob(blob, name);
  pushNotice({ code: null, message: `Saved ${name}.` }, 'info');
}

export async function copyLargeView(key: PanelName, frame: ViewFrame, longSide: number): Promise<void> {
  await copyMadePng(makeLargeViewPng(key, frame, longSide));
}

export async function shareLargeView(key: PanelName, frame: ViewFrame, longSide: number): Promise<void> {
  const s = useStore.getState();
  await shareMadePng(makeLargeViewPng(key, frame, longSide), largeViewFileName(s, key), largeViewCaption(s, key));
}

// ---------------------------------------------------------------- model export (the in-browser converter)

/** `<model>-tfjs.zip`, with anything unsafe for a file name replaced. */
export function tfjsZipName(s: StudioState): string {
  const base = (s.model.summary?.name ?? 'model').replace(/\.(h5|hdf5|keras|json|zip)$/i, '');
  return `${fileNamePart(base || 'model')}-tfjs.zip`;
}

/** The TF.js files in one zip; weights are stored as they are (floats barely compress). */
export function zipExportedFiles(files: ExportedModelFile[]): Uint8Array {
  const entries: Zippable = {};
  for (const f of files) entries[f.name] = f.name.endsWith('.json') ? f.data : [f.data, { level: 0 }];
  return zipSync(entries);
}

/** Download the current model (a Keras file included) as TF.js files: model.json, weights.bin, metadata.json in a .zip. */
export async function exportTfjs(): Promise<void> {
  const c = await whenClient();
  if (!useStore.getState().model.summary) {
    pushNotice(studioError('NO_MODEL').toNotice(), 'error');
    return;
  }
  const made = await track('Exporting as TF.js…', async () => {
    if (!c.exportTfjs) throw studioError('MODEL_EXPORT_FAILED', { reason: 'this worker client cannot export models' });
    const files = await c.exportTfjs();
    try {
      return zipExportedFiles(files);
    } catch (e) {
      throw studioError('MODEL_EXPORT_FAILED', { reason: e instanceof Error ? e.message : String(e) });
    }
  });
  if (!made.ok) return;
  const name = tfjsZipName(useStore.getState());
  downloadBlob(new Blob([made.value as BlobPart], { type: 'application/zip' }), name);
  pushNotice({ code: null, message: `Saved ${name} (model.json, weights.bin, metadata.json).` }, 'info');
}

// ---------------------------------------------------------------- tests

/** Forget the client and all state (unit tests). */
export function resetForTest(): void {
  unsubscribeClient?.();
  client = null;
  clientReady = null;
  resolveClientReady = null;
  booted = false;
  unsubscribeClient = null;
  panelContainers = null;
  panelsMounted = false;
  explainSeq = 0;
  explainsInFlight = 0;
  exportExtras = null;
  metricsController = null;
  useStore.setState(initialState(), true);
}

// ---------------------------------------------------------------- faithfulness and the sanity check

/** What the shown plots add to the exported PNG (the faithfulness panel registers it while it is open). */
let exportExtras: (() => ExtraPanel[]) | null = null;

export function setExportExtras(provide: (() => ExtraPanel[]) | null): void {
  exportExtras = provide;
}

let metricsController: AbortController | null = null;
let metricsSeq = 0;

/** Stops the measurement in flight (the Cancel button); the scores on screen stay. */
export function cancelMetrics(): void {
  metricsController?.abort();
}

export function setMetricsSettings(partial: Partial<Pick<MetricsSlice, 'steps' | 'baseline' | 'sanityMode'>>): void {
  const steps = partial.steps === undefined ? undefined : Math.min(100, Math.max(2, Math.round(partial.steps) || 2));
  useStore.setState((s) => ({ metrics: { ...s.metrics, ...partial, ...(steps === undefined ? {} : { steps }) } }));
}

/** Run one measurement of the maps on screen; the newest wins, its result replaces only its own part. */
async function measure<K extends 'faithfulness' | 'sanity'>(kind: K, phase: string, run: (c: StudioClientPort, signal: AbortSignal, onProgress: (fraction: number) => void) => Promise<MetricsSlice[K]>): Promise<ExplainOutcome> {
  const c = client;
  if (!c || !useStore.getState().explanation.last) {
    pushNotice(studioError('METRICS_NOTHING_EXPLAINED').toNotice(), 'warning');
    return 'skipped';
  }
  metricsController?.abort();
  const controller = new AbortController();
  metricsController = controller;
  const seq = ++metricsSeq;
  const explanation = useStore.getState().explanation.last;
  useStore.setState((s) => ({ metrics: { ...s.metrics, running: kind, progress: 0 } }));
  const onProgress = (fraction: number) => {
    if (seq === metricsSeq) useStore.setState((s) => ({ metrics: { ...s.metrics, progress: fraction }, status: { ...s.status, phase: `${phase} ${Math.round(fraction * 100)} %` } }));
  };
  try {
    const done = await track(phase, () => run(c, controller.signal, onProgress));
    if (seq !== metricsSeq) return 'cancelled';
    useStore.setState((s) => ({ metrics: { ...s.metrics, running: null, progress: null } }));
    if (!done.ok) return done.cancelled ? 'cancelled' : 'failed';
    // Measured maps that a newer explanation has replaced meanwhile are not shown.
    if (useStore.getState().explanation.last !== explanation) return 'cancelled';
    useStore.setState((s) => ({ metrics: { ...s.metrics, [kind]: done.value } }));
    return 'ok';
  } finally {
    if (metricsController === controller) metricsController = null;
  }
}

/** Deletion / insertion curves, ROAD and the confidence change of every map on screen, with the reference maps. */
export function measureFaithfulness(): Promise<ExplainOutcome> {
  const { steps, baseline } = useStore.getState().metrics;
  return measure('faithfulness', 'Measuring faithfulness…', (c, signal, onProgress) => {
    if (!c.faithfulness) throw studioError('INTERNAL', { reason: 'this client cannot measure faithfulness' });
    return c.faithfulness({ steps, baseline }, signal, (p) => onProgress(p.fraction));
  });
}

/** The randomisation sanity check of the methods on screen. */
export function runSanityCheck(): Promise<ExplainOutcome> {
  const { sanityMode } = useStore.getState().metrics;
  return measure('sanity', 'Sanity check…', (c, signal, onProgress) => {
    if (!c.sanityCheck) throw studioError('INTERNAL', { reason: 'this client cannot run the sanity check' });
    return c.sanityCheck({ mode: sanityMode }, signal, (p) => onProgress(p.fraction));
  });
}
