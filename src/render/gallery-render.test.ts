import { describe, expect, it } from 'vitest';
import { ClassMeans, colouredMap, upsampleMap } from './gallery-render';
import { colormapLut } from './colormaps';

describe('gallery rendering', () => {
  it('upsamples a map bilinearly with half-pixel centres (a constant stays constant, a step ramps)', () => {
    const flat = upsampleMap({ width: 2, height: 2, data: new Float32Array([0.5, 0.5, 0.5, 0.5]) }, 5, 7);
    expect([...flat].every((v) => Math.abs(v - 0.5) < 1e-6)).toBe(true);
    const step = upsampleMap({ width: 2, height: 1, data: new Float32Array([0, 1]) }, 4, 1);
    // Output centres 0.5, 1.5, 2.5, 3.5 map to input 0.25 - 0.5 = -0.25 → 0 (clamped), 0.25, 0.75, 1 (clamped).
    expect([...step].map((v) => +v.toFixed(4))).toEqual([0, 0.25, 0.75, 1]);
  });

  it('keeps per-class running means of maps (renormalised) and images', () => {
    const means = new ClassMeans();
    const map = (v: number[]) => ({ width: 2, height: 1, data: new Float32Array(v) });
    const image = (r: number) => ({ width: 64, height: 64, data: new Uint8ClampedArray(64 * 64 * 4).map((_, i) => (i % 4 === 0 ? r : i % 4 === 3 ? 255 : 0)) });
    means.add('cat', map([1, 0]), image(100));
    means.add('cat', map([0, 1]), image(200));
    means.add('dog', map([0, 0.5]), image(10));
    expect(means.labels()).toEqual(['cat', 'dog']);
    expect(means.count('cat')).toBe(2);
    expect([...means.meanMap('cat')!.data]).toEqual([1, 1]);
    expect([...means.meanMap('dog')!.data]).toEqual([0, 1]);
    expect(means.meanImage('cat')!.data[0]).toBe(150);
    expect(means.meanMap('bird')).toBeNull();
  });

  it('colours a map with the colour map', () => {
    const lut = colormapLut('jet');
    const px = colouredMap({ width: 1, height: 1, data: new Float32Array([1]) }, lut, 2, 2);
    expect(px.data.length).toBe(16);
    expect([px.data[0], px.data[1], px.data[2]]).toEqual([lut[255 * 3], lut[255 * 3 + 1], lut[255 * 3 + 2]]);
  });
});
