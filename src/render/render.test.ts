import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { colormapLut } from './colormaps';
import { blendOverlayPure, displaySize, rgbMapToRgbaPure, type PanelPixels } from './pixels';
import { renderOverlay, renderRgbMap } from './tf-render';
import { COLORBAR_HEIGHT, gridLayout, TITLE_HEIGHT } from './composite';
import type { ViewOptions } from '../shared/types';

/** Deterministic pseudo-random numbers, so the test data is varied but repeatable. */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function randomPanel(width: number, height: number, seed: number): PanelPixels {
  const rand = lcg(seed);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : Math.floor(rand() * 256);
  return { width, height, data };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('panel geometry', () => {
  it('display size keeps the aspect with the longer side 320', () => {
    expect(displaySize(640, 480)).toEqual({ width: 320, height: 240 });
    expect(displaySize(28, 28)).toEqual({ width: 320, height: 320 });
    expect(displaySize(1, 5000)).toEqual({ width: 1, height: 320 });
  });
});

describe('overlay blend', () => {
  const view: ViewOptions = { colormap: 'turbo', opacity: 0.6, threshold: 0.3 };

  it('pure blend: transparent below the threshold, LUT colour mixed by opacity above it', () => {
    const base = new Uint8ClampedArray([100, 100, 100, 255, 100, 100, 100, 255]);
    const out = blendOverlayPure(base, new Float32Array([0.2, 1]), 2, 1, colormapLut('turbo'), view);
    expect(Array.from(out.slice(0, 4))).toEqual([100, 100, 100, 255]);
    const lut = colormapLut('turbo');
    expect(Array.from(out.slice(4, 7))).toEqual([0, 1, 2].map((c) => Math.round(100 * 0.4 + lut[255 * 3 + c] * 0.6)));
  });

  it('tfjs blend equals the pure blend (same size, every colour map)', async () => {
    const base = randomPanel(23, 17, 1);
    const rand = lcg(2);
    const map = new Float32Array(23 * 17).map(() => rand());
    for (const colormap of ['turbo', 'viridis', 'inferno', 'jet'] as const) {
      const v = { ...view, colormap };
      const before = tf.memory().numTensors;
      const got = await renderOverlay(base, { width: 23, height: 17, data: map }, colormapLut(colormap), v);
      expect(tf.memory().numTensors).toBe(before);
      expect(maxAbsDiff(got.data, blendOverlayPure(base.data, map, 23, 17, colormapLut(colormap), v))).toBeLessThanOrEqual(1);
    }
  });

  it('upsamples a small CAM to the panel: a hot corner stays in that corner', async () => {
    const base = { width: 40, height: 40, data: new Uint8ClampedArray(40 * 40 * 4).fill(128) };
    const cam = new Float32Array(16);
    cam[15] = 1; // bottom-right of a 4×4 map
    const got = await renderOverlay(base, { width: 4, height: 4, data: cam }, colormapLut('jet'), { colormap: 'jet', opacity: 1, threshold: 0.5 });
    const px = (x: number, y: number) => Array.from(got.data.slice((y * 40 + x) * 4, (y * 40 + x) * 4 + 3));
    expect(px(2, 2)).toEqual([128, 128, 128]); // below threshold: the image shows through
    expect(px(39, 39)).toEqual(Array.from(colormapLut('jet').slice(255 * 3)));
  });

  it('guided maps become bytes; the tfjs path equals the pure path and resizes', async () => {
    const rand = lcg(3);
    const map = new Float32Array(9 * 7 * 3).map(() => rand() * 1.2 - 0.1);
    const same = await renderRgbMap({ width: 9, height: 7, data: map }, 9, 7);
    expect(maxAbsDiff(same.data, rgbMapToRgbaPure(map, 9, 7))).toBeLessThanOrEqual(1);
    const big = await renderRgbMap({ width: 9, height: 7, data: map }, 90, 70);
    expect(big.data.length).toBe(90 * 70 * 4);
  });
});

describe('export layout', () => {
  it('four panels make one row of titled panels, then the colour bar and the caption strip', () => {
    const p = randomPanel(320, 240, 4);
    const layout = gridLayout([p, p, p, p], 3, true);
    expect(layout).toMatchObject({ width: 1280, columns: 4, rows: 1, cellWidth: 320, cellHeight: TITLE_HEIGHT + 240, colorbarHeight: COLORBAR_HEIGHT, captionHeight: 16 + 54 });
    expect(layout.height).toBe(TITLE_HEIGHT + 240 + COLORBAR_HEIGHT + 70);
    expect(layout.positions.map((q) => q.x)).toEqual([0, 320, 640, 960]);
    expect(layout.positions.every((q) => q.y === TITLE_HEIGHT)).toBe(true);
  });

  it('more panels wrap into rows of four; no colour bar for RGB-only grids', () => {
    const p = randomPanel(320, 200, 5);
    const layout = gridLayout(Array(6).fill(p), 2, false);
    expect(layout).toMatchObject({ columns: 4, rows: 2, width: 1280, colorbarHeight: 0 });
    expect(layout.positions[4]).toEqual({ x: 0, y: 2 * TITLE_HEIGHT + 200 });
    expect(layout.height).toBe(2 * (TITLE_HEIGHT + 200) + 16 + 36);
    expect(gridLayout([p, p], 0, true)).toMatchObject({ columns: 2, width: 640, captionHeight: 0 });
  });
});
