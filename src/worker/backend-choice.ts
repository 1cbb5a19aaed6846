/**
 * Pure backend decision: given what the probes found, the order to try backends in and why.
 * No tfjs, no browser APIs, so it is unit-tested in Node (`backend.test.ts`).
 */
import type { BackendName } from '../shared/types';

export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface GpuProbe {
  available: boolean;
  /** Adapter / renderer in words ("google swiftshader", "ANGLE (…SwiftShader…)"). */
  adapter?: string;
  /** A software rasteriser (SwiftShader, llvmpipe, lavapipe, softpipe, Microsoft Basic Render). */
  software: boolean;
  /** Why it is not available, when probing failed. */
  error?: string;
  /** Neither clearly software nor a known GPU vendor: a micro-benchmark against WASM decides. */
  unsure?: boolean;
}

export interface BackendProbe {
  webgpu: GpuProbe;
  webgl: GpuProbe;
  wasm: { available: boolean };
}

export interface BackendCandidate {
  name: BackendName;
  reason: string;
  adapter?: string;
  /** Time it against WASM before using it (the adapter could not be identified). */
  verify?: boolean;
}

const SOFTWARE_PATTERN = /swiftshader|llvmpipe|lavapipe|softpipe|basic render|software/i;

/** True for the adapter/renderer strings of software rasterisers (measured 25–60× slower than WASM). */
export function isSoftwareAdapter(...descriptions: (string | undefined | null)[]): boolean {
  return descriptions.some((d) => !!d && SOFTWARE_PATTERN.test(d));
}

const KNOWN_GPU_PATTERN = /nvidia|geforce|quadro|tesla|\bamd\b|radeon|\bati\b|intel|iris|apple|qualcomm|adreno|\barm\b|mali|powervr|imagination|broadcom|videocore|samsung|xclipse|ampere|turing|\bada\b|rdna/i;

export type AdapterKind = 'software' | 'hardware' | 'unknown';

/** Software rasteriser, a recognised GPU vendor/architecture, or unknown (empty or unfamiliar strings). */
export function adapterKind(...descriptions: (string | undefined | null)[]): AdapterKind {
  if (isSoftwareAdapter(...descriptions)) return 'software';
  return descriptions.some((d) => !!d && KNOWN_GPU_PATTERN.test(d)) ? 'hardware' : 'unknown';
}

/** What the micro-benchmark measured: one small convolution, warm, on each backend (null = it failed). */
export interface MicroBenchmark {
  candidateMs: number | null;
  wasmMs: number | null;
  /** What was timed, in words ("one 3×3 conv, 56×56×32 → 32"). */
  workload: string;
}

/**
 * The decision for an unidentified GPU adapter: keep it only if it ran the convolution faster than
 * WASM (a software adapter that hides its name is 25–60× slower, so this is never close).
 */
export function decideByMicroBenchmark(candidate: BackendName, adapter: string | undefined, bench: MicroBenchmark): { pick: BackendName; reason: string } {
  const who = `${candidate}${adapter ? ` (adapter ${adapter})` : ' (unidentified adapter)'}`;
  const ms = (v: number) => `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
  if (bench.candidateMs === null) return { pick: 'wasm', reason: `${who} failed the micro-benchmark (${bench.workload}); WASM instead` };
  if (bench.wasmMs === null) return { pick: candidate, reason: `${who}: WASM failed the micro-benchmark (${bench.workload}), so ${candidate}` };
  const timed = `micro-benchmark, ${bench.workload}: ${candidate} ${ms(bench.candidateMs)} vs WASM ${ms(bench.wasmMs)}`;
  return bench.candidateMs < bench.wasmMs
    ? { pick: candidate, reason: `${who} is not a known GPU; ${timed}, so ${candidate}` }
    : { pick: 'wasm', reason: `${who} is not a known GPU; ${timed}, so WASM` };
}

/** Which backends could run at all (CPU always can). */
export function availableBackends(probe: BackendProbe): BackendName[] {
  const list: BackendName[] = [];
  if (probe.webgpu.available) list.push('webgpu');
  if (probe.webgl.available) list.push('webgl');
  if (probe.wasm.available) list.push('wasm');
  list.push('cpu');
  return list;
}

function describe(kind: 'WebGPU' | 'WebGL', p: GpuProbe): string {
  return p.adapter ? `${kind} adapter is ${p.adapter}` : `${kind} adapter`;
}

/**
 * Order to try: hardware WebGPU, hardware WebGL, WASM, CPU; software GPU adapters come after WASM
 * and CPU; `avoid`ed ones go last. A preferred backend (the user's switch, or e2e forcing webgpu) goes first whatever it is.
 */
export function planBackends(probe: BackendProbe, preferred?: BackendName | null, avoid: readonly BackendName[] = []): BackendCandidate[] {
  const softwareNotes: string[] = [];
  const hardware: BackendCandidate[] = [];
  const software: BackendCandidate[] = [];
  for (const [name, kind] of [['webgpu', 'WebGPU'], ['webgl', 'WebGL']] as const) {
    const p = probe[name];
    if (!p.available) continue;
    if (p.software) {
      softwareNotes.push(`${describe(kind, p)} (software)`);
      software.push({ name, adapter: p.adapter, reason: `${describe(kind, p)} (software); nothing faster could start` });
    } else {
      hardware.push(
        p.unsure
          ? { name, adapter: p.adapter, verify: true, reason: `${describe(kind, p)}: not a known GPU, to be timed against WASM` }
          : { name, adapter: p.adapter, reason: `${describe(kind, p)}: a GPU is available` },
      );
    }
  }
  const unavailableGpu = [
    !probe.webgpu.available ? `no WebGPU${probe.webgpu.error ? ` (${probe.webgpu.error})` : ''}` : null,
    !probe.webgl.available ? `no WebGL${probe.webgl.error ? ` (${probe.webgl.error})` : ''}` : null,
  ].filter((s): s is string => !!s);
  const whyNotGpu = [...softwareNotes.map((s) => `${s}; WASM is faster here`), ...unavailableGpu].join('; ');
  const plan: BackendCandidate[] = [...hardware];
  if (probe.wasm.available) plan.push({ name: 'wasm', reason: whyNotGpu || 'WASM (no GPU backend found)' });
  plan.push({ name: 'cpu', reason: probe.wasm.available ? 'the CPU backend (slowest) because nothing else started' : `${whyNotGpu ? whyNotGpu + '; ' : ''}no WebAssembly: the plain CPU backend (slow)` });
  plan.push(...software);
  // A backend that just crashed or lost its device goes last (recovery moves down the order).
  const avoided = plan.filter((c) => avoid.includes(c.name)).map((c) => ({ ...c, reason: `${c.reason} (it failed before)` }));
  plan.splice(0, plan.length, ...plan.filter((c) => !avoid.includes(c.name)), ...avoided);

  if (preferred) {
    const rest = plan.filter((c) => c.name !== preferred);
    const known = plan.find((c) => c.name === preferred);
    const adapter = known?.adapter ?? probe[preferred as 'webgpu' | 'webgl']?.adapter;
    const note = known ? '' : ' (the probe did not find it; trying anyway)';
    return [{ name: preferred, adapter, reason: `chosen by the user${adapter ? `; adapter ${adapter}` : ''}${note}` }, ...rest];
  }
  return plan;
}

/** After a crash or device loss: the next backend in the order (webgpu → webgl → wasm → cpu); wasm and cpu stay. */
export function nextBackendAfterFailure(current: BackendName): BackendName {
  if (current === 'webgpu') return 'webgl';
  if (current === 'webgl') return 'wasm';
  return current;
}

export interface WasmThreadEnvironment {
  /** `crossOriginIsolated`: SharedArrayBuffer may be shared with the pthread workers. */
  isolated: boolean;
  /** `navigator.hardwareConcurrency` (0 when unknown). */
  cores: number;
  /** The page's `?threads=` (1 = single-threaded); undefined = as many as there are cores. */
  requested?: number;
}

export interface WasmThreadPlan {
  /** XNNPACK's thread pool size; 1 = the single-threaded SIMD build. */
  threads: number;
  /** For the status line: how many threads and why. */
  why: string;
}

/** The thread pool the pthread build starts with at most (tfjs-backend-wasm 4.22: PTHREAD_POOL_SIZE 8). */
export const MAX_WASM_THREADS = 8;

/**
 * Threads for the WASM backend: one per core when the page is cross-origin isolated (the threaded
 * build needs SharedArrayBuffer), capped at the pthread pool tfjs starts; single-threaded otherwise,
 * and saying why.
 */
export function planWasmThreads(env: WasmThreadEnvironment): WasmThreadPlan {
  const cores = Math.max(1, Math.floor(env.cores || 1));
  if (env.requested !== undefined && Math.floor(env.requested) <= 1) return { threads: 1, why: 'single-threaded (asked for 1 thread)' };
  if (!env.isolated) return { threads: 1, why: 'single-threaded: the page is not cross-origin isolated, so no shared memory for threads' };
  const wanted = env.requested !== undefined ? Math.floor(env.requested) : cores;
  const threads = Math.min(wanted, MAX_WASM_THREADS);
  if (threads <= 1) return { threads: 1, why: `single-threaded: ${cores} core` };
  const capped = wanted > MAX_WASM_THREADS ? `, capped at the ${MAX_WASM_THREADS} pthread workers tfjs starts` : '';
  const source = env.requested !== undefined ? 'asked for' : `${cores} cores`;
  return { threads, why: `${threads} threads (${source}${capped})` };
}
