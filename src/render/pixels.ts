/**
 * Pure pixel helpers (no tfjs, no DOM): the geometry of what each panel shows, and a plain-JS
 * blend used by tests as the reference for the tfjs path in `tf-render.ts`.
 */
import type { ViewOptions } from '../shared/types';
import { lutIndex } from './colormaps';

/** The panels are drawn with their longer side this many pixels. */
export const DISPLAY_LONG_SIDE = 320;

/** RGBA pixels of one drawn panel. */
export interface PanelPixels {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Display size of a region: longer side = `longSide`, aspect kept, at least 1 px. */
export function displaySize(regionWidth: number, regionHeight: number, longSide = DISPLAY_LONG_SIDE): { width: number; height: number } {
  const scale = longSide / Math.max(regionWidth, regionHeight, 1);
  return { width: Math.max(1, Math.round(regionWidth * scale)), height: Math.max(1, Math.round(regionHeight * scale)) };
}

/**
 * Reference overlay: each pixel = image·(1−a) + colour·a where colour = LUT[map] and
 * a = opacity where map ≥ threshold, else 0 (transparent below the threshold). Output alpha 255.
 */
export function blendOverlayPure(base: Uint8ClampedArray, map: Float32Array, width: number, height: number, lut: Uint8Array, view: ViewOptions): Uint8ClampedArray {
  const out = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const value = map[p];
    const alpha = value >= view.threshold ? view.opacity : 0;
    const li = lutIndex(value) * 3;
    for (let c = 0; c < 3; c++) out[p * 4 + c] = Math.round(base[p * 4 + c] * (1 - alpha) + lut[li + c] * alpha);
    out[p * 4 + 3] = 255;
  }
  return out;
}

/** An RGB map in [0,1] (3 floats per pixel) as opaque RGBA bytes. */
export function rgbMapToRgbaPure(map: Float32Array, width: number, height: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) out[p * 4 + c] = Math.round(Math.min(1, Math.max(0, map[p * 3 + c])) * 255);
    out[p * 4 + 3] = 255;
  }
  return out;
}

/** A flat grey panel, for a method that was not computed. */
export function blankPanel(width: number, height: number, grey = 238): PanelPixels {
  const data = new Uint8ClampedArray(width * height * 4).fill(grey);
  for (let p = 3; p < data.length; p += 4) data[p] = 255;
  return { width, height, data };
}
