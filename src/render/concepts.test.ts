/** Deep Feature Factorization's combined picture: each pixel in the colour of its strongest concept, over grey, by strength. */
import { describe, expect, it } from 'vitest';
import { drawConceptPicture } from './concepts';

describe('drawConceptPicture', () => {
  it('colours each region by its dominant concept and leaves grey where no concept is active', () => {
    // 2 × 1 concept grid: concept 0 strong on the left, concept 1 on the right; a third cell row absent.
    const concepts = {
      width: 2, height: 1, count: 2,
      maps: Float32Array.from([1, 0, 0, 1]),
      topClasses: [[{ index: 0, probability: 0.9 }], [{ index: 1, probability: 0.8 }]],
      colours: [[255, 0, 0], [0, 0, 255]] as Array<[number, number, number]>,
    };
    const original = { width: 4, height: 2, data: new Uint8ClampedArray(4 * 2 * 4).fill(100) };
    const out = drawConceptPicture(original, concepts);
    const px = (x: number, y: number) => Array.from(out.data.slice((y * 4 + x) * 4, (y * 4 + x) * 4 + 4));
    expect(px(0, 0)[0]).toBeGreaterThan(px(0, 0)[2] ?? 0); // red on the left
    expect(px(3, 1)[2]).toBeGreaterThan(px(3, 1)[0] ?? 0); // blue on the right
    // Bilinear between the cells: the two middle pixels are mixed, the outer ones pure (half-pixel centres).
    expect(px(0, 0)).toEqual([Math.round(100 * 0.25 + 255 * 0.75), 25, 25, 100]);
    expect(px(1, 0)[0]).toBeLessThan(px(0, 0)[0] ?? 0);
    const none = drawConceptPicture(original, { ...concepts, maps: new Float32Array(4) });
    expect(Array.from(none.data.slice(0, 4))).toEqual([100, 100, 100, 100]); // grey of a grey image, alpha kept
  });
});
