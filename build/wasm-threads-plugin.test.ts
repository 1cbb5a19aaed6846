import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { LOGICAL_CORES_GLOBAL, patchLogicalCores, standaloneFactorySource, wasmThreadsPlugin } from './wasm-threads-plugin';

const require = createRequire(import.meta.url);
const FACTORY_PATH = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
const published = readFileSync(FACTORY_PATH, 'utf8');

describe('wasm threads plugin (on the published tfjs-backend-wasm file)', () => {
  it('gives the pthread workers a factory text that stands alone', () => {
    // What tfjs puts in the pthread worker's Blob, evaluated in an empty context (no bundle around it).
    const blob = `var WasmBackendModuleThreadedSimd = ${standaloneFactorySource(published)};`;
    const context: Record<string, unknown> = {};
    runInNewContext(blob, context);
    expect(typeof context.WasmBackendModuleThreadedSimd).toBe('function');
    // The module's CommonJS exports tail (module.exports…) is left out: a worker has no `module`.
    expect(blob).not.toContain('module.exports');
  });

  it('routes the logical core count through the global the worker sets', () => {
    const patched = patchLogicalCores(published);
    expect(patched).toContain(`globalThis["${LOGICAL_CORES_GLOBAL}"]||navigator["hardwareConcurrency"]`);
    // The function as patched: the global wins, the navigator's count otherwise.
    const fn = /function _emscripten_num_logical_cores\(\)\{[^}]*\}/.exec(patched);
    expect(fn).not.toBeNull();
    const run = (global: number | undefined) =>
      runInNewContext(`${fn![0].replace('if(ENVIRONMENT_IS_NODE)return require("os").cpus().length;', '')}; _emscripten_num_logical_cores()`, {
        globalThis: { [LOGICAL_CORES_GLOBAL]: global },
        navigator: { hardwareConcurrency: 2 },
      });
    expect(run(6)).toBe(6);
    expect(run(undefined)).toBe(2);
  });

  it('transforms only the threaded factory, and its toString returns the standalone text', () => {
    const plugin = wasmThreadsPlugin();
    const transform = plugin.transform as (code: string, id: string) => { code: string } | null;
    expect(transform.call({}, 'export const x = 1;', '/x/node_modules/other.js')).toBeNull();
    const out = transform.call({}, published, FACTORY_PATH)!;
    const context: Record<string, unknown> = { module: { exports: {} }, exports: {} };
    (context.module as { exports: unknown }).exports = context.exports;
    runInNewContext(out.code, context);
    const factory = (context.module as { exports: { toString(): string } }).exports;
    expect(factory.toString()).toBe(standaloneFactorySource(patchLogicalCores(published)));
  });

  it('fails loudly when tfjs changes the file it patches', () => {
    expect(() => standaloneFactorySource('var WasmBackendModuleThreadedSimd = 1;')).toThrow(/exports tail/);
    expect(() => patchLogicalCores('function _emscripten_num_logical_cores(){return 4}')).toThrow(/hardwareConcurrency/);
  });
});
