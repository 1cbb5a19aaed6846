/** Superpixel boundaries over a panel: only the pixels where the (stretched) label changes are lightened. */
import { describe, expect, it } from 'vitest';
import { drawSegmentBoundaries } from './segments';

describe('drawSegmentBoundaries', () => {
  it('lightens the pixels on a label change (right or below) and leaves the rest, at another resolution than the labels', () => {
    // Labels 2 × 2: left column 0, right column 1 → on an 8 × 4 panel the boundary is panel column 3.
    const segments = { width: 2, height: 2, count: 2, labels: Int32Array.from([0, 1, 0, 1]) };
    const pixels = { width: 8, height: 4, data: new Uint8ClampedArray(8 * 4 * 4).fill(100) };
    const out = drawSegmentBoundaries(pixels, segments);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) {
      const r = out.data[(y * 8 + x) * 4] ?? 0;
      if (x === 3) expect(r, `(${x}, ${y})`).toBeGreaterThan(200);
      else expect(r, `(${x}, ${y})`).toBe(100);
      expect(out.data[(y * 8 + x) * 4 + 3]).toBe(100); // alpha untouched
    }
    expect(pixels.data[3 * 4]).toBe(100); // the input is not changed
  });
});
