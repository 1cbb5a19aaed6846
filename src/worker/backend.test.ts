import { describe, expect, it } from 'vitest';
import { availableBackends, isSoftwareAdapter, MAX_WASM_THREADS, nextBackendAfterFailure, planBackends, planWasmThreads, type BackendProbe } from './backend-choice';

const none = { available: false, software: false };
const swiftWebgpu = { available: true, software: true, adapter: 'google swiftshader' };
const swiftWebgl = { available: true, software: true, adapter: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)), SwiftShader driver)' };
const realWebgpu = { available: true, software: false, adapter: 'nvidia ampere' };
const realWebgl = { available: true, software: false, adapter: 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11)' };

const names = (probe: BackendProbe, preferred?: Parameters<typeof planBackends>[1], avoid?: Parameters<typeof planBackends>[2]) =>
  planBackends(probe, preferred, avoid).map((c) => c.name);

describe('software adapter detection', () => {
  it('recognises SwiftShader, llvmpipe, lavapipe, softpipe and Basic Render', () => {
    for (const s of ['swiftshader', 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)))', 'llvmpipe (LLVM 15.0.6, 256 bits)', 'lavapipe', 'softpipe', 'Microsoft Basic Render Driver'])
      expect(isSoftwareAdapter(s), s).toBe(true);
    expect(isSoftwareAdapter('nvidia', undefined, 'ampere')).toBe(false);
    expect(isSoftwareAdapter(undefined, null)).toBe(false);
  });
});

describe('backend plan', () => {
  it('a real GPU: WebGPU first, then WebGL, WASM, CPU', () => {
    const probe = { webgpu: realWebgpu, webgl: realWebgl, wasm: { available: true } };
    expect(names(probe)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(planBackends(probe)[0].reason).toContain('nvidia ampere');
  });

  it('software adapters only (this machine): WASM first, with the reason in words; software GPUs last', () => {
    const probe = { webgpu: swiftWebgpu, webgl: swiftWebgl, wasm: { available: true } };
    const plan = planBackends(probe);
    expect(plan.map((c) => c.name)).toEqual(['wasm', 'cpu', 'webgpu', 'webgl']);
    expect(plan[0].reason).toContain('WebGPU adapter is google swiftshader (software); WASM is faster here');
  });

  it('no GPU at all: WASM and says why', () => {
    const plan = planBackends({ webgpu: { ...none, error: 'navigator.gpu missing' }, webgl: none, wasm: { available: true } });
    expect(plan.map((c) => c.name)).toEqual(['wasm', 'cpu']);
    expect(plan[0].reason).toBe('no WebGPU (navigator.gpu missing); no WebGL');
  });

  it('a hardware WebGL next to a software WebGPU: WebGL first', () => {
    expect(names({ webgpu: swiftWebgpu, webgl: realWebgl, wasm: { available: true } })).toEqual(['webgl', 'wasm', 'cpu', 'webgpu']);
  });

  it('no WebAssembly: CPU', () => {
    expect(names({ webgpu: none, webgl: none, wasm: { available: false } })).toEqual(['cpu']);
  });

  it('honours the preferred backend first, even a software one, then falls back in order', () => {
    const probe = { webgpu: swiftWebgpu, webgl: swiftWebgl, wasm: { available: true } };
    const plan = planBackends(probe, 'webgpu');
    expect(plan.map((c) => c.name)).toEqual(['webgpu', 'wasm', 'cpu', 'webgl']);
    expect(plan[0].reason).toMatch(/chosen by the user/);
    expect(names({ webgpu: none, webgl: none, wasm: { available: true } }, 'webgpu')[0]).toBe('webgpu');
  });

  it('after a failure the failed backend goes last; recovery follows webgpu → webgl → wasm, wasm stays', () => {
    const probe = { webgpu: realWebgpu, webgl: realWebgl, wasm: { available: true } };
    expect(names(probe, null, ['webgpu'])).toEqual(['webgl', 'wasm', 'cpu', 'webgpu']);
    expect(nextBackendAfterFailure('webgpu')).toBe('webgl');
    expect(nextBackendAfterFailure('webgl')).toBe('wasm');
    expect(nextBackendAfterFailure('wasm')).toBe('wasm');
    expect(nextBackendAfterFailure('cpu')).toBe('cpu');
  });

  it('lists what is available', () => {
    expect(availableBackends({ webgpu: swiftWebgpu, webgl: none, wasm: { available: true } })).toEqual(['webgpu', 'wasm', 'cpu']);
  });
});

describe('WASM threads', () => {
  it('one thread per core on an isolated page, capped at the pthread pool', () => {
    expect(planWasmThreads({ isolated: true, cores: 2 })).toEqual({ threads: 2, why: '2 threads (2 cores)' });
    expect(planWasmThreads({ isolated: true, cores: 16 }).threads).toBe(MAX_WASM_THREADS);
    expect(planWasmThreads({ isolated: true, cores: 16 }).why).toMatch(/capped at the 8 pthread workers/);
  });
  it('single-threaded without isolation, on one core, or when asked, and says why', () => {
    expect(planWasmThreads({ isolated: false, cores: 8 })).toEqual({ threads: 1, why: expect.stringMatching(/not cross-origin isolated/) });
    expect(planWasmThreads({ isolated: true, cores: 1 }).threads).toBe(1);
    expect(planWasmThreads({ isolated: true, cores: 0 }).threads).toBe(1);
    expect(planWasmThreads({ isolated: true, cores: 8, requested: 1 })).toEqual({ threads: 1, why: 'single-threaded (asked for 1 thread)' });
  });
  it('a requested count wins over the core count (up to the pool)', () => {
    expect(planWasmThreads({ isolated: true, cores: 2, requested: 4 })).toEqual({ threads: 4, why: '4 threads (asked for)' });
    expect(planWasmThreads({ isolated: false, cores: 2, requested: 4 }).threads).toBe(1);
  });
});
