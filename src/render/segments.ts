/**
 * The superpixels a perturbation method moved, drawn over its panel: the segment boundaries (a pixel
 * whose nearest segment label differs from its right or lower neighbour's) lightened towards white,
 * so the person sees which regions were switched on and off. Pure JavaScript over RGBA pixels.
 */
import type { Segments } from '../shared/types';
import type { PanelPixels } from './pixels';

/** How far a boundary pixel moves towards white. */
const BOUNDARY_MIX = 0.65;

/** A copy of `pixels` with the boundaries of `segments` (any resolution, stretched over the panel) drawn in. */
export function drawSegmentBoundaries(pixels: PanelPixels, segments: Segments): PanelPixels {
  const { width, height } = pixels;
  const data = new Uint8ClampedArray(pixels.data);
  const labelAt = (x: number, y: number) => {
    const sx = Math.min(segments.width - 1, Math.floor((x * segments.width) / width));
    const sy = Math.min(segments.height - 1, Math.floor((y * segments.height) / height));
    return segments.labels[sy * segments.width + sx] ?? 0;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const here = labelAt(x, y);
      const edge = (x + 1 < width && labelAt(x + 1, y) !== here) || (y + 1 < height && labelAt(x, y + 1) !== here);
      if (!edge) continue;
      const i = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) data[i + c] = Math.round((data[i + c] ?? 0) + (255 - (data[i + c] ?? 0)) * BOUNDARY_MIX);
    }
  }
  return { width, height, data };
}
