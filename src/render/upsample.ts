/**
 * The large view's pictures in plain JavaScript: bilinear upsampling (tfjs's resizeBilinear with
 * half-pixel centres) and the same blend as the panels. At a large view's size (up to 2048² pixels)
 * this is ~30× faster than the tfjs path on the WASM backend, where it took seconds. Panels use it
 * too on WASM / CPU (composite.ts); on a GPU backend they keep the tfjs path (`tf-render.ts`, tested
 * equal to the same reference blend).
 */
import { colormapLut } from './colormaps';
import { blendOverlayPure, rgbMapToRgbaPure, type PanelPixels } from './pixels';
import type { MethodMap, ViewOptions } from '../shared/types';
import { drawSegmentBoundaries } from './segments';
import { drawConceptPicture } from './concepts';

/** Bilinear resize of a row-major [h, w, channels] float image to [height, width, channels] (half-pixel centres). */
export function upsampleBilinear(data: Float32Array, w: number, h: number, channels: number, width: number, height: number): Float32Array {
  if (w === width && h === height) return data;
  const out = new Float32Array(width * height * channels);
  // Each output column's two source columns and weight, computed once (not once per row).
  const x0s = new Int32Array(width);
  const x1s = new Int32Array(width);
  const dxs = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const fx = Math.max(0, (x + 0.5) * (w / width) - 0.5);
    x0s[x] = Math.min(w - 1, Math.floor(fx));
    x1s[x] = Math.min(w - 1, x0s[x]! + 1);
    dxs[x] = fx - x0s[x]!;
  }
  for (let y = 0; y < height; y++) {
    const fy = Math.max(0, (y + 0.5) * (h / height) - 0.5);
    const y0 = Math.min(h - 1, Math.floor(fy));
    const dy = fy - y0;
    const row0 = y0 * w;
    const row1 = Math.min(h - 1, y0 + 1) * w;
    let o = y * width * channels;
    for (let x = 0; x < width; x++) {
      const x0 = x0s[x]!;
      const x1 = x1s[x]!;
      const dx = dxs[x]!;
      for (let c = 0; c < channels; c++, o++) {
        const a = data[(row0 + x0) * channels + c]!;
        const b = data[(row0 + x1) * channels + c]!;
        const d = data[(row1 + x0) * channels + c]!;
        const e = data[(row1 + x1) * channels + c]!;
        const top = a + (b - a) * dx;
        out[o] = top + (d + (e - d) * dx - top) * dy;
      }
    }
  }
  return out;
}

/** A method's picture over `original` (a heatmap blended by the view's colour map, opacity and threshold; an RGB map resized). */
export function methodPictureAt(original: PanelPixels, map: MethodMap, view: ViewOptions): PanelPixels {
  const { width, height } = original;
  if (map.kind === 'heatmap') {
    if (map.concepts) return drawConceptPicture(original, map.concepts);
    const values = upsampleBilinear(map.upsampled.data, map.upsampled.width, map.upsampled.height, 1, width, height);
    const picture = { width, height, data: blendOverlayPure(original.data, values, width, height, colormapLut(view.colormap), view) };
    return map.segments && view.segmentOutlines !== false ? drawSegmentBoundaries(picture, map.segments) : picture;
  }
  const rgb = upsampleBilinear(map.map.data, map.map.width, map.map.height, 3, width, height);
  return { width, height, data: rgbMapToRgbaPure(rgb, width, height) };
}
