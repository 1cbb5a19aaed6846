/**
 * Issue 16: a panel opens large by mouse and by keyboard; the wheel zooms about the pointer (the
 * readout's input pixel stays under it, and a pointer step then covers 1/zoom of the pixels it did),
 * the wipe slider uncovers the original, Escape closes and gives the focus back to the panel, and
 * Export PNG gives the view as shown: the canvas's size and pixels, then the caption strip.
 */
import { expect, test, type Page } from '@playwright/test';
import { PNG } from 'pngjs';
import { collectConsoleErrors, waitForReady } from './helpers';
import { downloadBytes } from './studio-flows';
import { canvasToImage, gridPixel, type ViewFrame } from '../src/render/large-view';
import { largeViewExportLayout } from '../src/render/large-view-export';

test.use({ viewport: { width: 1280, height: 800 } });

interface CanvasInfo {
  /** CSS box on the page. */
  left: number;
  top: number;
  cssWidth: number;
  cssHeight: number;
  /** Backing store (device pixels). */
  width: number;
  height: number;
  zoom: number;
}

async function canvasInfo(page: Page): Promise<CanvasInfo> {
  return page.locator('[data-testid="large-canvas"]').evaluate((el) => {
    const c = el as HTMLCanvasElement;
    const r = c.getBoundingClientRect();
    return { left: r.left, top: r.top, cssWidth: r.width, cssHeight: r.height, width: c.width, height: c.height, zoom: Number(c.dataset.zoom) };
  });
}

async function readout(page: Page): Promise<{ x: number; y: number; value: number | null }> {
  const out = page.locator('[data-testid="large-readout"]');
  await expect(out).toHaveAttribute('data-x', /\d+/);
  return out.evaluate((el) => {
    const d = (el as HTMLElement).dataset;
    return { x: Number(d.x), y: Number(d.y), value: d.value === undefined ? null : Number(d.value) };
  });
}

/** RGB of the on-screen canvas (the page draws it, so it can read it) at every `step`-th pixel, row by row. */
async function canvasSamples(page: Page, step: number): Promise<{ width: number; height: number; step: number; rgb: number[] }> {
  return page.locator('[data-testid="large-canvas"]').evaluate((el, every) => {
    const c = el as HTMLCanvasElement;
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const rgb: number[] = [];
    for (let y = 0; y < c.height; y += every) for (let x = 0; x < c.width; x += every) rgb.push(data[(y * c.width + x) * 4]!, data[(y * c.width + x) * 4 + 1]!, data[(y * c.width + x) * 4 + 2]!);
    return { width: c.width, height: c.height, step: every, rgb };
  }, step);
}

/** The sample nearest to the fractions (fx, fy) of the canvas. */
function sampleAt(s: { width: number; height: number; step: number; rgb: number[] }, fx: number, fy: number): number[] {
  const columns = Math.ceil(s.width / s.step);
  const i = (Math.floor((fy * s.height) / s.step) * columns + Math.floor((fx * s.width) / s.step)) * 3;
  return s.rgb.slice(i, i + 3);
}

/** The input pixel the geometry puts under a CSS point of the canvas (64×64 demo input, square picture). */
function expectedPixel(info: CanvasInfo, x: number, y: number, input = 64): { x: number; y: number } | null {
  const frame: ViewFrame = { width: info.cssWidth, height: info.cssHeight, zoom: info.zoom, centerX: 0.5, centerY: 0.5, wipe: 0 };
  const { u, v } = canvasToImage(frame, 1, 1, x, y);
  return gridPixel(u, v, input, input);
}

test('the large view: opened by mouse, zoom about the pointer with the readout, wipe, export as shown, Escape back to the panel', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForReady(page);

  const panel = page.locator('[data-testid="open-large-gradcam"]');
  await panel.click();
  const dialog = page.getByRole('dialog', { name: 'Grad-CAM' });
  await expect(dialog).toBeVisible();
  await expect(page.locator('[data-testid="large-canvas"][data-zoom]')).toBeVisible();
  let info = await canvasInfo(page);
  // Fitted to the window: the picture's stage takes most of it.
  expect(info.cssWidth * info.cssHeight).toBeGreaterThan(0.6 * 1280 * 800);
  expect(info.zoom).toBe(1);

  // The readout names the input pixel under the pointer and the map's value there.
  const at = { x: info.cssWidth * 0.42, y: info.cssHeight * 0.45 };
  await page.mouse.move(info.left + at.x, info.top + at.y);
  const first = await readout(page);
  expect(first).toMatchObject(expectedPixel(info, at.x, at.y)!);
  expect(first.value).not.toBeNull();
  expect(first.value!).toBeGreaterThanOrEqual(0);
  expect(first.value!).toBeLessThanOrEqual(1);
  await page.mouse.move(info.left + at.x + 100, info.top + at.y);
  const stepAtFit = (await readout(page)).x - first.x;
  expect(stepAtFit).toBeGreaterThan(5);

  // Wheel up over the same point: zoomed in, the same input pixel still under the pointer.
  await page.mouse.move(info.left + at.x, info.top + at.y);
  for (let i = 0; i < 3; i++) await page.mouse.wheel(0, -300);
  await expect.poll(async () => (await canvasInfo(page)).zoom).toBeGreaterThan(3);
  info = await canvasInfo(page);
  await page.mouse.move(info.left + at.x + 1, info.top + at.y);
  await page.mouse.move(info.left + at.x, info.top + at.y);
  const zoomed = await readout(page);
  expect(Math.abs(zoomed.x - first.x)).toBeLessThanOrEqual(1);
  expect(Math.abs(zoomed.y - first.y)).toBeLessThanOrEqual(1);
  // A 100 px step now covers 1/zoom of the input pixels it covered at fit.
  await page.mouse.move(info.left + at.x + 100, info.top + at.y);
  const stepZoomed = (await readout(page)).x - zoomed.x;
  expect(Math.abs(stepZoomed - stepAtFit / info.zoom)).toBeLessThanOrEqual(1.01);
  expect(await page.locator('[data-testid="large-zoom"]').textContent()).toBe(`${Math.round(info.zoom * 100)}%`);

  // The wipe: dragged to the middle, the left half shows the original, the right half still the overlay.
  // (Zoomed in, the view asked the worker for more of the image's pixels: they land first.)
  await expect(page.locator('[data-testid="large-canvas"]:not([data-drawing])')).toBeVisible();
  const before = await canvasSamples(page, 7);
  const wipe = page.locator('[data-testid="large-wipe"]');
  await wipe.fill('50');
  await expect(wipe).toHaveValue('50');
  await expect.poll(async () => {
    const left = sampleAt(await canvasSamples(page, 7), 0.25, 0.5);
    return left.some((c, i) => Math.abs(c - sampleAt(before, 0.25, 0.5)[i]!) > 8);
  }).toBe(true);
  const wiped = await canvasSamples(page, 7);
  expect(sampleAt(wiped, 0.75, 0.5)).toEqual(sampleAt(before, 0.75, 0.5));

  // Export PNG: the view as shown — the canvas's own size and pixels — then the caption strip.
  const caption = (await page.locator('[data-testid="large-caption"]').textContent())!.split('\n');
  expect(caption.join('\n')).toContain('Method: Grad-CAM');
  const downloading = page.waitForEvent('download');
  await dialog.getByRole('button', { name: 'Export PNG' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^gradcam-.*\.png$/);
  const png = PNG.sync.read(await downloadBytes(download));
  const layout = largeViewExportLayout({ width: wiped.width, height: wiped.height }, caption.length);
  expect([png.width, png.height]).toEqual([layout.width, layout.height]);
  expect(png.width).toBe(Math.round(info.cssWidth));
  let diff = 0;
  let i = 0;
  for (let y = 0; y < wiped.height; y += wiped.step)
    for (let x = 0; x < wiped.width; x += wiped.step, i += 3)
      for (let c = 0; c < 3; c++) diff += Math.abs(wiped.rgb[i + c]! - png.data[(y * png.width + x) * 4 + c]!);
  expect(diff / i, 'the exported picture is the one on screen').toBeLessThan(2);

  // Escape closes it and the focus is back on the panel it came from.
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(panel).toBeFocused();
  expect(errors).toEqual([]);
});

test('the large view by keyboard: Enter on a panel opens it, + zooms, the arrows pan, Escape returns the focus', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForReady(page);
  const panel = page.locator('[data-testid="open-large-guided-backprop"]');
  await panel.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Guided backprop' });
  await expect(dialog).toBeVisible();
  const canvas = page.locator('[data-testid="large-canvas"][data-zoom]');
  await expect(canvas).toBeVisible();
  await canvas.focus();
  await page.keyboard.press('+');
  await page.keyboard.press('+');
  await expect(canvas).toHaveAttribute('data-zoom', '1.5625');
  // The keyboard readout is the centre of the view: ArrowRight moves the view right.
  const centre = await readout(page);
  await page.keyboard.press('ArrowRight');
  await expect.poll(async () => (await readout(page)).x).toBeGreaterThan(centre.x);
  await page.keyboard.press('0');
  await expect(canvas).toHaveAttribute('data-zoom', '1');
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(panel).toBeFocused();
  expect(errors).toEqual([]);
});
