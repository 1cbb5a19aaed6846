import { describe, expect, it } from 'vitest';
import { resolveClass } from './classes';

describe('resolveClass (the app, the engine and the CLI)', () => {
  const labels = ['Peace', 'Stop', ' Thumbs Up', '7'];
  it('indexes and labels, exact then loose', () => {
    expect(resolveClass(1, labels)).toBe(1);
    expect(resolveClass('1', labels)).toBe(1);
    expect(resolveClass('stop', labels)).toBe(1);
    expect(resolveClass('  Peace ', labels)).toBe(0);
    expect(resolveClass('thumbs up', labels)).toBe(2);
    expect(resolveClass(' Thumbs Up', labels)).toBe(2);
    expect(resolveClass('7', labels)).toBe(3); // the label "7" (exact) wins over the index 7 (out of range anyway)
  });
  it('refuses what is not a class', () => {
    for (const q of [4, -1, 1.5, 'zebra', '', '  ', '99']) expect(resolveClass(q as number | string, labels)).toBeNull();
  });
});
