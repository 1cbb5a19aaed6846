/**
 * The page-side client of the computation worker: the only thing the store calls. It owns the
 * worker's life: starts it, transfers the panel canvases, cancels stale requests (newest wins),
 * and when the worker dies (crash, out of memory, terminate, WebGPU device loss) starts a new one
 * on the next backend, reloads the model and image from the files it still holds, retries the
 * interrupted call once and emits `restarted`.
 */
import * as Comlink from 'comlink';
import { studioError, toStudioError, StudioError } from '../shared/errors';
import type { BackendInfo, BackendName, ExplainOptions, ExplainProgress, LoadProgress, ViewOptions } from '../shared/types';
import type { FaithfulnessOptions, FaithfulnessResult, SanityOptions } from '../shared/metrics';
import type {
  BenchResult,
  BenchSpec,
  CommittedState,
  DemoSample,
  DroppedResult,
  ExplainSummary,
  ExportedModelFile,
  LiveFrameSummary,
  ExtraPanel,
  GalleryClassSummary,
  GalleryOpened,
  GalleryProgress,
  GalleryRunOptions,
  GalleryRunResult,
  GridSpec,
  MetricsProgress,
  SanitySummary,
  LargeViewImages,
  PanelImage,
  PanelName,
  ProgressEvent,
  StudioWorkerApi,
  TransferredFile,
  WorkerFatalMessage,
  WorkerOptions,
} from '../worker/api';
import type { ViewFrame } from '../render/large-view';

export type ClientEvent =
  /**
   * `retrying`: an explanation was in flight and is being retried on the new worker. `reported`: the
   * call that died fails with its own coded error (a trap, a hang), so this event need not be shown.
   */
  | { type: 'restarted'; reason: string; backend: BackendInfo; code: 'WORKER_CRASHED' | 'DEVICE_LOST'; retrying: boolean; reported?: boolean }
  | { type: 'backend'; info: BackendInfo }
  | { type: 'progress'; progress: LoadProgress };


type Remote = Comlink.Remote<StudioWorkerApi>;
type DeathCode = 'WORKER_CRASHED' | 'DEVICE_LOST';

/**
 * A call in flight on a worker that died: retried once on the new worker — unless the death carries
 * its own `error` (a WebAssembly trap, a hang): the same call would die again, so it fails with that
 * error once the new worker has the model and image back.
 */
class WorkerDied extends Error {
  constructor(
    readonly reason: string,
    readonly code: DeathCode,
    readonly error?: StudioError,
  ) {
    super(reason);
  }
}

interface Session {
  worker: Worker;
  remote: Remote;
  /**
   * The calls in flight, each waiting to be rejected with WorkerDied if the worker dies first. A set
   * of per-call hooks, not a race against one long-lived promise: every Promise.race with a promise
   * that never settles would leave a reaction on it for good (880 promises over 440 calls, measured).
   */
  onDeath: Set<(death: WorkerDied) => void>;
  dead: WorkerDied | null;
  backend: BackendInfo | null;
  /** Set once when it dies: the replacement session (or the failure to make one). */
  recovery: Promise<Session> | null;
  /** Which `mountPanels` call its canvases came from. */
  panelsVersion: number;
  /** Calls in flight (the watchdog pings only a busy worker), and what the latest was doing (its message). */
  busy: number;
  activity: string;
}

type Source = { kind: 'files'; files: TransferredFile[] } | { kind: 'demo'; sample?: string } | { kind: 'cache' };
/** An open and the token that names it in the worker's committed state (kept when a new worker reloads it). */
interface Opened {
  source: Source;
  token: string;
}

/** After this many restarts without a successful call in between, stop restarting on our own. */
const MAX_CONSECUTIVE_RESTARTS = 3;
/**
 * A busy worker that has not answered a ping for this long is replaced. The worker lets messages in
 * between methods, layers, batches and benchmark runs, so this bounds one synchronous step: generous
 * for the slowest seen (a batch of Integrated Gradients on VGG16, ~22 s on 2 cores; a big Keras file
 * parsed); `?watchdogMs=` sets it.
 */
const DEFAULT_WATCHDOG_MS = 60_000;
/** How often a busy worker is pinged. */
const WATCHDOG_INTERVAL_MS = 1_000;
/** Opens remembered by token until the worker's state names them (a few opens can be in flight at once). */
const OPEN_HISTORY = 32;

function defaultWorkerFactory(): Worker {
  return new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module' });
}

function isFatalMessage(data: unknown): data is WorkerFatalMessage {
  return !!data && typeof data === 'object' && (data as { type?: unknown }).type === 'studio-fatal';
}

function cancelled(): StudioError {
  return studioError('CANCELLED');
}

function pageNumber(name: string): number | null {
  const value = typeof location === 'undefined' ? null : new URLSearchParams(location.search).get(name);
  const n = value === null ? NaN : Number(value);
  return Number.isFinite(n) && n > 0 ? n : null;
}

/** `?memoryBudgetMb=N` on the page's URL overrides the worker's memory budget (tests, small devices). */
function workerOptionsFromPage(): WorkerOptions {
  const mb = pageNumber('memoryBudgetMb');
  const delay = pageNumber('testLoadDelayMs');
  const threads = pageNumber('threads');
  const threadedStart = pageNumber('testThreadedStartMs');
  return {
    ...(mb ? { memoryBudgetMb: mb } : {}),
    ...(delay ? { testLoadDelayMs: delay } : {}),
    ...(threads ? { threads } : {}),
    ...(threadedStart ? { testThreadedStartMs: threadedStart } : {}),
  };
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
  /** Set when the threaded WASM build failed to start (the message): later workers start single-threaded. */
  private threadsFailed: string | null = null;
  private modelSource: Opened | null = null;
  private imageSource: Opened | null = null;
  /** Opens by token, until the committed state names them. */
  private readonly opened = new Map<string, Source>();
  private openSeq = 0;
  /** The newest committed-state version seen: a restarted worker counts on from here. */
  private stateVersion = 0;
  private readonly watchdogMs: number;
  private view: ViewOptions | null = null;
  private explainController: AbortController | null = null;
  private metricsController: AbortController | null = null;
  private galleryController: AbortController | null = null;
  /** The files of the last drop that filled the gallery (a restarted worker gets them back). */
  private galleryFiles: TransferredFile[] | null = null;
  private consecutiveRestarts = 0;

  constructor(options?: { workerFactory?: () => Worker; watchdogMs?: number }) {
    this.workerFactory = options?.workerFactory ?? defaultWorkerFactory;
    this.watchdogMs = options?.watchdogMs ?? pageNumber('watchdogMs') ?? DEFAULT_WATCHDOG_MS;
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
  /** Who wants the progress of each request in flight (the worker reports it on one channel, by request id). */
  private readonly progressHandlers = new Map<number, (event: ProgressEvent) => void>();
  private readonly onWorkerProgress = (event: ProgressEvent) => this.progressHandlers.get(event.requestId)?.(event);

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
    // Canvases of panels the grid no longer shows go too.
    for (const [name, canvas] of this.mountedCanvases) {
      if (!this.containers[name]) {
        canvas.remove();
        this.mountedCanvases.delete(name);
      }
    }
    for (const [name, container] of Object.entries(this.containers)) {
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
    const session: Session = { worker, remote: Comlink.wrap<StudioWorkerApi>(worker), onDeath: new Set(), dead: null, backend: null, recovery: null, panelsVersion: -1, busy: 0, activity: 'working' };
    const kill = (reason: string, code: DeathCode, error?: StudioError) => {
      if (session.dead) return;
      session.dead = new WorkerDied(reason, code, error);
      for (const reject of session.onDeath) reject(session.dead);
      session.onDeath.clear();
      worker.terminate();
      if (this.session === session) void this.recover(session).catch(() => undefined);
    };
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      kill(event.message || 'the worker failed', 'WORKER_CRASHED');
    });
    worker.addEventListener('messageerror', () => kill('a message could not be read', 'WORKER_CRASHED'));
    worker.addEventListener('message', (event: MessageEvent) => {
      if (!isFatalMessage(event.data)) return;
      kill(event.data.reason, event.data.code, event.data.error ? toStudioError(event.data.error) : undefined);
    });
    (session as Session & { kill: typeof kill }).kill = kill;
    this.watch(session);
    return session;
  }

  private killSession(session: Session, reason: string, code: DeathCode, error?: StudioError): void {
    (session as Session & { kill: (reason: string, code: DeathCode, error?: StudioError) => void }).kill(reason, code, error);
  }

  /**
   * The watchdog: while a call is in flight, ping the worker every second; one that has not answered
   * for `watchdogMs` (stuck in a synchronous loop, e.g. a backend spinning on a broken model) is
   * replaced like a crashed one, without retrying the call that hung.
   */
  private watch(session: Session): void {
    let waitingSince: number | null = null;
    const timer = setInterval(() => {
      if (session.dead) {
        clearInterval(timer);
        return;
      }
      if (session.busy === 0) {
        waitingSince = null;
        return;
      }
      if (waitingSince === null) {
        waitingSince = performance.now();
        session.remote.ping().then(
          () => (waitingSince = null),
          () => undefined,
        );
        return;
      }
      const waited = performance.now() - waitingSince;
      if (waited >= this.watchdogMs) {
        clearInterval(timer);
        const seconds = Math.round(waited / 1000);
        this.killSession(session, `no answer for ${seconds} s`, 'WORKER_CRASHED', studioError('WORKER_UNRESPONSIVE', { seconds, during: session.activity }));
      }
    }, Math.min(WATCHDOG_INTERVAL_MS, this.watchdogMs / 2));
  }

  /** New worker on `preferred` (or the best backend, avoiding `avoid`), canvases attached. */
  private async startSession(preferred: BackendName | null, avoid: BackendName[] = []): Promise<Session> {
    const session = this.createSession();
    try {
      const options: WorkerOptions = { ...workerOptionsFromPage(), firstVersion: this.stateVersion, ...(this.threadsFailed ? { threads: 1 } : {}) };
      const info = await this.race(session, session.remote.init(preferred, avoid, options));
      session.backend = this.threadsFailed && info.name === 'wasm' ? { ...info, reason: `${info.reason} — ${this.threadsFailed}` } : info;
      // The session's one progress channel (a proxy per call would leave a MessagePort per request).
      await this.race(session, session.remote.listen(Comlink.proxy(this.onWorkerProgress)));
      await this.race(session, this.attachCanvases(session));
      return session;
    } catch (e) {
      if (!session.dead) this.killSession(session, 'start failed', 'WORKER_CRASHED');
      const error = e instanceof WorkerDied ? studioError('WORKER_CRASHED', { reason: e.reason }) : toStudioError(e);
      if (error.code === 'WASM_THREADS_FAILED' && !this.threadsFailed) {
        // The threaded build is stuck in that worker: every worker from now on is single-threaded.
        this.threadsFailed = error.message;
        console.warn(error.message);
        return this.startSession(preferred, avoid);
      }
      throw error;
    }
  }

  /** Reload the model, the image and the view into a fresh session. */
  private async restore(session: Session): Promise<void> {
    // The same tokens as the first time: the new worker's state then names what the page shows.
    const replay = ({ source, token }: Opened, only?: 'model' | 'image') => {
      const id = ++this.nextRequestId;
      if (source.kind === 'cache') return session.remote.restoreCached(id, { only, token });
      return source.kind === 'files'
        ? session.remote.openFiles(id, source.files, { only, token })
        : session.remote.openDemo(id, { sample: source.sample, only, token });
    };
    // A replay that brings nothing back (e.g. the cache was emptied) must not leave a worker without
    // the model the page shows: fail the recovery with a coded error instead.
    const expect = (result: DroppedResult | null, what: 'model' | 'image') => {
      if (!result?.[what]) throw studioError('WORKER_CRASHED', { reason: `the ${what} could not be reloaded into the new worker` });
    };
    if (this.modelSource && this.modelSource.token === this.imageSource?.token) {
      const result = await this.race(session, replay(this.modelSource));
      expect(result, 'model');
    } else {
      if (this.modelSource) expect(await this.race(session, replay(this.modelSource, 'model')), 'model');
      if (this.imageSource) expect(await this.race(session, replay(this.imageSource, 'image')), 'image');
    }
    if (this.view) await this.race(session, session.remote.setView(this.view));
    // The gallery's images too (its results are recomputed by the page's next run).
    if (this.galleryFiles) await this.race(session, session.remote.gallerySetFiles(this.galleryFiles));
  }

  /** The worker died: start another on the next backend, restore, and tell the listeners. */
  private recover(dead: Session): Promise<Session> {
    if (dead.recovery) return dead.recovery;
    dead.recovery = (async () => {
      const death = dead.dead ?? new WorkerDied('unknown', 'WORKER_CRASHED');
      this.consecutiveRestarts++;
      // A threaded WASM worker that keeps dying: the next ones start single-threaded.
      if (dead.backend?.name === 'wasm' && (dead.backend.threads ?? 1) > 1 && this.consecutiveRestarts >= 2 && !this.threadsFailed) {
        this.threadsFailed = `the threaded worker stopped twice in a row (${death.reason}); running single-threaded`;
      }
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
        const retrying = this.explainController !== null && !death.error;
        this.emit({ type: 'restarted', reason: death.reason, backend: next.backend, code: death.code, retrying, reported: Boolean(death.error) });
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
    if (session.dead) return Promise.reject(session.dead);
    return new Promise<T>((resolve, reject) => {
      session.onDeath.add(reject);
      call.then(
        (value) => {
          session.onDeath.delete(reject);
          resolve(value);
        },
        (e: unknown) => {
          session.onDeath.delete(reject);
          reject(e);
        },
      );
    });
  }

  /**
   * Every API call goes through here: aborts via `signal` (the worker is told to cancel), waits for
   * a restart when the worker dies and retries once, converts errors to StudioErrors.
   */
  /** Load progress of a request, shown as the client's `progress` event. */
  private readonly loadProgress = (event: ProgressEvent) => {
    if ('load' in event) this.progress(event.load);
  };

  private async call<T>(
    run: (remote: Remote, requestId: number) => Promise<T>,
    signal?: AbortSignal,
    during = 'working',
    onProgress?: (event: ProgressEvent) => void,
  ): Promise<T> {
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
      session.busy++;
      session.activity = during;
      if (onProgress) this.progressHandlers.set(requestId, onProgress);
      try {
        const result = await Promise.race([this.race(session, run(session.remote, requestId)), aborted]);
        this.consecutiveRestarts = 0;
        return result;
      } catch (e) {
        if (e instanceof WorkerDied && e.error) {
          // Not retried (it would trap or hang again): back to the model and image the page shows, then say why.
          try {
            await this.recover(session);
          } catch (recoveryError) {
            throw toStudioError(recoveryError);
          }
          throw e.error;
        }
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
        session.busy--;
        this.progressHandlers.delete(requestId);
        if (onAbort) signal?.removeEventListener('abort', onAbort);
      }
    }
  }

  // ---- what the worker committed -------------------------------------------------------------
  /** A fresh token for an open, remembered with its source until the worker's state names it. */
  private newOpen(source: Source): string {
    const token = `open-${++this.openSeq}`;
    this.opened.set(token, source);
    if (this.opened.size > OPEN_HISTORY) this.opened.delete(this.opened.keys().next().value as string);
    return token;
  }

  /** Follow the worker's committed state: what a restarted worker must reload is what it committed last. */
  private noteState(state: CommittedState | undefined): void {
    if (!state || state.version <= this.stateVersion) return;
    this.stateVersion = state.version;
    const follow = (part: { token: string } | null, current: Opened | null): Opened | null => {
      if (!part) return null;
      if (current?.token === part.token) return current;
      const source = this.opened.get(part.token);
      return source ? { source, token: part.token } : current;
    };
    this.modelSource = follow(state.model, this.modelSource);
    this.imageSource = follow(state.image, this.imageSource);
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

  /**
   * Open dropped files. Opens are independent: a new image never cancels a model load in flight (it
   * arrives with that model), a new model cancels only older model loads (see the result's `cancelled`).
   */
  async openFiles(files: TransferredFile[], signal?: AbortSignal): Promise<DroppedResult> {
    const prepared = await rasteriseSvgs(files);
    const token = this.newOpen({ kind: 'files', files: prepared });
    const result = await this.call((remote, id) => remote.openFiles(id, prepared, { token }), signal, 'opening files', this.loadProgress);
    this.noteState(result.state);
    if (result.gallery) this.galleryFiles = prepared;
    return result;
  }

  /** The built-in demo (model + first sample), or just another demo sample when the demo is loaded. */
  async openDemo(signal?: AbortSignal, sample?: string): Promise<DroppedResult> {
    const token = this.newOpen({ kind: 'demo', sample });
    const result = await this.call((remote, id) => remote.openDemo(id, sample ? { sample, token } : { token }), signal, 'opening the demo', this.loadProgress);
    this.noteState(result.state);
    return result;
  }

  demoSamples(signal?: AbortSignal): Promise<DemoSample[]> {
    return this.call((remote) => remote.demoSamples(), signal);
  }

  /**
   * Newest wins: a new call cancels the previous one in flight (it rejects with CANCELLED). `grid`:
   * the methods side by side (default) or one method at several layers; `onProgress`: the costly
   * methods' progress.
   */
  async explain(options: ExplainOptions, signal?: AbortSignal, grid?: GridSpec, onProgress?: (p: ExplainProgress) => void): Promise<ExplainSummary> {
    this.explainController?.abort();
    const controller = new AbortController();
    this.explainController = controller;
    const forward = () => controller.abort();
    signal?.addEventListener('abort', forward, { once: true });
    if (signal?.aborted) controller.abort();
    try {
      const progress = onProgress ? (event: ProgressEvent) => 'explain' in event && onProgress(event.explain) : undefined;
      return await this.call((remote, id) => remote.explain(id, options, grid), controller.signal, 'explaining', progress);
    } finally {
      signal?.removeEventListener('abort', forward);
      if (this.explainController === controller) this.explainController = null;
    }
  }

  /** Live mode: a <canvas> in `container` for the worker to draw frames on (a fresh one each time). */
  async mountLiveCanvas(container: HTMLElement, signal?: AbortSignal): Promise<void> {
    container.querySelector('canvas')?.remove();
    const canvas = document.createElement('canvas');
    canvas.className = 'live-canvas';
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', 'live explanation');
    container.appendChild(canvas);
    const offscreen = canvas.transferControlToOffscreen();
    await this.call((remote) => remote.attachLiveCanvas(Comlink.transfer(offscreen, [offscreen])), signal);
  }

  /** One camera frame (transferred: the page keeps no copy), explained and drawn by the worker. */
  explainFrame(frame: ImageBitmap, options: ExplainOptions, signal?: AbortSignal): Promise<LiveFrameSummary> {
    return this.call((remote, id) => remote.explainFrame(id, Comlink.transfer(frame, [frame]), options), signal, 'explaining a camera frame');
  }

  async setView(view: ViewOptions, signal?: AbortSignal): Promise<void> {
    this.view = { ...view };
    await this.call((remote) => remote.setView(view), signal);
  }

  /** `extras`: pictures shown beside the grid (the faithfulness plots), added after the panels. */
  exportPng(caption: string[], extras?: ExtraPanel[], signal?: AbortSignal): Promise<Blob> {
    return this.call((remote) => remote.exportPng(caption, extras), signal);
  }

  /** One measurement at a time: a new one cancels the one in flight (a newer explanation does too, in the worker). */
  private async measure<T>(run: (remote: Remote, id: number) => Promise<T>, signal: AbortSignal | undefined, during: string, onProgress?: (p: MetricsProgress) => void): Promise<T> {
    this.metricsController?.abort();
    const controller = new AbortController();
    this.metricsController = controller;
    const forward = () => controller.abort();
    signal?.addEventListener('abort', forward, { once: true });
    if (signal?.aborted) controller.abort();
    try {
      const progress = onProgress ? (event: ProgressEvent) => 'metrics' in event && onProgress(event.metrics) : undefined;
      return await this.call(run, controller.signal, during, progress);
    } finally {
      signal?.removeEventListener('abort', forward);
      if (this.metricsController === controller) this.metricsController = null;
    }
  }

  /** Deletion / insertion, ROAD and the confidence change of the maps on screen, with the reference maps. */
  faithfulness(options: FaithfulnessOptions, signal?: AbortSignal, onProgress?: (p: MetricsProgress) => void): Promise<FaithfulnessResult> {
    return this.measure((remote, id) => remote.faithfulness(id, options), signal, 'measuring faithfulness', onProgress);
  }

  /** The randomisation sanity check of the methods on screen. */
  sanityCheck(options: SanityOptions, signal?: AbortSignal, onProgress?: (p: MetricsProgress) => void): Promise<SanitySummary> {
    return this.measure((remote, id) => remote.sanityCheck(id, options), signal, 'running the sanity check', onProgress);
  }

  /** One panel redrawn for the large view, its longer side `longSide` pixels. */
  largeView(key: PanelName, longSide: number, signal?: AbortSignal): Promise<LargeViewImages> {
    return this.call((remote) => remote.largeView(key, longSide), signal);
  }

  /** The large view as shown (its frame), with the caption strip, as a PNG. */
  exportLargeView(key: PanelName, frame: ViewFrame, longSide: number, caption: string[], signal?: AbortSignal): Promise<Blob> {
    return this.call((remote) => remote.exportLargeView(key, frame, longSide, caption), signal);
  }

  /** The current model as TF.js files (model.json, weights.bin, metadata.json). */
  exportTfjs(signal?: AbortSignal): Promise<ExportedModelFile[]> {
    return this.call((remote) => remote.exportTfjs(), signal);
  }

  memory(signal?: AbortSignal): Promise<{ numTensors: number; numBytes: number; wasmHeapBytes?: number; jsHeapBytes?: number }> {
    return this.call((remote) => remote.memory(), signal);
  }

  /** The pixels last drawn on each panel (tests read heatmaps through this). */
  inspectPanels(signal?: AbortSignal): Promise<Partial<Record<PanelName, PanelImage>>> {
    return this.call((remote) => remote.inspectPanels(), signal);
  }

  /** The model (and image) last dropped, from this browser's IndexedDB cache; null when there is none. */
  async restoreCached(signal?: AbortSignal): Promise<DroppedResult | null> {
    const token = this.newOpen({ kind: 'cache' });
    const result = await this.call((remote, id) => remote.restoreCached(id, { token }), signal, 'restoring the cached model', this.loadProgress);
    this.noteState(result?.state);
    return result;
  }

  /** Empty this browser's model cache (the loaded model stays). */
  forgetCachedModels(signal?: AbortSignal): Promise<void> {
    return this.call((remote) => remote.forgetCachedModels(), signal);
  }

  // ---- the gallery ---------------------------------------------------------------------------------
  /** Explain the gallery (newest wins: a new run cancels the one in flight); each batch's items arrive through `onProgress`. */
  async galleryRun(options: GalleryRunOptions, signal?: AbortSignal, onProgress?: (p: GalleryProgress) => void): Promise<GalleryRunResult> {
    this.galleryController?.abort();
    const controller = new AbortController();
    this.galleryController = controller;
    const forward = () => controller.abort();
    signal?.addEventListener('abort', forward, { once: true });
    if (signal?.aborted) controller.abort();
    try {
      const progress = onProgress ? (event: ProgressEvent) => 'gallery' in event && onProgress(event.gallery) : undefined;
      return await this.call((remote, id) => remote.galleryRun(id, options), controller.signal, 'explaining the gallery', progress);
    } finally {
      signal?.removeEventListener('abort', forward);
      if (this.galleryController === controller) this.galleryController = null;
    }
  }

  galleryPause(paused: boolean, signal?: AbortSignal): Promise<void> {
    return this.call((remote) => remote.galleryPause(paused), signal);
  }

  gallerySummary(view: ViewOptions, signal?: AbortSignal): Promise<GalleryClassSummary[]> {
    return this.call((remote) => remote.gallerySummary(view), signal);
  }

  galleryContactSheet(indices: number[], caption: string[], view: ViewOptions, signal?: AbortSignal): Promise<Blob> {
    return this.call((remote) => remote.galleryContactSheet(indices, caption, view), signal);
  }

  galleryExportZip(indices: number[], view: ViewOptions, signal?: AbortSignal): Promise<Blob> {
    return this.call((remote, id) => remote.galleryExportZip(id, indices, view), signal, 'exporting the gallery');
  }

  /** Gallery image `index` as a file, to open in the single view. */
  galleryFile(index: number, signal?: AbortSignal): Promise<TransferredFile> {
    return this.call((remote) => remote.galleryFile(index), signal);
  }

  /** Put these images in the gallery directly (tests, the bench). */
  async gallerySetFiles(files: TransferredFile[], signal?: AbortSignal): Promise<GalleryOpened> {
    const opened = await this.call((remote) => remote.gallerySetFiles(files), signal);
    this.galleryFiles = files;
    return opened;
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

  /** A real WebAssembly trap in the worker: it is replaced, the model and image come back, the call fails with BACKEND_TRAPPED. */
  trapForTest(signal?: AbortSignal): Promise<void> {
    return this.call((remote) => remote.trapForTest(), signal, 'running a test trap');
  }

  /** Blocks the worker's thread for `ms`: past the watchdog's bound it is replaced (WORKER_UNRESPONSIVE). */
  hangForTest(ms: number, signal?: AbortSignal): Promise<void> {
    return this.call((remote) => remote.hangForTest(ms), signal, 'running a test hang');
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
