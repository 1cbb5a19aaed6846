/**
 * Makes tfjs-backend-wasm's threaded build work when bundled.
 *
 * The backend starts its pthread workers from a Blob made of `factory.toString()` (the Emscripten
 * module factory), and each pthread worker evaluates that text on its own. Bundled, the factory's
 * text no longer stands alone — it refers to `_scriptDir` and to the bundler's renamed helpers in the
 * scope around it — so every pthread worker died at once with "e is not defined" (tfjs issue #4107).
 * This plugin hands the factory a `toString` that returns the module file exactly as published,
 * wrapped so that it evaluates to the factory: the pthread workers then run the real Emscripten script.
 *
 * Second, the thread count. tfjs-backend-wasm 4.22 caps XNNPACK's pool at
 * `emscripten_num_logical_cores() / 2` (navigator.hardwareConcurrency / 2, assuming two hyperthreads
 * per core), whatever `setThreadsCount` asks — on a 2-core machine that is ONE thread, which is why
 * threads once "made no difference" here. The module reads the logical core count through
 * `globalThis[LOGICAL_CORES_GLOBAL]` when the worker sets it (twice the threads it wants), so the
 * thread count the app decides is the one XNNPACK gets.
 */
import type { Plugin } from 'vite';

const THREADED_FACTORY = /tfjs-backend-wasm-threaded-simd\.js$/;
/** The worker sets this global (a number) before the WASM module starts; see the comment above. */
export const LOGICAL_CORES_GLOBAL = '__gradcamWasmLogicalCores';
const CORES_READ = 'return navigator["hardwareConcurrency"]}';

/** The published factory with its logical-core count read through LOGICAL_CORES_GLOBAL first. */
export function patchLogicalCores(published: string): string {
  if (!published.includes(CORES_READ)) throw new Error('wasm-threads plugin: emscripten_num_logical_cores no longer reads navigator.hardwareConcurrency as expected');
  return published.replace(CORES_READ, `return globalThis["${LOGICAL_CORES_GLOBAL}"]||navigator["hardwareConcurrency"]}`);
}

// Where the published file stops being the module and starts its CommonJS/AMD exports.
const EXPORTS_TAIL = "if (typeof exports === 'object' && typeof module === 'object')";

/** The standalone text a pthread worker evaluates (after tfjs's `var WasmBackendModuleThreadedSimd = `). */
export function standaloneFactorySource(published: string): string {
  const end = published.indexOf(EXPORTS_TAIL);
  if (end < 0) throw new Error('wasm-threads plugin: the threaded factory no longer has the expected exports tail');
  return `(function () {\n${published.slice(0, end)}\nreturn WasmBackendModuleThreadedSimd;\n})()`;
}

export function wasmThreadsPlugin(): Plugin {
  return {
    name: 'gradcam-studio:wasm-threads',
    enforce: 'pre',
    transform(code, id) {
      if (!THREADED_FACTORY.test(id.split('?')[0])) return null;
      const patched = patchLogicalCores(code);
      const text = JSON.stringify(standaloneFactorySource(patched));
      // Appended after the module's own exports, in its scope: the factory object is the one tfjs imports.
      return { code: `${patched}\n;WasmBackendModuleThreadedSimd.toString = function () { return ${text}; };\n`, map: null };
    },
  };
}
