/** Panel keys of the comparison grid, shared by the page (which makes the canvases) and the worker (which draws them). */

/** The key of the i-th layer's panel in the layers grid (the methods grid keys panels by method id). */
export function layerPanelKey(index: number): string {
  return `layer:${index}`;
}

/**
 * The key of Deep Feature Factorization's j-th concept panel (0-based) in the methods grid: with
 * "show all concepts" each concept has its own cell after the combined picture.
 */
export function conceptPanelKey(index: number): string {
  return `dff:concept:${index}`;
}

/** The concept index of a concept panel's key, or null for any other key. */
export function conceptIndexOfKey(key: string): number | null {
  const match = /^dff:concept:(\d+)$/.exec(key);
  return match ? Number(match[1]) : null;
}
