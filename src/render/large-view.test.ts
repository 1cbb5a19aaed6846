import { describe, expect, it } from 'vitest';
import { canvasToImage, clampFrame, gridPixel, initialFrame, MAX_ZOOM, panBy, placement, zoomAt } from './large-view';

describe('large view geometry', () => {
  it('fits the image to the canvas, centred, at zoom 1', () => {
    const frame = initialFrame(1000, 800);
    expect(placement(frame, 224, 224)).toEqual({ x: 100, y: 0, width: 800, height: 800 });
    expect(placement(frame, 400, 200)).toEqual({ x: 0, y: 150, width: 1000, height: 500 });
  });

  it('keeps the image point under the pointer while zooming', () => {
    const frame = initialFrame(1000, 800);
    const at = { x: 420, y: 300 };
    const before = canvasToImage(frame, 224, 224, at.x, at.y);
    const zoomed = zoomAt(frame, 224, 224, at.x, at.y, 4);
    expect(zoomed.zoom).toBe(4);
    const after = canvasToImage(zoomed, 224, 224, at.x, at.y);
    expect(after.u).toBeCloseTo(before.u, 10);
    expect(after.v).toBeCloseTo(before.v, 10);
    // A step of the pointer now covers a quarter of the image it did.
    const step = canvasToImage(zoomed, 224, 224, at.x + 100, at.y).u - after.u;
    expect(step).toBeCloseTo(100 / 800 / 4, 10);
  });

  it('never zooms out past the fitted image nor in past MAX_ZOOM, and stays over the image', () => {
    const frame = initialFrame(500, 500);
    expect(zoomAt(frame, 100, 100, 10, 10, 0.1).zoom).toBe(1);
    expect(zoomAt(frame, 100, 100, 10, 10, 1000).zoom).toBe(MAX_ZOOM);
    // Dragged far right at zoom 2: the image's left edge stops at the canvas's left edge.
    const panned = panBy({ ...frame, zoom: 2 }, 100, 100, 10_000, 0);
    expect(placement(panned, 100, 100).x).toBeCloseTo(0, 10);
    // At zoom 1 there is nothing to pan.
    expect(panBy(frame, 100, 100, 50, 50)).toEqual(frame);
    expect(clampFrame({ ...frame, wipe: 3 }, 100, 100).wipe).toBe(1);
  });

  it('maps image fractions to the input grid, nothing off the image', () => {
    expect(gridPixel(0, 0, 224, 224)).toEqual({ x: 0, y: 0 });
    expect(gridPixel(0.5, 0.999, 224, 224)).toEqual({ x: 112, y: 223 });
    expect(gridPixel(-0.01, 0.5, 224, 224)).toBeNull();
    expect(gridPixel(0.5, 1, 224, 224)).toBeNull();
  });
});

describe('large view pictures (plain JS) against the panels (tfjs)', () => {
  it('upsamples and blends as the tfjs path does', async () => {
    const tf = await import('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    const { upsampleBilinear, methodPictureAt } = await import('./upsample');
    const { renderOverlay } = await import('./tf-render');
    const { colormapLut } = await import('./colormaps');
    const map = { width: 7, height: 5, data: Float32Array.from({ length: 35 }, (_, i) => ((i * 37) % 11) / 10) };
    const reference = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(map.data, [5, 7, 1]), [23, 31], false, true).dataSync());
    const ours = upsampleBilinear(map.data, 7, 5, 1, 31, 23);
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - reference[i]!));
    expect(worst).toBeLessThan(1e-5);

    const base = { width: 31, height: 23, data: Uint8ClampedArray.from({ length: 31 * 23 * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 13) % 256)) };
    const view = { colormap: 'turbo' as const, opacity: 0.6, threshold: 0.2 };
    const heatmap = { kind: 'heatmap' as const, map, upsampled: map, rawMax: 1, layerPaths: [], settings: {} };
    const js = methodPictureAt(base, heatmap, view);
    const tfjs = await renderOverlay(base, map, colormapLut('turbo'), view);
    let differ = 0;
    for (let i = 0; i < js.data.length; i++) differ = Math.max(differ, Math.abs(js.data[i]! - tfjs.data[i]!));
    // Float rounding (float32 on tfjs, float64 here) moves a blend by a unit now and then.
    expect(differ).toBeLessThanOrEqual(2);
    const same = js.data.filter((v, i) => v === tfjs.data[i]).length / js.data.length;
    expect(same).toBeGreaterThan(0.99);
  });
});

describe('zooming while the image is still smaller than the canvas', () => {
  it('keeps the point under the pointer and the image inside the canvas', () => {
    const frame = initialFrame(1280, 658);
    const before = canvasToImage(frame, 400, 400, 537, 296);
    const zoomed = zoomAt(frame, 400, 400, 537, 296, 1.5);
    const after = canvasToImage(zoomed, 400, 400, 537, 296);
    expect(after.u).toBeCloseTo(before.u, 10);
    const p = placement(zoomed, 400, 400);
    expect(p.width).toBeLessThan(1280);
    expect(p.x).toBeGreaterThanOrEqual(0);
    expect(p.x + p.width).toBeLessThanOrEqual(1280);
    // Near the left edge the image stops at the edge instead of leaving the canvas.
    const edge = zoomAt({ ...frame, centerX: 0.5 + (1280 / 2 - 658 / 2) / 658 }, 400, 400, 2, 300, 1.5);
    expect(placement(edge, 400, 400).x).toBeCloseTo(0, 6);
  });
});
