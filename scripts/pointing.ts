/**
 * The pointing game (Zhang et al., "Top-down neural attention by excitation backprop", 2016) on the
 * demo's synthetic two-shape scenes: a map "hits" when its maximum lies within 15 pixels of the box
 * of the shape whose class was explained (the protocol's tolerance; 0 = strictly inside). Pure functions; scripts/pointing-game.ts runs the benchmark.
 */
import type { Heatmap } from '../src/shared/types';
import { Rng, SHAPE_CLASSES, twoShapeScene, type Scene } from './demo-data';

/** Never used by train-demo.ts (its seeds: 20261128 + 1, 2, 3, 4, 7 and + 1000·epoch). */
export const POINTING_SEED = 7_000_003;

/** `count` two-shape scenes, two different classes each, from the benchmark's own seed. */
export function pointingScenes(count: number, seed = POINTING_SEED): Scene[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const first = rng.int(0, SHAPE_CLASSES.length);
    const second = (first + 1 + rng.int(0, SHAPE_CLASSES.length - 1)) % SHAPE_CLASSES.length;
    return twoShapeScene(rng, SHAPE_CLASSES[first]!, SHAPE_CLASSES[second]!);
  });
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The position of the map's maximum in normalised [0, 1] image coordinates (the pixel's centre), or
 * null when the map is all zero (no peak: a miss). Ties: the first in row-major order.
 */
export function peakOf(map: Heatmap): { x: number; y: number } | null {
  let best = 0;
  for (let i = 1; i < map.data.length; i++) if (map.data[i]! > map.data[best]!) best = i;
  if (!(map.data[best]! > 0)) return null;
  return { x: ((best % map.width) + 0.5) / map.width, y: (Math.floor(best / map.width) + 0.5) / map.height };
}

/**
 * The pointing game's tolerance (Zhang et al. 2016: "a hit is counted if the maximum point lies
 * within the annotated region with a tolerance of 15 pixels"), in pixels of the rendering.
 */
export const POINTING_TOLERANCE_PX = 15;

/**
 * True when the peak of `map` (stretched over the whole image) lies within `tolerance` pixels of
 * `box` (0: inside it), both in pixels of a size×size rendering. An all-zero map never hits.
 */
export function pointingHit(map: Heatmap, box: Box, size: number, tolerance = 0): boolean {
  const peak = peakOf(map);
  if (!peak) return false;
  const px = peak.x * size;
  const py = peak.y * size;
  const dx = Math.max(box.x - px, 0, px - (box.x + box.width));
  const dy = Math.max(box.y - py, 0, py - (box.y + box.height));
  return Math.hypot(dx, dy) <= tolerance;
}

/** Where a strict miss's peak lies: on the other shape's box, within half a cell of `cell` pixels or one cell of the box, or farther (or no peak). */
export type MissKind = 'other shape' | 'within half a cell' | 'within a cell' | 'farther';

/**
 * Why a peak is not strictly inside `box` (null when it is): on `other` (the scene's other shape),
 * else by its distance to the box against the map's cell size in pixels of the rendering.
 */
export function missKind(map: Heatmap, box: Box, other: Box | null, size: number, cell: number): MissKind | null {
  if (pointingHit(map, box, size)) return null;
  if (other && pointingHit(map, other, size)) return 'other shape';
  if (pointingHit(map, box, size, cell / 2)) return 'within half a cell';
  if (pointingHit(map, box, size, cell)) return 'within a cell';
  return 'farther';
}
