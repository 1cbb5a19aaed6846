/** SLIC: the segmentation covers the image with connected segments near the requested count, and follows colour edges. */
import { describe, expect, it } from 'vitest';
import { enforceConnectivity, slic } from './superpixels';

function connected(labels: Int32Array, height: number, width: number, label: number): boolean {
  const start = labels.indexOf(label);
  if (start < 0) return false;
  const seen = new Uint8Array(labels.length);
  const stack = [start];
  seen[start] = 1;
  let size = 0;
  while (stack.length) {
    const p = stack.pop() ?? 0;
    size++;
    const y = Math.floor(p / width);
    const x = p % width;
    for (const q of [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, y > 0 ? p - width : -1, y < height - 1 ? p + width : -1]) {
      if (q >= 0 && !seen[q] && labels[q] === label) {
        seen[q] = 1;
        stack.push(q);
      }
    }
  }
  return size === labels.filter((l) => l === label).length;
}

describe('SLIC superpixels', () => {
  it('labels every pixel 0 … count − 1, each segment connected, about the requested count', () => {
    const [height, width] = [48, 64];
    const pixels = Float32Array.from({ length: height * width * 3 }, (_, i) => Math.sin(Math.floor(i / 3 / width) / 5 + (i % 3)) * 0.3 + (Math.floor(i / 3) % width) / width);
    for (const requested of [10, 50, 150]) {
      const s = slic(pixels, height, width, 3, requested);
      expect(s.labels.length).toBe(height * width);
      expect(Math.min(...s.labels)).toBe(0);
      expect(Math.max(...s.labels)).toBe(s.count - 1);
      expect(s.count).toBeGreaterThanOrEqual(requested * 0.5);
      expect(s.count).toBeLessThanOrEqual(requested * 1.5);
      for (let l = 0; l < s.count; l++) expect(connected(s.labels, height, width, l), `segment ${l}`).toBe(true);
    }
  });

  it('follows colour edges: on an image of four flat quadrants no segment straddles two quadrants', () => {
    const [height, width] = [40, 40];
    const colours = [[0.9, 0.1, 0.1], [0.1, 0.9, 0.1], [0.1, 0.1, 0.9], [0.9, 0.9, 0.1]];
    const quadrant = (p: number) => (Math.floor(p / width) < 20 ? 0 : 2) + (p % width < 20 ? 0 : 1);
    const pixels = Float32Array.from({ length: height * width * 3 }, (_, i) => colours[quadrant(Math.floor(i / 3))]?.[i % 3] ?? 0);
    // A grid step that does not divide the quadrants (seeds straddle the edges).
    const s = slic(pixels, height, width, 3, 30);
    for (let l = 0; l < s.count; l++) {
      const quadrants = new Set<number>();
      s.labels.forEach((label, p) => label === l && quadrants.add(quadrant(p)));
      expect(quadrants.size, `segment ${l}`).toBe(1);
    }
  });

  it('connectivity: a small piece of a split label joins a neighbour; a large piece becomes its own segment', () => {
    // 1 × 6: labels 0 0 1 1 0 2 → the lone 0 at position 4 (under the minimum size 2) joins a neighbour.
    const s = enforceConnectivity(Int32Array.from([0, 0, 1, 1, 0, 2]), 1, 6, 2);
    expect(s.count).toBe(3);
    expect(s.labels[4] === s.labels[3] || s.labels[4] === s.labels[5]).toBe(true);
    expect(s.labels[0]).toBe(s.labels[1]);
    // With a minimum size of 1 it stays: four segments.
    expect(enforceConnectivity(Int32Array.from([0, 0, 1, 1, 0, 2]), 1, 6, 1).count).toBe(4);
  });
});
