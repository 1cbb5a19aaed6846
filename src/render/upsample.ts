/**
 * The large view's pictures in plain JavaScript: bilinear upsampling (tfjs's resizeBilinear with
 * half-pixel centres) and the same blend as the panels. At a large view's size (up to 2048² pixels)
 * this is ~30× faster than the tfjs path on the WASM backend, where it took seconds; the panels
 * keep the tfjs path (`tf-render.ts`, tested equal to the same reference blend).
 */
import { colormapLut } from './colormaps';
import { blendOverlayPure, rgbMapToRgbaPure, type PanelPixels } from './pixels';
import type { MethodMap, ViewOptions } from '../shared/types';

/** Bilinear resize of a row-major [h, w, channels] float image to [height, width, channels] (half-pixel centres). */
export function upsampleBilinear(data: Float32Array, w: number, h: number, channels: number, width: number, height: number): Float32Array {
  if (w === width && h === height) return data;
  const out = new Float32Array(width * height * channels);
  const sx = w / width;
  const sy = h / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(h - 1, Math.floor(fy));
    const y1 = Math.min(h - 1, y0 + 1);
    const dy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.min(w - 1, Math.floor(fx));
      const x1 = Math.min(w - 1, x0 + 1);
      const dx = fx - x0;
      for (let c = 0; c < channels; c++) {
        const a = data[(y0 * w + x0) * channels + c]!;
        const b = data[(y0 * w + x1) * channels + c]!;
        const d = data[(y1 * w + x0) * channels + c]!;
        const e = data[(y1 * w + x1) * channels + c]!;
        const top = a + (b - a) * dx;
        const bottom = d + (e - d) * dx;
        out[(y * width + x) * channels + c] = top + (bottom - top) * dy;
      }
    }
  }
  return out;
}

/** A method's picture over `original` (a heatmap blended by the view's colour map, opacity and threshold; an RGB map resized). */
export function methodPictureAt(original: PanelPixels, map: MethodMap, view: ViewOptions): PanelPixels {
  const { width, height } = original;
  if (map.kind === 'heatmap') {
    const values = upsampleBilinear(map.upsampled.data, map.upsampled.width, map.upsampled.height, 1, width, height);
    return { width, height, data: blendOverlayPure(original.data, values, width, height, colormapLut(view.colormap), view) };
  }
  const rgb = upsampleBilinear(map.map.data, map.map.width, map.map.height, 3, width, height);
  return { width, height, data: rgbMapToRgbaPure(rgb, width, height) };
}
