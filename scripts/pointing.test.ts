/** The pointing game's hit rule and its scenes. */
import { describe, expect, it } from 'vitest';
import { missKind, peakOf, pointingHit, pointingScenes, POINTING_SEED, POINTING_TOLERANCE_PX } from './pointing';

const map = (width: number, height: number, peakAt: number | null) => {
  const data = new Float32Array(width * height).fill(0.1);
  if (peakAt === null) data.fill(0);
  else data[peakAt] = 1;
  return { width, height, data };
};

describe('pointing game', () => {
  it('finds the peak in normalised coordinates and hits inside the box only', () => {
    // 4×4 map, peak at row 1, column 2 → centre (2.5/4, 1.5/4).
    expect(peakOf(map(4, 4, 6))).toEqual({ x: 0.625, y: 0.375 });
    expect(peakOf(map(4, 4, null))).toBeNull();
    // On a 256-pixel rendering the peak sits at (160, 96).
    expect(pointingHit(map(4, 4, 6), { x: 150, y: 90, width: 20, height: 10 }, 256)).toBe(true);
    expect(pointingHit(map(4, 4, 6), { x: 161, y: 90, width: 20, height: 10 }, 256)).toBe(false);
    expect(pointingHit(map(4, 4, null), { x: 0, y: 0, width: 256, height: 256 }, 256)).toBe(false);
    // With the protocol's tolerance: 1 px left of the box is a hit at 15 px, 16 px is not.
    expect(pointingHit(map(4, 4, 6), { x: 161, y: 90, width: 20, height: 10 }, 256, POINTING_TOLERANCE_PX)).toBe(true);
    expect(pointingHit(map(4, 4, 6), { x: 176, y: 90, width: 20, height: 10 }, 256, POINTING_TOLERANCE_PX)).toBe(false);
    // Diagonal: 9 and 12 px away = 15 px.
    expect(pointingHit(map(4, 4, 6), { x: 169, y: 108, width: 20, height: 10 }, 256, 15)).toBe(true);
    expect(pointingHit(map(4, 4, 6), { x: 169, y: 109, width: 20, height: 10 }, 256, 15)).toBe(false);
  });

  it("sorts a strict miss: on the other shape, within half a cell or a cell of the box, or farther", () => {
    // Peak at (160, 96) on a 256-pixel rendering; cells of 16 px.
    const peak = map(4, 4, 6);
    expect(missKind(peak, { x: 150, y: 90, width: 20, height: 10 }, null, 256, 16)).toBeNull();
    expect(missKind(peak, { x: 0, y: 0, width: 20, height: 20 }, { x: 150, y: 90, width: 20, height: 10 }, 256, 16)).toBe('other shape');
    expect(missKind(peak, { x: 168, y: 90, width: 20, height: 10 }, null, 256, 16)).toBe('within half a cell');
    expect(missKind(peak, { x: 169, y: 90, width: 20, height: 10 }, null, 256, 16)).toBe('within a cell');
    expect(missKind(peak, { x: 177, y: 90, width: 20, height: 10 }, null, 256, 16)).toBe('farther');
  });

  it('draws two different shapes per scene, the same ones every time', () => {
    const scenes = pointingScenes(40);
    for (const s of scenes) {
      expect(s.shapes).toHaveLength(2);
      expect(s.shapes[0]!.cls).not.toBe(s.shapes[1]!.cls);
    }
    expect(pointingScenes(3)).toEqual(scenes.slice(0, 3));
    expect(POINTING_SEED).not.toBe(20261128);
  });
});
