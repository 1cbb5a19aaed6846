/**
 * Deep Feature Factorization's combined picture: each pixel takes the colour of the concept that is
 * strongest there (each concept's map scaled to [0, 1], stretched over the panel, nearest cell),
 * blended over a grey version of the image in proportion to that concept's strength — the k concepts
 * in distinct colours in one panel. Pure JavaScript over RGBA pixels.
 */
import type { Concepts } from '../shared/types';
import type { PanelPixels } from './pixels';

/** The combined concept picture over `original`. */
export function drawConceptPicture(original: PanelPixels, concepts: Concepts): PanelPixels {
  const { width, height } = original;
  const data = new Uint8ClampedArray(original.data.length);
  const cells = concepts.width * concepts.height;
  for (let y = 0; y < height; y++) {
    const cy = Math.min(concepts.height - 1, Math.floor((y * concepts.height) / height));
    for (let x = 0; x < width; x++) {
      const cx = Math.min(concepts.width - 1, Math.floor((x * concepts.width) / width));
      let best = 0;
      let strength = 0;
      for (let j = 0; j < concepts.count; j++) {
        const v = concepts.maps[j * cells + cy * concepts.width + cx] ?? 0;
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
