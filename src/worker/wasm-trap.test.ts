/** WebAssembly traps are told from ordinary errors; trapNow() raises a real one. */
import { describe, expect, it } from 'vitest';
import { isWasmTrap, trapNow } from './wasm-trap';

describe('isWasmTrap', () => {
  it('a real trap (the unreachable instruction) is one', () => {
    let caught: unknown;
    try {
      trapNow();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(isWasmTrap(caught)).toBe(true);
  });

  it('so are the messages tfjs rethrows as plain errors; ordinary failures are not', () => {
    expect(isWasmTrap(new Error('memory access out of bounds'))).toBe(true);
    expect(isWasmTrap(new RangeError('table index is out of bounds'))).toBe(true);
    expect(isWasmTrap('unreachable')).toBe(true);
    expect(isWasmTrap(new Error('Weight file "weights.bin" is missing'))).toBe(false);
    expect(isWasmTrap(new Error('the code path is unreachable from here'))).toBe(false);
    expect(isWasmTrap({ code: 'CANCELLED', message: 'Cancelled by a newer request.' })).toBe(false);
  });
});
