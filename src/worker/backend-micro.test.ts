import { describe, expect, it } from 'vitest';
import { adapterKind, decideByMicroBenchmark, planBackends } from './backend-choice';

const WORKLOAD = 'one 3×3 conv, 56×56×32 → 32, warm';

describe('adapter kind', () => {
  it('tells software, known GPUs and unknown adapters apart', () => {
    expect(adapterKind('google', 'swiftshader')).toBe('software');
    expect(adapterKind('ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)), SwiftShader driver)')).toBe('software');
    expect(adapterKind('nvidia', 'ampere')).toBe('hardware');
    expect(adapterKind('ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)')).toBe('hardware');
    expect(adapterKind('apple', 'metal-3')).toBe('hardware');
    expect(adapterKind('', undefined)).toBe('unknown');
    expect(adapterKind('acme', 'mystery-gpu')).toBe('unknown');
  });
});

describe('micro-benchmark decision for an unidentified adapter', () => {
  it('keeps the GPU backend only when it ran the convolution faster than WASM, and says so with the timings', () => {
    const faster = decideByMicroBenchmark('webgpu', undefined, { candidateMs: 2.5, wasmMs: 40, workload: WORKLOAD });
    expect(faster.pick).toBe('webgpu');
    expect(faster.reason).toBe('webgpu (unidentified adapter) is not a known GPU; micro-benchmark, one 3×3 conv, 56×56×32 → 32, warm: webgpu 2.5 ms vs WASM 40 ms, so webgpu');
    const slower = decideByMicroBenchmark('webgl', 'acme', { candidateMs: 1600, wasmMs: 70, workload: WORKLOAD });
    expect(slower.pick).toBe('wasm');
    expect(slower.reason).toContain('webgl 1600 ms vs WASM 70 ms, so WASM');
    // A tie is not a win: WASM has no shader compilation and no device loss.
    expect(decideByMicroBenchmark('webgpu', undefined, { candidateMs: 30, wasmMs: 30, workload: WORKLOAD }).pick).toBe('wasm');
  });

  it('falls back to whichever side did run when the other failed', () => {
    expect(decideByMicroBenchmark('webgpu', 'x', { candidateMs: null, wasmMs: 30, workload: WORKLOAD })).toMatchObject({ pick: 'wasm', reason: expect.stringContaining('failed the micro-benchmark') });
    expect(decideByMicroBenchmark('webgpu', 'x', { candidateMs: 30, wasmMs: null, workload: WORKLOAD }).pick).toBe('webgpu');
  });

  it('the plan marks unsure adapters for timing and trusts known ones', () => {
    const unsure = planBackends({ webgpu: { available: true, software: false, unsure: true }, webgl: { available: false, software: false }, wasm: { available: true } });
    expect(unsure[0]).toMatchObject({ name: 'webgpu', verify: true });
    expect(unsure[0].reason).toContain('to be timed against WASM');
    const known = planBackends({ webgpu: { available: true, software: false, adapter: 'nvidia ampere' }, webgl: { available: false, software: false }, wasm: { available: true } });
    expect(known[0].verify).toBeUndefined();
  });
});
