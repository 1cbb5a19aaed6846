import { describe, expect, it } from 'vitest';
import { constantMapCaveats } from './measure';

const map = (values: number[]) => ({ width: values.length, height: 1, data: Float32Array.from(values) });

describe('faithfulness caveat for a constant map', () => {
  it('a map with one value everywhere (a 1×1 layer) gets FAITHFULNESS_CONSTANT_MAP; a varying one does not', () => {
    const caveats = constantMapCaveats([['gradcam', map([0.5, 0.5, 0.5, 0.5])], ['gradcam-plus-plus' as never, map([0, 0.2, 1, 0.4])]]);
    expect(caveats).toHaveLength(1);
    expect(caveats[0]?.code).toBe('FAITHFULNESS_CONSTANT_MAP');
    expect(caveats[0]?.message).toMatch(/gradcam map is the same value everywhere/);
  });
});
