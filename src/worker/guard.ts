/**
 * How errors leave the worker: every operation runs through `guard`, so the page gets a plain coded
 * object (Comlink would drop a StudioError's code), and the deaths the page must answer by starting
 * a new worker (out of memory, a WebAssembly trap) are posted as a WorkerFatalMessage.
 */
import { studioError, toStudioError } from '../shared/errors';
import type { WorkerFatalMessage } from '../protocol/session';
import { isWasmTrap } from './wasm-trap';

const OOM_PATTERN = /out of memory|\bOOM\b|could not allocate|allocation failed|Array buffer allocation|Aborted\(/i;

export function postFatal(code: WorkerFatalMessage['code'], reason: string, error?: { code: string; message: string }): void {
  const message: WorkerFatalMessage = { type: 'studio-fatal', code, reason, ...(error ? { error: { code: error.code, message: error.message } } : {}) };
  // Typed for any global (the page's type-check sees this file through the derived API type).
  (globalThis as unknown as { postMessage(message: unknown): void }).postMessage(message);
}

/** Errors cross Comlink as plain `{ code, message, detail }`. */
export function plainError(e: unknown): { code: string; message: string; detail?: unknown } {
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
 * Errors become plain coded objects. Out of memory ends the worker (the client restarts it and
 * retries). A WebAssembly trap ends it too, without a retry: the backend's memory may be corrupted
 * (every later model would fail), and the same input would trap again — the call fails with
 * BACKEND_TRAPPED once the new worker has the model and image back.
 */
export async function guard<T>(run: () => Promise<T>, during = 'working'): Promise<T> {
  try {
    return await run();
  } catch (e) {
    // The client answers this one by starting a single-threaded worker: its text (a pthread's abort,
    // an allocation failure) must not be taken for a trap or an out-of-memory crash first.
    if ((e as { code?: unknown } | null)?.code === 'WASM_THREADS_FAILED') throw plainError(e);
    const reason = e instanceof Error ? e.message : String((e as { message?: unknown } | null)?.message ?? e);
    if (isWasmTrap(e)) {
      const error = plainError(studioError('BACKEND_TRAPPED', { reason, during }));
      postFatal('WORKER_CRASHED', `WebAssembly trap: ${reason}`, error);
      throw error;
    }
    if (OOM_PATTERN.test(reason)) postFatal('WORKER_CRASHED', `out of memory: ${reason}`);
    throw plainError(e);
  }
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw studioError('CANCELLED');
}

/** Wait `ms`, or stop with CANCELLED when `signal` aborts. */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ms <= 0) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(studioError('CANCELLED'))), { once: true });
  });
}
