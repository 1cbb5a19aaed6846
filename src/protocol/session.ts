/** The page/worker contract of the session itself: progress, fatal messages, start options. */
import type { ExplainProgress, LoadProgress } from '../shared/types';
import type { GalleryProgress } from './gallery';
import type { MetricsProgress } from './metrics';

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
  /** Tests (`?testExplainHoldMs=`): a costly method waits this long at 0 % before it runs, so a test can watch and cancel its panel. */
  testExplainHoldMs?: number;
  /** Tests (`?testGalleryHoldMs=`): the first gallery run waits this long (or until paused) before its first batch. */
  testGalleryHoldMs?: number;
  /** WASM threads (the page's `?threads=`; 1 = single-threaded); default: one per core when cross-origin isolated. */
  threads?: number;
  /** Tests (`?testThreadedStartMs=`): the threaded WASM build's start limit, so that a test can see the single-threaded fallback. */
  testThreadedStartMs?: number;
}

/** tfjs memory in the worker (leak checks, the soak and the gallery bench). */
export interface MemoryReport {
  numTensors: number;
  numBytes: number;
  /** The worker's result cache: maps kept, their bytes, and methods computed since the worker started. */
  resultCache?: { maps: number; bytes: number; computed: number };
  wasmHeapBytes?: number;
  jsHeapBytes?: number;
}
