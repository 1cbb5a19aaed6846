/**
 * Deep Feature Factorization's combined picture: each pixel takes the colour of the concept that is
 * strongest there (each concept's map scaled to [0, 1], stretched over the panel bilinearly with
 * half-pixel centres — as pytorch-grad-cam resizes the maps before its per-pixel argmax), blended over a grey version of the image in proportion to that concept's strength — the k concepts
 * in distinct colours in one panel. Pure JavaScript over RGBA pixels.
 */
import type { Concepts } from '../shared/types';
import type { PanelPixels } from './pixels';

/** The combined concept picture over `original`. */
export function drawConceptPicture(original: PanelPixels, concepts: Concepts): PanelPixels {
  const { width, height } = original;
  const data = new Uint8ClampedArray(original.data.length);
  const cells = concepts.width * concepts.height;
  // Bilinear sampling position along one axis: the two cells and the weight of the second.
  const axis = (i: number, size: number, grid: number): [number, number, number] => {
    const f = Math.min(grid - 1, Math.max(0, ((i + 0.5) * grid) / size - 0.5));
    const lo = Math.floor(f);
    return [lo, Math.min(grid - 1, lo + 1), f - lo];
  };
  const xs = Array.from({ length: width }, (_, x) => axis(x, width, concepts.width));
  for (let y = 0; y < height; y++) {
    const [y0, y1, fy] = axis(y, height, concepts.height);
    for (let x = 0; x < width; x++) {
      const [x0, x1, fx] = xs[x]!;
      let best = 0;
      let strength = 0;
      for (let j = 0; j < concepts.count; j++) {
        const m = (cy: number, cx: number) => concepts.maps[j * cells + cy * concepts.width + cx] ?? 0;
        const v = (1 - fy) * ((1 - fx) * m(y0, x0) + fx * m(y0, x1)) + fy * ((1 - fx) * m(y1, x0) + fx * m(y1, x1));
        if (v > strength) [best, strength] = [j, v];
      }
      const colour = concepts.colours[best] ?? [0, 0, 0];
      const i = (y * width + x) * 4;
      const grey = 0.299 * (original.data[i] ?? 0) + 0.587 * (original.data[i + 1] ?? 0) + 0.114 * (original.data[i + 2] ?? 0);
      const alpha = 0.75 * strength;
      for (let c = 0; c < 3; c++) data[i + c] = Math.round(grey * (1 - alpha) + (colour[c] ?? 0) * alpha);
      data[i + 3] = original.data[i + 3] ?? 255;
    }
  }
  return { width, height, data };
}
