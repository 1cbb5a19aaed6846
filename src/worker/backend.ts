/**
 * Backend probing and activation in the worker. The decision itself is pure (`backend-choice.ts`);
 * this file asks the browser what it has and starts tfjs on the chosen backend, falling to the
 * next candidate (and saying so) when one fails to start.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { BackendInfo, BackendName } from '../shared/types';
import { useBackend } from '../engine';
import {
  adapterKind,
  availableBackends,
  decideByMicroBenchmark,
  isSoftwareAdapter,
  planBackends,
  planWasmThreads,
  type BackendProbe,
  type GpuProbe,
  type MicroBenchmark,
  type WasmThreadPlan,
} from './backend-choice';

// Minimal WebGPU shapes (the WebWorker lib of this TypeScript has no WebGPU types).
interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}
interface GpuAdapterLike {
  info?: GpuAdapterInfoLike;
  isFallbackAdapter?: boolean;
  requestAdapterInfo?: () => Promise<GpuAdapterInfoLike>;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}
export interface GpuDeviceLike {
  lost: Promise<{ reason?: string; message?: string }>;
}

// Served from our own origin (Vite emits them as assets). The threaded build's pthread workers run
// the factory text that build/wasm-threads-plugin.ts keeps standalone.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlainUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
});

let wasmThreads: WasmThreadPlan | null = null;
/** Must equal LOGICAL_CORES_GLOBAL in build/wasm-threads-plugin.ts (build code stays out of the worker bundle). */
const WASM_LOGICAL_CORES_GLOBAL = '__gradcamWasmLogicalCores';

/**
 * Decide the WASM thread count before the WASM module starts (it is fixed for the worker's life:
 * tfjs starts the module once). Threads need a cross-origin-isolated page (SharedArrayBuffer).
 */
function configureWasmThreads(requested?: number): WasmThreadPlan {
  if (wasmThreads) return wasmThreads;
  const scope = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  const plan = planWasmThreads({
    isolated: scope.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function',
    cores: scope.navigator?.hardwareConcurrency ?? 0,
    requested,
  });
  if (plan.threads > 1) {
    setThreadsCount(plan.threads);
    // tfjs caps its pool at half the logical cores it is told of (build/wasm-threads-plugin.ts).
    (globalThis as Record<string, unknown>)[WASM_LOGICAL_CORES_GLOBAL] = 2 * plan.threads;
  } else tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  wasmThreads = plan;
  return plan;
}

/** The threaded build's start (8 pthread workers and the module) takes well under a second; this is the limit. */
const THREADED_START_MS = 20_000;

/** The threaded WASM build did not start: the worker is unusable for WASM; the client restarts it single-threaded. */
export class WasmThreadsFailed extends Error {
  constructor(readonly threads: number, reason: string) {
    super(reason);
    this.name = 'WasmThreadsFailed';
  }
}

/** tf.setBackend, bounded in time when the threaded WASM build starts (its pthread workers can die silently). */
async function startBackend(name: BackendName, plan: WasmThreadPlan, startLimitMs: number): Promise<boolean> {
  if (name !== 'wasm' || plan.threads <= 1) return tf.setBackend(name);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onError: ((event: ErrorEvent) => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WasmThreadsFailed(plan.threads, `no answer within ${Math.round(startLimitMs / 100) / 10} s`)), startLimitMs);
    // A pthread worker that dies reports here (an uncaught error of a nested worker): without this
    // it would reach the page as a crash of this worker, again at every restart.
    onError = (event: ErrorEvent) => {
      event.preventDefault();
      reject(new WasmThreadsFailed(plan.threads, `a pthread worker failed: ${event.message || 'unknown error'}`));
    };
    globalThis.addEventListener('error', onError);
  });
  try {
    // tfjs reports a rejected backend start (a shared memory it could not allocate, a failed fetch) as false.
    const started = await Promise.race([tf.setBackend(name), limit]);
    if (!started) throw new WasmThreadsFailed(plan.threads, 'the threaded module did not initialise');
    return started;
  } catch (e) {
    throw e instanceof WasmThreadsFailed ? e : new WasmThreadsFailed(plan.threads, e instanceof Error ? e.message : String(e));
  } finally {
    clearTimeout(timer);
    if (onError) globalThis.removeEventListener('error', onError);
  }
}

/** The WASM backend's thread pool as started, in words for the status line. */
function describeWasmThreads(plan: WasmThreadPlan): { threads: number; words: string } {
  let threads: number;
  try {
    threads = getThreadsCount();
  } catch {
    threads = plan.threads; // not started: reported as planned
  }
  if (threads === plan.threads) return { threads, words: plan.why };
  return { threads, words: `${threads} thread${threads === 1 ? '' : 's'} (planned ${plan.why})` };
}

async function probeWebGpu(): Promise<GpuProbe> {
  const gpu = (self.navigator as unknown as { gpu?: GpuLike }).gpu;
  if (!gpu) return { available: false, software: false, error: 'navigator.gpu is missing' };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { available: false, software: false, error: 'no adapter' };
    const info = adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {});
    const words = [info.vendor, info.architecture, info.device, info.description].filter((s) => !!s).join(' ');
    const fallback = adapter.isFallbackAdapter === true;
    const software = fallback || isSoftwareAdapter(info.vendor, info.architecture, info.device, info.description);
    return {
      available: true,
      adapter: words || (fallback ? 'a fallback adapter' : undefined),
      software,
      unsure: !software && adapterKind(info.vendor, info.architecture, info.device, info.description) === 'unknown',
    };
  } catch (e) {
    return { available: false, software: false, error: e instanceof Error ? e.message : String(e) };
  }
}

function probeWebGl(): GpuProbe {
  if (typeof OffscreenCanvas === 'undefined') return { available: false, software: false, error: 'no OffscreenCanvas' };
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!gl) return { available: false, software: false, error: 'no WebGL2 context' };
    const debug = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    gl.getExtension('WEBGL_lose_context')?.loseContext(); // free it: tfjs makes its own
    return { available: true, adapter: renderer || undefined, software: isSoftwareAdapter(renderer), unsure: adapterKind(renderer) === 'unknown' };
  } catch (e) {
    return { available: false, software: false, error: e instanceof Error ? e.message : String(e) };
  }
}

export async function probeBackends(): Promise<BackendProbe> {
  return { webgpu: await probeWebGpu(), webgl: probeWebGl(), wasm: { available: typeof WebAssembly === 'object' } };
}

const MICRO_WORKLOAD = 'one 3×3 conv, 56×56×32 → 32, warm';

/** Time one small convolution on `name` (best of 2 after a warm-up that compiles shaders), or null if it fails. */
async function timeConvolution(name: BackendName): Promise<number | null> {
  try {
    // WASM starts here with the same guards as in initBackend (its threaded start may fail or hang).
    const started = await startBackend(name, configureWasmThreads(), THREADED_START_MS);
    if (!started) return null;
    await tf.ready();
    const x = tf.randomNormal([1, 56, 56, 32], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 32, 32], 0, 0.1, 'float32', 2) as tf.Tensor4D;
    try {
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const y = tf.conv2d(x, w, 1, 'same');
        await y.data();
        y.dispose();
        if (i > 0) best = Math.min(best, performance.now() - t0);
      }
      return best;
    } finally {
      tf.dispose([x, w]);
    }
  } catch (e) {
    if (e instanceof WasmThreadsFailed) throw e; // the client restarts the worker single-threaded
    return null;
  }
}

/** The unidentified GPU backend against WASM, on the same small convolution. */
async function microBenchmark(candidate: BackendName): Promise<MicroBenchmark> {
  const candidateMs = await timeConvolution(candidate);
  const wasmMs = await timeConvolution('wasm');
  return { candidateMs, wasmMs, workload: MICRO_WORKLOAD };
}

/** Start tfjs on the best backend (or the preferred one); each failure is named in the final reason. */
export async function initBackend(
  preferred?: BackendName | null,
  avoid: BackendName[] = [],
  threads?: number,
  threadedStartLimitMs = THREADED_START_MS,
): Promise<BackendInfo> {
  const threadPlan = configureWasmThreads(threads);
  const probe = await probeBackends();
  const plan = planBackends(probe, preferred, avoid);
  const failures: string[] = [];
  let timedOut: string | null = null; // the micro-benchmark's verdict against an unidentified GPU
  for (const candidate of plan) {
    if (candidate.verify && !preferred && probe.wasm.available) {
      const decision = decideByMicroBenchmark(candidate.name, candidate.adapter, await microBenchmark(candidate.name));
      if (decision.pick !== candidate.name) {
        timedOut = decision.reason;
        continue;
      }
      candidate.reason = decision.reason;
    }
    if (candidate.name === 'wasm' && timedOut) candidate.reason = timedOut;
    try {
      // useBackend: the start, then the engine's WASM gradient kernels.
      await useBackend(candidate.name, (name) => startBackend(name as BackendName, threadPlan, threadedStartLimitMs));
      tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)).dataSync()); // the backend really computes
      let reason = failures.length ? `${failures.join('; ')}; so ${candidate.name}: ${candidate.reason}` : candidate.reason;
      if (candidate.name !== 'wasm') return { name: candidate.name, reason, available: availableBackends(probe), adapter: candidate.adapter };
      const pool = describeWasmThreads(threadPlan);
      reason = `${reason}; ${pool.words}`;
      return { name: candidate.name, reason, available: availableBackends(probe), adapter: candidate.adapter, threads: pool.threads };
    } catch (e) {
      if (e instanceof WasmThreadsFailed) throw e; // this worker's WASM is stuck: the client restarts it single-threaded
      failures.push(`${candidate.name} failed to start (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  throw new Error(failures.join('; '));
}

/** The WebGPU device of the active backend, to watch for device loss. */
export function activeGpuDevice(): GpuDeviceLike | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const backend = tf.backend() as unknown as { device?: GpuDeviceLike };
  return backend.device ?? null;
}
