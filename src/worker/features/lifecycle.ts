/**
 * The worker's life: backend start, the progress channel, the panel canvases, the watchdog's ping,
 * cancel, and memory figures. The client calls the first five itself (they carry no request id).
 */
import * as tf from '@tensorflow/tfjs';
import { studioError } from '../../shared/errors';
import type { BackendName } from '../../shared/types';
import type { MemoryReport, ProgressEvent, WorkerOptions } from '../../protocol/session';
import type { PanelName } from '../../protocol/explain';
import { registerFastWasmGradients } from '../../engine/kernels/wasm-gradients';
import { activeGpuDevice, initBackend, WasmThreadsFailed } from '../backend';
import { guard, postFatal } from '../guard';
import type { WorkerSession } from '../session';

export function makeLifecycleApi(session: WorkerSession) {
  return {
    /** Pick a backend (or the one asked for) and say why; `avoid` = backends that just failed (tried last). */
    init(preferred?: BackendName | null, avoid?: BackendName[], options?: WorkerOptions) {
      return guard(async () => {
        if (options?.memoryBudgetMb && options.memoryBudgetMb > 0) session.memoryBudgetMb = options.memoryBudgetMb;
        if (options?.firstVersion && options.firstVersion > session.version) session.version = options.firstVersion;
        session.testLoadDelayMs = options?.testLoadDelayMs ?? 0;
        session.testExplainHoldMs = options?.testExplainHoldMs ?? 0;
        session.gallery.holdNextRunMs = options?.testGalleryHoldMs ?? 0;
        let backend;
        try {
          backend = await initBackend(preferred, avoid ?? [], options?.threads, options?.testThreadedStartMs);
        } catch (e) {
          if (e instanceof WasmThreadsFailed) throw studioError('WASM_THREADS_FAILED', { threads: e.threads, reason: e.message });
          throw studioError('BACKEND_FAILED', { backend: preferred ?? 'any', reason: e instanceof Error ? e.message : String(e) });
        }
        if (backend.name === 'wasm') registerFastWasmGradients();
        session.backend = backend;
        const device = activeGpuDevice();
        const name = backend.name;
        void device?.lost.then((info) => {
          if (tf.getBackend() === name && info.reason !== 'destroyed') postFatal('DEVICE_LOST', info.message || info.reason || 'unknown');
        });
        return backend;
      });
    },

    /**
     * The one progress channel of the session (a Comlink proxy handed over once): loads and costly
     * explanations report through it with their request id. One channel, not a proxy per call — each
     * proxy is a MessagePort that lives until both sides have collected it.
     */
    async listen(listener: (event: ProgressEvent) => void): Promise<void> {
      session.listen(listener);
    },

    /** The page's whole grid: canvases of panels no longer shown are dropped. */
    async attachCanvases(transferred: Partial<Record<PanelName, OffscreenCanvas>>): Promise<void> {
      session.canvases = new Map(Object.entries(transferred).filter((entry): entry is [string, OffscreenCanvas] => !!entry[1]));
      session.drawAll();
    },

    /** Answers at once when the worker's event loop is free (the client's watchdog). */
    async ping(): Promise<number> {
      return session.version;
    },

    /** Abort request `requestId` (it rejects with CANCELLED). */
    async cancel(requestId: number): Promise<void> {
      session.requests.cancel(requestId);
    },

    /** tfjs memory in the worker (leak checks). */
    async memory(_requestId: number): Promise<MemoryReport> {
      // Only with --js-flags=--expose-gc (the soak): measure after a full collection, not between two.
      (globalThis as { gc?: () => void }).gc?.();
      const m = tf.memory();
      // The WASM backend's heap only grows: its size is what a leak in WASM memory would show.
      const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
      // Chromium's (non-standard) performance.memory: the worker's JS heap.
      const heap = (performance as Performance & { memory?: { usedJSHeapSize?: number } }).memory?.usedJSHeapSize;
      return {
        numTensors: m.numTensors,
        numBytes: m.numBytes,
        resultCache: { maps: session.results.size, bytes: session.results.bytes, computed: session.results.computed },
        ...(wasm?.HEAPU8 ? { wasmHeapBytes: wasm.HEAPU8.byteLength } : {}),
        ...(typeof heap === 'number' ? { jsHeapBytes: heap } : {}),
      };
    },
  };
}
