/** Assertions the method tests share: a map is a heatmap; an engine map matches its reference. */
import { expect } from 'vitest';
import type { HeatmapMethodMap } from '../shared/types';
import { pearson } from './method-reference';

/** The method tests' bar: Pearson r of the engine's map against the reference. */
export const MIN_CORRELATION = 0.999;

export function heat(map: unknown): HeatmapMethodMap {
  const m = map as HeatmapMethodMap;
  expect(m?.kind).toBe('heatmap');
  return m;
}

function highest(values: ArrayLike<number>): number {
  let high = -Infinity;
  for (let i = 0; i < values.length; i++) high = Math.max(high, values[i] ?? -Infinity);
  return high;
}

/** The engine's map correlates with the reference (r ≥ MIN_CORRELATION), or both are zero everywhere; returns r (1 for two zero maps). */
export function expectMatches(engine: ArrayLike<number>, reference: ArrayLike<number>, what: string): number {
  if (!(highest(reference) > 0)) {
    expect(highest(engine), `${what}: the reference is all zero`).toBe(0);
    return 1;
  }
  const r = pearson(engine, reference);
  expect(r, what).toBeGreaterThanOrEqual(MIN_CORRELATION);
  return r;
}
