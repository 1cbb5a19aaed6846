/**
 * The arithmetic of the faithfulness curves, in plain JavaScript: the pixel order a map gives, the
 * fractions of a curve, the masks of a batch, the area under a curve.
 */

/** Pixel indices from the most to the least relevant (ties: the lower index first, so the order is stable). */
export function relevanceOrder(map: ArrayLike<number>): Int32Array {
  const order = Int32Array.from({ length: map.length }, (_, i) => i);
  // NaN (a broken map) counts as the least relevant.
  const value = (i: number) => (Number.isNaN(map[i]!) ? -Infinity : map[i]!);
  order.sort((a, b) => value(b) - value(a) || a - b);
  return order;
}

/** 0, 1/steps, …, 1. */
export function curveFractions(steps: number): number[] {
  return Array.from({ length: steps + 1 }, (_, k) => k / steps);
}

/** How many pixels a fraction of `pixels` is (rounded, so 1 is all of them). */
export function pixelCount(fraction: number, pixels: number): number {
  return Math.min(pixels, Math.max(0, Math.round(fraction * pixels)));
}

/**
 * Masks [fractions.length, pixels] (1 = chosen) of the first `fraction · pixels` pixels of `order`
 * (most relevant first), or of the last ones when `fromEnd` (least relevant first).
 */
export function orderMasks(order: Int32Array, fractions: readonly number[], fromEnd = false): Float32Array {
  const pixels = order.length;
  const masks = new Float32Array(fractions.length * pixels);
  fractions.forEach((fraction, row) => {
    const n = pixelCount(fraction, pixels);
    const base = row * pixels;
    for (let k = 0; k < n; k++) masks[base + order[fromEnd ? pixels - 1 - k : k]!] = 1;
  });
  return masks;
}

/** Area under y(x) by the trapezoid rule (x ascending). */
export function trapezoidArea(x: readonly number[], y: readonly number[]): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((y[i]! + y[i - 1]!) / 2) * (x[i]! - x[i - 1]!);
  return area;
}
