/**
 * The worker's life, page side: starts it, hands it the panel canvases, watches it (a busy worker that
 * stops answering is replaced), and when it dies (crash, out of memory, trap, hang, WebGPU device loss)
 * starts a new one on the next backend, replays what the page shows (replay.ts), retries the
 * interrupted call once and emits `restarted`. `invoke` is the one way a call reaches the worker.
 */
import * as Comlink from 'comlink';
import { studioError, toStudioError, StudioError } from '../shared/errors';
import type { BackendInfo, BackendName, LoadProgress } from '../shared/types';
import type { PanelName, ProgressEvent, StudioWorkerApi, WorkerFatalMessage, WorkerOptions } from '../protocol';
import type { ClientEvent } from './events';
import { pageNumber, workerOptionsFromPage } from './page';
import { Replay } from './replay';

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

function defaultWorkerFactory(): Worker {
  return new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module' });
}

function isFatalMessage(data: unknown): data is WorkerFatalMessage {
  return !!data && typeof data === 'object' && (data as { type?: unknown }).type === 'studio-fatal';
}

function cancelled(): StudioError {
  return studioError('CANCELLED');
}

export class WorkerLife {
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
  private readonly watchdogMs: number;
  private consecutiveRestarts = 0;

  constructor(
    private readonly replay: Replay,
    /** Whether an explanation is in flight (a restart retries it, so the page need not explain again). */
    private readonly isExplaining: () => boolean,
    options?: { workerFactory?: () => Worker; watchdogMs?: number },
  ) {
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
      const options: WorkerOptions = { ...workerOptionsFromPage(), firstVersion: this.replay.stateVersion, ...(this.threadsFailed ? { threads: 1 } : {}) };
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

  /** Reload the model, the image, the view and the gallery's files into a fresh session. */
  private restore(session: Session): Promise<void> {
    return this.replay.restore(session.remote, (call) => this.race(session, call), () => ++this.nextRequestId);
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
        const retrying = this.isExplaining() && !death.error;
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
      if (this.replay.holdsOpens) await this.restore(fresh).catch((e) => console.error('restoring the model failed', e));
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

  /** Load progress of a request, shown as the client's `progress` event (unless the caller takes its progress). */
  private readonly loadProgress = (event: ProgressEvent) => {
    if ('load' in event) this.progress(event.load);
  };

  /**
   * Every call goes through here: aborts via `signal` (the worker is told to cancel), waits for a
   * restart when the worker dies and retries once, converts errors to StudioErrors.
   */
  async invoke<T>(
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
      this.progressHandlers.set(requestId, onProgress ?? this.loadProgress);
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
    if (this.session && !this.session.dead) void this.session.remote.simulateDeviceLossForTest(++this.nextRequestId);
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
  }}
