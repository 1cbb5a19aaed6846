/**
 * The page's client of the computation worker, the only thing the store calls: one generic bridge
 * over the worker's API (`call(operation, args, options)` — the operations and their types come from
 * the worker's feature modules through src/protocol), with cancellation by AbortSignal, progress by
 * request, and "newest wins" lanes. The worker's life (start, watchdog, restart, replay, backend
 * fallback) is worker-life.ts; what a new worker must get back is replay.ts.
 */
import * as Comlink from 'comlink';
import { studioError } from '../shared/errors';
import type { BackendInfo, BackendName } from '../shared/types';
import type { OperationArgs, OperationResult, PanelName, ProgressEvent, WorkerOperation } from '../protocol';
import type { ClientEvent } from './events';
import { rasteriseSvgs } from './page';
import { Replay } from './replay';
import { WorkerLife } from './worker-life';

/** Lanes on the page side: a new call on a lane cancels the one still in flight there (the worker does the same). */
export type ClientLane = 'explain' | 'metrics' | 'gallery';

export interface CallOptions {
  signal?: AbortSignal;
  /** Newest wins: a new call on this lane cancels the previous one still in flight (it rejects with CANCELLED). */
  lane?: ClientLane;
  /** Progress events of this call (load, explain, metrics, gallery). Without one, load progress becomes a `progress` event. */
  onProgress?: (event: ProgressEvent) => void;
  /** Objects handed over instead of copied (a camera frame); the page keeps no copy. */
  transfer?: Transferable[];
}

/** What a busy worker was doing, for WORKER_UNRESPONSIVE's message. */
const ACTIVITY: Partial<Record<WorkerOperation, string>> = {
  openFiles: 'opening files',
  openDemo: 'opening the demo',
  restoreCached: 'restoring the cached model',
  explain: 'explaining',
  explainFrame: 'explaining a camera frame',
  faithfulness: 'measuring faithfulness',
  sanityCheck: 'running the sanity check',
  galleryRun: 'explaining the gallery',
  galleryExportZip: 'exporting the gallery',
  trapForTest: 'running a test trap',
  hangForTest: 'running a test hang',
};

export class StudioClient {
  private readonly replay = new Replay();
  private readonly lanes = new Map<ClientLane, AbortController>();
  private readonly life: WorkerLife;

  constructor(options?: { workerFactory?: () => Worker; watchdogMs?: number }) {
    this.life = new WorkerLife(this.replay, () => this.lanes.has('explain'), options);
  }

  /**
   * Call worker operation `op` with its arguments (after the request id, which the bridge adds).
   * Aborting `signal` cancels it in the worker; a dead worker is replaced and the call retried once.
   */
  async call<K extends WorkerOperation>(op: K, args: OperationArgs<K>, options: CallOptions = {}): Promise<OperationResult<K>> {
    const { lane, onProgress, transfer } = options;
    let signal = options.signal;
    let controller: AbortController | null = null;
    let forward: (() => void) | null = null;
    if (lane) {
      this.lanes.get(lane)?.abort();
      controller = new AbortController();
      this.lanes.set(lane, controller);
      const own = controller;
      forward = () => own.abort();
      if (signal?.aborted) own.abort();
      else signal?.addEventListener('abort', forward, { once: true });
      signal = own.signal;
    }
    try {
      const prepared = await this.prepare(op, args);
      if (transfer?.length) {
        const first = prepared.find((a) => typeof a === 'object' && a !== null);
        if (first) Comlink.transfer(first, transfer);
      }
      const invoke = (remote: Comlink.Remote<Record<string, (...a: unknown[]) => Promise<unknown>>>, id: number) => {
        const method = remote[op as string];
        if (!method) throw studioError('INTERNAL', { reason: `the worker has no operation ${op}` });
        return method(id, ...prepared);
      };
      const result = (await this.life.invoke(invoke as never, signal, ACTIVITY[op] ?? 'working', onProgress)) as OperationResult<K>;
      this.settled(op, prepared, result);
      return result;
    } finally {
      if (forward) options.signal?.removeEventListener('abort', forward);
      if (lane && this.lanes.get(lane) === controller) this.lanes.delete(lane);
    }
  }

  /** What the page does before a call: SVGs rasterised, and an open named by a token the replay keeps. */
  private async prepare(op: WorkerOperation, args: readonly unknown[]): Promise<unknown[]> {
    const list = [...args];
    switch (op) {
      case 'openFiles': {
        const files = await rasteriseSvgs((list[0] as Parameters<typeof rasteriseSvgs>[0]) ?? []);
        return [files, { ...(list[1] as object | undefined), token: this.replay.newOpen({ kind: 'files', files }) }];
      }
      case 'openDemo': {
        const options = (list[0] as { sample?: string } | undefined) ?? {};
        return [{ ...options, token: this.replay.newOpen({ kind: 'demo', ...(options.sample ? { sample: options.sample } : {}) }) }];
      }
      case 'restoreCached':
        return [{ ...(list[0] as object | undefined), token: this.replay.newOpen({ kind: 'cache' }) }];
      default:
        return list;
    }
  }

  /** What the page keeps after a call, for a restarted worker: the committed state, the view, the gallery's files. */
  private settled(op: WorkerOperation, args: readonly unknown[], result: unknown): void {
    const state = (result as { state?: Parameters<Replay['noteState']>[0] } | null)?.state;
    if (op === 'openFiles' || op === 'openDemo' || op === 'restoreCached') this.replay.noteState(state);
    if (op === 'openFiles' && (result as { gallery?: unknown }).gallery) this.replay.galleryFiles = args[0] as Replay['galleryFiles'];
    if (op === 'gallerySetFiles') this.replay.galleryFiles = args[0] as Replay['galleryFiles'];
    if (op === 'setView') this.replay.view = { ...(args[0] as NonNullable<Replay['view']>) };
  }

  /** Start the worker on the best backend (or `preferred`). Called again to switch: a fresh worker reloads everything. */
  init(preferred?: BackendName | null): Promise<BackendInfo> {
    return this.life.init(preferred);
  }

  on(listener: (e: ClientEvent) => void): () => void {
    return this.life.on(listener);
  }

  /** Creates a <canvas> in each container and hands it to the worker (again after a restart). */
  mountPanels(containers: Partial<Record<PanelName, HTMLElement>>): void {
    this.life.mountPanels(containers);
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
    await this.call('attachLiveCanvas', [offscreen], { signal, transfer: [offscreen] });
  }

  /** The active backend, or null before init. */
  get backend(): BackendInfo | null {
    return this.life.backend;
  }

  /** Terminates the worker as a crash would; the client recovers on its own. */
  killWorkerForTest(): void {
    this.life.killWorkerForTest();
  }

  /** Makes the worker report a WebGPU device loss; the client recovers on the next backend. */
  simulateDeviceLossForTest(): void {
    this.life.simulateDeviceLossForTest();
  }

  /** Stops the worker for good (page unload, tests). */
  dispose(): void {
    this.life.dispose();
  }
}

/** What the store needs of the client: the bridge itself (test stand-ins implement the same type). */
export type StudioClientPort = Pick<StudioClient, 'call' | 'init' | 'on' | 'mountPanels' | 'mountLiveCanvas' | 'killWorkerForTest'>;
