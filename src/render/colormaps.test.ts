import { describe, expect, it } from 'vitest';
import { interpolateTurbo, interpolateViridis } from 'd3-scale-chromatic';
import { COLORMAP_NAMES, colormapGradientCss, colormapLut, jet, lutIndex, parseCssColor } from './colormaps';

describe('colour map LUTs', () => {
  it('has 256 RGB entries per map, all distinct from one another', () => {
    const luts = COLORMAP_NAMES.map((n) => colormapLut(n));
    for (const lut of luts) expect(lut.length).toBe(256 * 3);
    for (let a = 0; a < luts.length; a++) for (let b = a + 1; b < luts.length; b++) expect(Buffer.from(luts[a]).equals(Buffer.from(luts[b]))).toBe(false);
  });

  it('matches d3 at both ends and in the middle', () => {
    const turbo = colormapLut('turbo');
    expect(Array.from(turbo.slice(0, 3))).toEqual(parseCssColor(interpolateTurbo(0)));
    expect(Array.from(turbo.slice(255 * 3))).toEqual(parseCssColor(interpolateTurbo(1)));
    const viridis = colormapLut('viridis');
    expect(Array.from(viridis.slice(128 * 3, 129 * 3))).toEqual(parseCssColor(interpolateViridis(128 / 255)));
  });

  it('jet runs dark blue → cyan → yellow → dark red', () => {
    expect(jet(0)).toEqual([0, 0, 0.5]);
    expect(jet(1)).toEqual([0.5, 0, 0]);
    expect(jet(0.5)).toEqual([1, 1, 1].map((_, i) => [0.5, 1, 0.5][i]));
    const lut = colormapLut('jet');
    expect(Array.from(lut.slice(0, 3))).toEqual([0, 0, 128]);
    expect(Array.from(lut.slice(255 * 3))).toEqual([128, 0, 0]);
  });

  it('inferno gets brighter from 0 to 1', () => {
    const lut = colormapLut('inferno');
    const lum = (i: number) => lut[i * 3] + lut[i * 3 + 1] + lut[i * 3 + 2];
    expect(lum(255)).toBeGreaterThan(lum(128));
    expect(lum(128)).toBeGreaterThan(lum(0));
  });

  it('parses both CSS colour forms and clamps LUT indexes', () => {
    expect(parseCssColor('#ff8000')).toEqual([255, 128, 0]);
    expect(parseCssColor('rgb(1, 2, 3)')).toEqual([1, 2, 3]);
    expect(() => parseCssColor('hsl(0,0%,0%)')).toThrow();
    expect([lutIndex(-1), lutIndex(NaN), lutIndex(0.5), lutIndex(2)]).toEqual([0, 0, 128, 255]);
    expect(colormapGradientCss('viridis', 4)).toMatch(/^linear-gradient\(to right, rgb\(68, 1, 84\) 0\.0%.*100\.0%\)$/);
  });
});
