/**
 * WebAssembly traps: what a kernel that read or wrote outside its memory throws. After one the WASM
 * backend's heap may be corrupted, so the worker is replaced (see guard in worker.ts).
 */

/** The messages V8 and SpiderMonkey give traps (tfjs rethrows some of them as plain Errors). */
const TRAP_MESSAGES = /memory access out of bounds|^unreachable$|unreachable (?:code|executed)|table index is out of bounds|integer (?:divide by zero|overflow)|invalid conversion to integer|null function or function signature mismatch|call stack exhausted|index out of bounds/i;

export function isWasmTrap(e: unknown): boolean {
  if (typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError) return true;
  const message = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
  return TRAP_MESSAGES.test(message);
}

/**
 * A real trap, for tests: a 1-function module whose body is the `unreachable` instruction.
 * (magic, version; type ()→(); function 0 of that type; export "f"; body: no locals, unreachable, end.)
 */
const UNREACHABLE_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
  0x03, 0x02, 0x01, 0x00,
  0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00,
  0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b,
]);

export function trapNow(): never {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(UNREACHABLE_MODULE));
  (instance.exports.f as () => void)();
  throw new Error('the trap did not fire');
}
