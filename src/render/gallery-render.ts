/**
 * The gallery's pixel work, in plain JS (no tfjs, no DOM): a small map upsampled over a thumbnail,
 * per-class running means of maps and images, and colour-mapped map images. Thumbnails are small
 * (GALLERY_THUMB px), so this is cheap enough to run for every image of a batch in the worker.
 */
import type { Heatmap, ViewOptions } from '../shared/types';
import { blendOverlayPure, type PanelPixels } from './pixels';
import { lutIndex } from './colormaps';

/** Longer side of a gallery thumbnail, in pixels. */
export const GALLERY_THUMB = 96;
/** Side of the per-class mean image. */
export const MEAN_IMAGE_SIZE = 64;

/** Bilinear upsampling (half-pixel centres, clamped at the edges) of a map to width × height. */
export function upsampleMap(map: Heatmap, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const sx = map.width / width;
  const sy = map.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), map.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, map.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), map.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, map.width - 1);
      const wx = fx - x0;
      const top = map.data[y0 * map.width + x0]! * (1 - wx) + map.data[y0 * map.width + x1]! * wx;
      const bottom = map.data[y1 * map.width + x0]! * (1 - wx) + map.data[y1 * map.width + x1]! * wx;
      out[y * width + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

/** The map over the thumbnail with the page's colour map, opacity and threshold. */
export function overlayThumb(thumb: PanelPixels, map: Heatmap, lut: Uint8Array, view: ViewOptions): PanelPixels {
  const up = upsampleMap(map, thumb.width, thumb.height);
  return { width: thumb.width, height: thumb.height, data: blendOverlayPure(thumb.data, up, thumb.width, thumb.height, lut, view) };
}

/** A map alone, colour-mapped, as opaque RGBA at width × height. */
export function colouredMap(map: Heatmap, lut: Uint8Array, width: number, height: number): PanelPixels {
  const up = upsampleMap(map, width, height);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < up.length; p++) {
    const k = lutIndex(up[p]!) * 3;
    data[p * 4] = lut[k]!;
    data[p * 4 + 1] = lut[k + 1]!;
    data[p * 4 + 2] = lut[k + 2]!;
    data[p * 4 + 3] = 255;
  }
  return { width, height, data };
}

/**
 * Running per-class sums: maps (at the gallery's map resolution) and images (RGB at
 * MEAN_IMAGE_SIZE²), so that the means never need every image's pixels at once.
 */
export class ClassMeans {
  private readonly sums = new Map<string, { count: number; map: Float64Array; image: Float64Array; mapSize: number }>();

  add(label: string, map: Heatmap, image: PanelPixels): void {
    let s = this.sums.get(label);
    if (!s) {
      s = { count: 0, map: new Float64Array(map.width * map.height), image: new Float64Array(image.width * image.height * 3), mapSize: map.width };
      this.sums.set(label, s);
    }
    s.count++;
    for (let i = 0; i < s.map.length; i++) s.map[i]! += map.data[i] ?? 0;
    for (let p = 0, n = image.width * image.height; p < n; p++) {
      for (let c = 0; c < 3; c++) s.image[p * 3 + c]! += image.data[p * 4 + c]!;
    }
  }

  labels(): string[] {
    return [...this.sums.keys()].sort();
  }

  count(label: string): number {
    return this.sums.get(label)?.count ?? 0;
  }

  /** The mean map of a class, renormalised to [0, 1] (a blank map stays 0). */
  meanMap(label: string): Heatmap | null {
    const s = this.sums.get(label);
    if (!s) return null;
    let max = 0;
    for (const v of s.map) max = Math.max(max, v);
    const data = Float32Array.from(s.map, (v) => (max > 0 ? v / max : 0));
    return { width: s.mapSize, height: s.mapSize, data };
  }

  /** The mean image of a class, RGBA at MEAN_IMAGE_SIZE². */
  meanImage(label: string): PanelPixels | null {
    const s = this.sums.get(label);
    if (!s) return null;
    const n = s.image.length / 3;
    const data = new Uint8ClampedArray(n * 4);
    for (let p = 0; p < n; p++) {
      for (let c = 0; c < 3; c++) data[p * 4 + c] = Math.round(s.image[p * 3 + c]! / s.count);
      data[p * 4 + 3] = 255;
    }
    return { width: MEAN_IMAGE_SIZE, height: MEAN_IMAGE_SIZE, data };
  }
}
