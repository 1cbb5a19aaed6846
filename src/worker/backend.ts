/**
 * Backend probing and activation in the worker. The decision itself is pure (`backend-choice.ts`);
 * this file asks the browser what it has and starts tfjs on the chosen backend, falling to the
 * next candidate (and saying so) when one fails to start.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import type { BackendInfo, BackendName } from '../shared/types';
import {
  adapterKind,
  availableBackends,
  decideByMicroBenchmark,
  isSoftwareAdapter,
  planBackends,
  type BackendProbe,
  type GpuProbe,
  type MicroBenchmark,
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

// Served from our own origin (Vite emits them as assets). The threaded build is not used: measured
// no gain on 2 cores, and it would need SharedArrayBuffer plus an extra pthread worker.
// tfjs insists on an entry for every binary: the threaded one is never loaded (threads are off below).
setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlainUrl, 'tfjs-backend-wasm-simd.wasm': wasmSimdUrl, 'tfjs-backend-wasm-threaded-simd.wasm': wasmSimdUrl });
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);

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
    if (!(await tf.setBackend(name))) return null;
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
  } catch {
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
export async function initBackend(preferred?: BackendName | null, avoid: BackendName[] = []): Promise<BackendInfo> {
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
      const ok = await tf.setBackend(candidate.name);
      if (!ok) throw new Error('tf.setBackend returned false');
      await tf.ready();
      tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)).dataSync()); // the backend really computes
      const reason = failures.length ? `${failures.join('; ')}; so ${candidate.name}: ${candidate.reason}` : candidate.reason;
      return { name: candidate.name, reason, available: availableBackends(probe), adapter: candidate.adapter };
    } catch (e) {
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
