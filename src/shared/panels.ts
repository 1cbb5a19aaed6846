/** Panel keys of the comparison grid, shared by the page (which makes the canvases) and the worker (which draws them). */

/** The key of the i-th layer's panel in the layers grid (the methods grid keys panels by method id). */
export function layerPanelKey(index: number): string {
  return `layer:${index}`;
}
