/**
 * Colour maps as 256-entry RGB lookup tables. Pure (no tfjs, no DOM): the worker uses them to
 * colour heatmaps and the UI uses them to draw the colour bar, so both show the same colours.
 */
import { interpolateInferno, interpolateTurbo, interpolateViridis } from 'd3-scale-chromatic';
import type { ColormapName } from '../shared/types';

export const COLORMAP_NAMES: readonly ColormapName[] = ['turbo', 'viridis', 'inferno', 'jet'];
export const LUT_SIZE = 256;

/** Classic MATLAB jet as the usual piecewise-linear formula: t in [0,1] → [r,g,b] in [0,1]. */
export function jet(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t));
  const channel = (offset: number) => Math.min(1, Math.max(0, 1.5 - Math.abs(4 * x - offset)));
  return [channel(3), channel(2), channel(1)];
}

/** d3 returns CSS colours ("rgb(r, g, b)" or "#rrggbb"); parse either. */
export function parseCssColor(css: string): [number, number, number] {
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(css.trim());
  if (hex) return [parseInt(hex[1], 16), parseInt(hex[2], 16), parseInt(hex[3], 16)];
  const rgb = /^rgb\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*\)$/i.exec(css.trim());
  if (rgb) return [Math.round(Number(rgb[1])), Math.round(Number(rgb[2])), Math.round(Number(rgb[3]))];
  throw new Error(`Unrecognised colour "${css}"`);
}

const interpolators: Record<Exclude<ColormapName, 'jet'>, (t: number) => string> = {
  turbo: interpolateTurbo,
  viridis: interpolateViridis,
  inferno: interpolateInferno,
};

const lutCache = new Map<ColormapName, Uint8Array>();

/** 256×3 bytes, row i = colour of value i/255. Cached: callers must not modify the result. */
export function colormapLut(name: ColormapName): Uint8Array {
  const cached = lutCache.get(name);
  if (cached) return cached;
  const lut = new Uint8Array(LUT_SIZE * 3);
  for (let i = 0; i < LUT_SIZE; i++) {
    const t = i / (LUT_SIZE - 1);
    const rgb = name === 'jet' ? jet(t).map((c) => Math.round(c * 255)) : parseCssColor(interpolators[name](t));
    lut.set(rgb, i * 3);
  }
  lutCache.set(name, lut);
  return lut;
}

/** LUT index of a map value in [0,1] (values outside are clamped). */
export function lutIndex(value: number): number {
  if (!(value > 0)) return 0; // also NaN
  if (value >= 1) return LUT_SIZE - 1;
  return Math.round(value * (LUT_SIZE - 1));
}

/** CSS `linear-gradient(...)` stops for a colour bar (left = 0, right = 1). */
export function colormapGradientCss(name: ColormapName, stops = 16, direction = 'to right'): string {
  const lut = colormapLut(name);
  const parts: string[] = [];
  for (let s = 0; s < stops; s++) {
    const i = Math.round((s / (stops - 1)) * (LUT_SIZE - 1));
    parts.push(`rgb(${lut[i * 3]}, ${lut[i * 3 + 1]}, ${lut[i * 3 + 2]}) ${((s / (stops - 1)) * 100).toFixed(1)}%`);
  }
  return `linear-gradient(${direction}, ${parts.join(', ')})`;
}
