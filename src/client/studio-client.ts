/**
 * The page-side client of the computation worker: the only thing the store calls. It owns the
 * worker's life: starts it, transfers the panel canvases, cancels stale requests (newest wins),
 * and when the worker dies (crash, out of memory, terminate, WebGPU device loss) starts a new one
 * on the next backend, reloads the model and image from the files it still holds, retries the
 * interrupted call once and emits `restarted`.
 */
import * as Comlink from 'comlink';
import { studioError, toStudioError, StudioError } from '../shared/errors';
import type { BackendInfo, BackendName, ExplainOptions, LoadProgress, ViewOptions } from '../shared/types';
import type {
  BenchResult,
  BenchSpec,
  DemoSample,
  DroppedResult,
  ExplainSummary,
  ExportedModelFile,
  PanelImage,
  PanelName,
  StudioWorkerApi,
  TransferredFile,
  WorkerFatalMessage,
  WorkerOptions,
} from '../worker/api';

export type ClientEvent =
  /** `retrying`: an explanation was in flight and is being retried on the new worker. */
  | { type: 'restarted'; reason: string; backend: BackendInfo; code: 'WORKER_CRASHED' | 'DEVICE_LOST'; retrying: boolean }
  | { type: 'backend'; info: BackendInfo }
  | { type: 'progress'; progress: LoadProgress };

export const PANEL_NAMES: readonly PanelName[] = ['original', 'gradcam', 'guided-backprop', 'guided-gradcam'];

type Remote = Comlink.Remote<StudioWorkerApi>;
type DeathCode = 'WORKER_CRASHED' | 'DEVICE_LOST';

/** A call in flight on a worker that died: retried once on the new worker. */
class WorkerDied extends Error {
  constructor(
    readonly reason: string,
    readonly code: DeathCode,
  ) {
    super(reason);
  }
}

interface Session {
  worker: Worker;
  remote: Remote;
  /** Rejects with WorkerDied when the worker dies; every call races against it. */
  died: Promise<never>;
  dead: WorkerDied | null;
  backend: BackendInfo | null;
  /** Set once when it dies: the replacement session (or the failure to make one). */
  recovery: Promise<Session> | null;
  /** Which `mountPanels` call its canvases came from. */
  panelsVersion: number;
}

type Source = { kind: 'files'; files: TransferredFile[] } | { kind: 'demo'; sample?: string } | { kind: 'cache' };

/** After this many restarts without a successful call in between, stop restarting on our own. */
const MAX_CONSECUTIVE_RESTARTS = 3;

function defaultWorkerFactory(): Worker {
  return new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module' });
}

function isFatalMessage(data: unknown): data is WorkerFatalMessage {
  return !!data && typeof data === 'object' && (data as { type?: unknown }).type === 'studio-fatal';
}

function cancelled(): StudioError {
  return studioError('CANCELLED');
}

/** `?memoryBudgetMb=N` on the page's URL overrides the worker's memory budget (tests, small devices). */
function workerOptionsFromPage(): WorkerOptions {
  const value = typeof location === 'undefined' ? null : new URLSearchParams(location.search).get('memoryBudgetMb');
  const mb = value === null ? NaN : Number(value);
  return Number.isFinite(mb) && mb > 0 ? { memoryBudgetMb: mb } : {};
}

/** SVGs cannot be decoded in a worker; rasterise them on the page into PNG files. */
async function rasteriseSvgs(files: TransferredFile[]): Promise<TransferredFile[]> {
  return Promise.all(
    files.map(async (entry) => {
      const isSvg = /\.svg$/i.test(entry.file.name) || entry.file.type === 'image/svg+xml';
      if (!isSvg || typeof document === 'undefined') return entry;
      // Typed explicitly: a file without a MIME type would not load as an SVG image.
      const url = URL.createObjectURL(new Blob([entry.file], { type: 'image/svg+xml' }));
      try {
        const img = new Image();
        img.src = url;
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth || 512;
        canvas.height = img.naturalHeight || 512;
        canvas.getContext('2d')?.drawImage(img, 0, 0, canvas.width, canvas.height);
        const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
        if (!blob) return entry;
        const name = entry.file.name.replace(/\.svg$/i, '') + '.png';
        return { file: new File([blob], name, { type: 'image/png' }), path: entry.path?.replace(/\.svg$/i, '.png') };
      } catch {
        return entry; // the worker then reports IMAGE_SVG_UNSUPPORTED
      } finally {
        URL.revokeObjectURL(url);
      }
    }),
  );
}

export class StudioClient {
  private readonly workerFactory: () => Worker;
  private session: Session | null = null;
  private starting: Promise<Session> | null = null;
  private readonly listeners = new Set<(e: ClientEvent) => void>();
  private containers: Partial<Record<PanelName, HTMLElement>> = {};
  private containersVersion = 0;
  private readonly mountedCanvases = new Map<PanelName, HTMLCanvasElement>();
  private nextRequestId = 0;
  private preferred: BackendName | null = null;
  private modelSource: Source | null = null;
  private imageSource: Source | null = null;
  private view: ViewOptions | null = null;
  private explainController: AbortController | null = null;
  private consecutiveRestarts = 0;

  constructor(options?: { workerFactory?: () => Worker }) {
    this.workerFactory = options?.workerFactory ?? defaultWorkerFactory;
  }

  // ---- events ----------------------------------------------------------------------------------
  on(listener: (e: ClientEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: ClientEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (e) {
        console.error('StudioClient listener failed', e);
      }
    }
  }

  private readonly progress = (progress: LoadProgress) => this.emit({ type: 'progress', progress });

  // ---- panels ----------------------------------------------------------------------------------
  /** Creates a <canvas> in each container and hands it to the worker (again after a restart). */
  mountPanels(containers: Partial<Record<PanelName, HTMLElement>>): void {
    this.containers = { ...containers };
    this.containersVersion++;
    if (this.session && !this.session.dead) void this.attachCanvases(this.session).catch((e) => console.error('attaching panels failed', e));
  }

  private async attachCanvases(session: Session): Promise<void> {
    session.panelsVersion = this.containersVersion;
    const offscreen: Partial<Record<PanelName, OffscreenCanvas>> = {};
    for (const name of PANEL_NAMES) {
      const container = this.containers[name];
      if (!container) continue;
      this.mountedCanvases.get(name)?.remove(); // a transferred canvas cannot be transferred again
      const canvas = document.createElement('canvas');
      canvas.className = 'panel-canvas';
      canvas.dataset.panel = name;
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `${name} panel`);
      container.appendChild(canvas);
      this.mountedCanvases.set(name, canvas);
      if (typeof canvas.transferControlToOffscreen === 'function') offscreen[name] = canvas.transferControlToOffscreen();
    }
    const transfers = Object.values(offscreen) as OffscreenCanvas[];
    if (transfers.length) await session.remote.attachCanvases(Comlink.transfer(offscreen, transfers));
  }

  // ---- worker life -----------------------------------------------------------------------------
  private createSession(): Session {
    const worker = this.workerFactory();
    let markDead!: (e: WorkerDied) => void;
    const died = new Promise<never>((_, reject) => (markDead = reject));
    died.catch(() => undefined);
    const session: Session = { worker, remote: Comlink.wrap<StudioWorkerApi>(worker), died, dead: null, backend: null, recovery: null, panelsVersion: -1 };
    const kill = (reason: string, code: DeathCode) => {
      if (session.dead) return;
      session.dead = new WorkerDied(reason, code);
      markDead(session.dead);
      worker.terminate();
      if (this.session === session) void this.recover(session).catch(() => undefined);
    };
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      kill(event.message || 'the worker failed', 'WORKER_CRASHED');
    });
    worker.addEventListener('messageerror', () => kill('a message could not be read', 'WORKER_CRASHED'));
    worker.addEventListener('message', (event: MessageEvent) => {
      if (isFatalMessage(event.data)) kill(event.data.reason, event.data.code);
    });
    (session as Session & { kill: typeof kill }).kill = kill;
    return session;
  }

  private killSession(session: Session, reason: string, code: DeathCode): void {
    (session as Session & { kill: (reason: string, code: DeathCode) => void }).kill(reason, code);
  }

  /** New worker on `preferred` (or the best backend, avoiding `avoid`), canvases attached. */
  private async startSession(preferred: BackendName | null, avoid: BackendName[] = []): Promise<Session> {
    const session = this.createSession();
    try {
      session.backend = await this.race(session, session.remote.init(preferred, avoid, workerOptionsFromPage()));
      await this.race(session, this.attachCanvases(session));
      return session;
    } catch (e) {
      if (!session.dead) this.killSession(session, 'start failed', 'WORKER_CRASHED');
      throw e instanceof WorkerDied ? studioError('WORKER_CRASHED', { reason: e.reason }) : toStudioError(e);
    }
  }

  /** Reload the model, the image and the view into a fresh session. */
  private async restore(session: Session): Promise<void> {
    const replay = (source: Source, only?: 'model' | 'image') => {
      const id = ++this.nextRequestId;
      if (source.kind === 'cache') return session.remote.restoreCached(id, undefined, only);
      return source.kind === 'files'
        ? session.remote.openFiles(id, source.files, undefined, only)
        : session.remote.openDemo(id, undefined, { sample: source.sample, only });
    };
    // A replay that brings nothing back (e.g. the cache was emptied) must not leave a worker without
    // the model the page shows: fail the recovery with a coded error instead.
    const expect = (result: DroppedResult | null, what: 'model' | 'image') => {
      if (!result?.[what]) throw studioError('WORKER_CRASHED', { reason: `the ${what} could not be reloaded into the new worker` });
    };
    if (this.modelSource && this.modelSource === this.imageSource) {
      const result = await this.race(session, replay(this.modelSource));
      expect(result, 'model');
    } else {
      if (this.modelSource) expect(await this.race(session, replay(this.modelSource, 'model')), 'model');
      if (this.imageSource) expect(await this.race(session, replay(this.imageSource, 'image')), 'image');
    }
    if (this.view) await this.race(session, session.remote.setView(this.view));
  }

  /** The worker died: start another on the next backend, restore, and tell the listeners. */
  private recover(dead: Session): Promise<Session> {
    if (dead.recovery) return dead.recovery;
    dead.recovery = (async () => {
      const death = dead.dead ?? new WorkerDied('unknown', 'WORKER_CRASHED');
      this.consecutiveRestarts++;
      if (this.consecutiveRestarts > MAX_CONSECUTIVE_RESTARTS) {
        if (this.session === dead) this.session = null;
        throw studioError('WORKER_CRASHED', { reason: `${death.reason}; it kept failing, so it was not restarted again` });
      }
      const failed = dead.backend?.name ?? this.preferred ?? null;
      // webgpu → webgl → wasm → cpu; a crashed WASM/CPU worker restarts on the same backend.
      const gpuFailed = failed === 'webgpu' || failed === 'webgl';
      let next: Session;
      try {
        next = await this.startSession(gpuFailed ? null : failed, gpuFailed ? [failed] : []);
      } catch (e) {
        if (this.session === dead) this.session = null; // the next call starts afresh
        throw e;
      }
      this.session = next;
      try {
        await this.restore(next);
      } catch (e) {
        throw e instanceof WorkerDied ? studioError('WORKER_CRASHED', { reason: e.reason }) : toStudioError(e);
      }
      if (next.backend) {
        this.emit({ type: 'restarted', reason: death.reason, backend: next.backend, code: death.code, retrying: this.explainController !== null });
        this.emit({ type: 'backend', info: next.backend });
      }
      return next;
    })();
    return dead.recovery;
  }

  private async ready(): Promise<Session> {
    if (this.starting) await this.starting.catch(() => undefined);
    const session = this.session;
    if (session && !session.dead) return session;
    if (session?.dead) return this.recover(session);
    this.starting = (async () => {
      const fresh = await this.startSession(this.preferred);
      // After a failed recovery: bring back what the user had.
      if (this.modelSource || this.imageSource) await this.restore(fresh).catch((e) => console.error('restoring the model failed', e));
      return fresh;
    })();
    try {
      this.session = await this.starting;
      // mountPanels may have come while the worker was starting.
      if (this.session.panelsVersion !== this.containersVersion) await this.attachCanvases(this.session);
      if (this.session.backend) this.emit({ type: 'backend', info: this.session.backend });
      return this.session;
    } finally {
      this.starting = null;
    }
  }

  /** Resolve with the call, or reject when the worker dies first. */
  private race<T>(session: Session, call: Promise<T>): Promise<T> {
    call.catch(() => undefined); // after a death its rejection is nobody's business
    return Promise.race([call, session.died]);
  }

  /**
   * Every API call goes through here: aborts via `signal` (the worker is told to cancel), waits for
   * a restart when the worker dies and retries once, converts errors to StudioErrors.
   */
  private async call<T>(run: (remote: Remote, requestId: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw cancelled();
    for (let attempt = 0; ; attempt++) {
      let session: Session;
      try {
        session = await this.ready();
      } catch (e) {
        throw toStudioError(e);
      }
      if (signal?.aborted) throw cancelled(); // aborted while the worker was starting
      const requestId = ++this.nextRequestId;
      let onAbort: (() => void) | null = null;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => {
          void session.remote.cancel(requestId);
          reject(cancelled());
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      aborted.catch(() => undefined);
      try {
        const result = await Promise.race([this.race(session, run(session.remote, requestId)), aborted]);
        this.consecutiveRestarts = 0;
        return result;
      } catch (e) {
        if (e instanceof WorkerDied) {
          if (attempt > 0) throw studioError(e.code, { reason: e.reason });
          try {
            await this.recover(session);
          } catch (recoveryError) {
            throw toStudioError(recoveryError);
          }
          if (signal?.aborted) throw cancelled();
          continue;
        }
        throw toStudioError(e);
      } finally {
        if (onAbort) signal?.removeEventListener('abort', onAbort);
      }
    }
  }

  // ---- API -------------------------------------------------------------------------------------
  /** Start the worker on the best backend (or `preferred`). Called again to switch: a fresh worker reloads everything. */
  async init(preferred?: BackendName | null): Promise<BackendInfo> {
    this.preferred = preferred ?? null;
    const old = this.session;
    if (!old || old.dead) {
      const session = await this.ready();
      return session.backend as BackendInfo;
    }
    // Switching: a new worker on the new backend, restored, then the old one goes.
    const next = await this.startSession(this.preferred);
    try {
      await this.restore(next);
    } catch (e) {
      this.killSession(next, 'switch failed', 'WORKER_CRASHED');
      await this.attachCanvases(old).catch(() => undefined);
      throw e instanceof WorkerDied ? studioError('WORKER_CRASHED', { reason: e.reason }) : toStudioError(e);
    }
    this.session = next;
    old.recovery = Promise.resolve(next); // its death is not a crash
    // Killing (not just terminating) rejects the old worker's calls in flight, which then retry on `next`.
    this.killSession(old, 'backend switched', 'WORKER_CRASHED');
    const info = next.backend as BackendInfo;
    this.emit({ type: 'backend', info });
    return info;
  }

  async openFiles(files: TransferredFile[], signal?: AbortSignal): Promise<DroppedResult> {
    const prepared = await rasteriseSvgs(files);
    const result = await this.call((remote, id) => remote.openFiles(id, prepared, Comlink.proxy(this.progress)), signal);
    const source: Source = { kind: 'files', files: prepared };
    if (result.model) this.modelSource = source;
    if (result.image) this.imageSource = source;
    return result;
  }

  /** The built-in demo (model + first sample), or just another demo sample when the demo is loaded. */
  async openDemo(signal?: AbortSignal, sample?: string): Promise<DroppedResult> {
    const result = await this.call((remote, id) => remote.openDemo(id, Comlink.proxy(this.progress), sample ? { sample } : undefined), signal);
    if (result.model) this.modelSource = { kind: 'demo' };
    if (result.image) this.imageSource = { kind: 'demo', sample };
    return result;
  }

  demoSamples(signal?: AbortSignal): Promise<DemoSample[]> {
    return this.call((remote) => remote.demoSamples(), signal);
  }

  /** Newest wins: a new call cancels the previous one in flight (it rejects with CANCELLED). */
  async explain(options: ExplainOptions, signal?: AbortSignal): Promise<ExplainSummary> {
    this.explainController?.abort();
    const controller = new AbortController();
    this.explainController = controller;
    const forward = () => controller.abort();
    signal?.addEventListener('abort', forward, { once: true });
    if (signal?.aborted) controller.abort();
    try {
      return await this.call((remote, id) => remote.explain(id, options), controller.signal);
    } finally {
      signal?.removeEventListener('abort', forward);
      if (this.explainController === controller) this.explainController = null;
    }
  }

  async setView(view: ViewOptions, signal?: AbortSignal): Promise<void> {
    this.view = { ...view };
    await this.call((remote) => remote.setView(view), signal);
  }

  exportPng(caption: string[], signal?: AbortSignal): Promise<Blob> {
    return this.call((remote) => remote.exportPng(caption), signal);
  }

  /** The current model as TF.js files (model.json, weights.bin, metadata.json). */
  exportTfjs(signal?: AbortSignal): Promise<ExportedModelFile[]> {
    return this.call((remote) => remote.exportTfjs(), signal);
  }

  memory(signal?: AbortSignal): Promise<{ numTensors: number; numBytes: number }> {
    return this.call((remote) => remote.memory(), signal);
  }

  /** The pixels last drawn on each panel (tests read heatmaps through this). */
  inspectPanels(signal?: AbortSignal): Promise<Partial<Record<PanelName, PanelImage>>> {
    return this.call((remote) => remote.inspectPanels(), signal);
  }

  /** The model (and image) last dropped, from this browser's IndexedDB cache; null when there is none. */
  async restoreCached(signal?: AbortSignal): Promise<DroppedResult | null> {
    const result = await this.call((remote, id) => remote.restoreCached(id, Comlink.proxy(this.progress)), signal);
    if (result?.model) this.modelSource = { kind: 'cache' };
    if (result?.image) this.imageSource = { kind: 'cache' };
    return result;
  }

  /** Empty this browser's model cache (the loaded model stays). */
  forgetCachedModels(signal?: AbortSignal): Promise<void> {
    return this.call((remote) => remote.forgetCachedModels(), signal);
  }

  /** Time the current model and image in the worker (`npm run bench`). */
  benchmark(spec: BenchSpec, signal?: AbortSignal): Promise<BenchResult> {
    return this.call((remote, id) => remote.benchmark(id, spec), signal);
  }

  /** The active backend, or null before init. */
  get backend(): BackendInfo | null {
    return this.session?.backend ?? null;
  }

  /** Terminates the worker as a crash would; the client recovers on its own. */
  killWorkerForTest(): void {
    if (this.session && !this.session.dead) this.killSession(this.session, 'terminated (test)', 'WORKER_CRASHED');
  }

  /** Makes the worker report a WebGPU device loss; the client recovers on the next backend. */
  simulateDeviceLossForTest(): void {
    if (this.session && !this.session.dead) void this.session.remote.simulateDeviceLossForTest();
  }

  /** Stops the worker for good (page unload, tests). */
  dispose(): void {
    const session = this.session;
    this.session = null;
    if (session && !session.dead) {
      session.recovery = Promise.reject(studioError('CANCELLED'));
      session.recovery.catch(() => undefined);
      this.killSession(session, 'disposed', 'WORKER_CRASHED');
    }
  }
}
