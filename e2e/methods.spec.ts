/**
 * Issue 11 in the browser: pick three methods → three titled panels that differ; switch the grid to
 * layers; export the grid; a long Score-CAM is cancelled by choosing another class (the newer request
 * wins, no error shown), and the Cancel button stops one (the previous explanation stays).
 */
import * as tf from '@tensorflow/tfjs';
import { expect, test, type Page } from '@playwright/test';
import { PNG } from 'pngjs';
import { exportLayersModelAsTfjs } from '../src/engine/formats/export-tfjs';
import { encodePng } from '../src/engine/node/image';
import { readPngText } from '../src/render/png-text';
import { gridLayout } from '../src/render/composite';
import { collectConsoleErrors, panelStats, waitForReady, type PageClient } from './helpers';
import { appState, downloadBytes, explanationId, waitForNewExplanation, type AppState } from './studio-flows';

type Studio = { __studio: { getState(): AppState & { status: { explainProgress: { method: string; fraction: number } | null } } } };

async function choose(page: Page, methods: string[]): Promise<AppState> {
  const before = await explanationId(page);
  // As a person would: tick the wanted boxes, untick the others.
  for (const box of await page.locator('[data-testid=method-picker] input[type=checkbox][data-method]').all()) {
    const id = (await box.getAttribute('data-method'))!;
    if (methods.includes(id) && !(await box.isChecked())) await box.check();
  }
  for (const box of await page.locator('[data-testid=method-picker] input[type=checkbox][data-method]').all()) {
    const id = (await box.getAttribute('data-method'))!;
    if (!methods.includes(id) && (await box.isChecked())) await box.uncheck();
  }
  await page.waitForFunction(
    ([prev, wanted]) => {
      const s = (window as unknown as Studio).__studio.getState();
      const last = s.explanation.last as unknown as { requestId: number; methods: string[] } | null;
      return s.status.pending === 0 && !!last && last.requestId !== prev && last.methods.join(',') === wanted;
    },
    [before, methods.join(',')] as const,
    { timeout: 120_000 },
  );
  await waitForReady(page);
  return appState(page);
}

test('three methods: three titled panels that differ; the layers grid; the grid exported as shown', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForReady(page);
  await choose(page, ['gradcam', 'scorecam', 'integrated-gradients']);

  const titles = await page.locator('.panels .panel-title').allTextContents();
  expect(titles.map((t) => t.trim())).toEqual(['Original', 'Grad-CAM', 'Score-CAM', 'Integrated Gradients']);
  const stats = await panelStats(page);
  const pixels = await page.evaluate(async () => {
    type Inspectable = PageClient;
    const panels = await (window as unknown as { __studio: { client: Inspectable } }).__studio.client.call('inspectPanels', []);
    return Object.fromEntries(Object.entries(panels).map(([k, p]) => [k, Array.from(p.data.filter((_, i) => i % 16 === 0))]));
  });
  for (const key of ['gradcam', 'scorecam', 'integrated-gradients']) {
    expect((stats as Record<string, { changedFraction: number }>)[key]!.changedFraction, `${key} draws over the image`).toBeGreaterThan(0.05);
  }
  const differ = (a: number[], b: number[]) => a.reduce((n, v, i) => n + Math.abs(v - b[i]!), 0) / a.length;
  expect(differ(pixels.gradcam!, pixels.scorecam!)).toBeGreaterThan(1);
  expect(differ(pixels.gradcam!, pixels['integrated-gradients']!)).toBeGreaterThan(1);
  expect(differ(pixels.scorecam!, pixels['integrated-gradients']!)).toBeGreaterThan(1);

  // The layers grid: Grad-CAM (the first method) at the chosen layer and at the other resolution(s).
  let before = await explanationId(page);
  await page.getByLabel('Compare layers').check();
  let state = await waitForNewExplanation(page, before);
  const last = state.explanation.last as unknown as { grid: string; panels: { key: string; method: string; layerPaths: string[] }[] };
  expect(last.grid).toBe('layers');
  expect(last.panels.length).toBeGreaterThanOrEqual(2);
  expect(new Set(last.panels.map((p) => p.method))).toEqual(new Set(['gradcam']));
  expect(new Set(last.panels.map((p) => p.layerPaths[0])).size).toBe(last.panels.length);
  const layerTitles = await page.locator('.panels .panel-title').allTextContents();
  expect(layerTitles[1]).toMatch(/^Grad-CAM · /);

  // Export: the grid as shown, with the caption listing the method and the layers.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export PNG' }).click()]);
  const bytes = await downloadBytes(download);
  const png = PNG.sync.read(bytes);
  const caption = readPngText(new Uint8Array(bytes)).Description!;
  const layout = gridLayout(Array(1 + last.panels.length).fill({ width: 320, height: 320 }), caption.split('\n').length, true);
  expect([png.width, png.height]).toEqual([layout.width, layout.height]);
  expect(caption).toMatch(/Method: Grad-CAM/);
  expect(caption).toContain(`Layers: ${last.panels.map((p) => p.layerPaths[0]).join(', ')}`);

  // Back to the methods grid, the exported caption lists every method and its settings.
  before = await explanationId(page);
  await page.getByLabel('Compare methods').check();
  state = await waitForNewExplanation(page, before);
  const [again] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export PNG' }).click()]);
  const text = readPngText(new Uint8Array(await downloadBytes(again))).Description!;
  // Settings that change the map are listed (batch sizes only change the speed).
  expect(text).toContain('Methods: Grad-CAM; Score-CAM; Integrated Gradients (64 steps, baseline black image)');
  expect(state.status.notices.filter((n) => n.code && n.code !== 'CANCELLED')).toEqual([]);
  expect(errors).toEqual([]);
});

/** A 48×48 model whose last conv has 384 channels: Score-CAM runs 384 masked forward passes (seconds). */
async function wideModel(): Promise<{ name: string; mimeType: string; buffer: Buffer }[]> {
  await tf.setBackend('cpu');
  const seeded = (seed: number) => ({ kernelInitializer: tf.initializers.glorotNormal({ seed }) });
  const model = tf.sequential({
    name: 'wide',
    layers: [
      tf.layers.conv2d({ inputShape: [48, 48, 3], filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1', ...seeded(1) }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'c2', ...seeded(2) }),
      tf.layers.conv2d({ filters: 384, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'c3', ...seeded(3) }),
      tf.layers.globalAveragePooling2d({ name: 'gap' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'head', ...seeded(4) }),
    ],
  });
  const files = await exportLayersModelAsTfjs(model, ['one', 'two', 'three']);
  model.dispose();
  const data = new Uint8ClampedArray(64 * 64 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 37) % 251));
  return [
    ...files.map((f) => ({ name: f.name, mimeType: 'application/octet-stream', buffer: Buffer.from(f.data) })),
    { name: 'noise.png', mimeType: 'image/png', buffer: Buffer.from(encodePng({ width: 64, height: 64, data })) },
  ];
}

test('a long Score-CAM is cancelled by choosing another class (newest wins, no error), and by the Cancel button', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForReady(page);
  const files = await wideModel();
  await page.getByTestId('open-model').setInputFiles(files);
  await page.waitForFunction(() => (window as unknown as Studio).__studio.getState().model.summary?.labels.join() === 'one,two,three' && (window as unknown as Studio).__studio.getState().status.pending === 0, undefined, { timeout: 120_000 });
  await waitForReady(page);
  await choose(page, ['gradcam']);
  // Score-CAM one channel at a time: the slowest setting.
  await page.locator('[data-method=scorecam]').check();
  await page.getByLabel('Score-CAM batch size').fill('1');
  await page.getByLabel('Score-CAM batch size').press('Enter');
  const beforeSwitch = await appState(page);
  // While it runs (its progress is on screen), pick another class.
  await page.waitForFunction(() => ((window as unknown as Studio).__studio.getState().status.explainProgress?.fraction ?? 0) > 0, undefined, { timeout: 120_000 });
  await expect(page.getByTestId('explain-progress')).toBeVisible();
  const other = beforeSwitch.explanation.last!.predictions.find((p) => p.index !== beforeSwitch.explanation.last!.classIndex)!;
  await page.locator(`.predictions button[data-class-index="${other.index}"]`).click();
  const after = await waitForNewExplanation(page, beforeSwitch.explanation.last!.requestId);
  expect(after.explanation.last!.classIndex).toBe(other.index);
  expect(after.status.notices.filter((n) => n.level === 'error')).toEqual([]);

  // The Cancel button: the running Score-CAM stops, the explanation on screen stays, no error.
  const shown = after.explanation.last!.requestId;
  await page.locator(`.predictions button[data-class-index="${beforeSwitch.explanation.last!.classIndex}"]`).click();
  await expect(page.getByTestId('cancel-explain')).toBeVisible({ timeout: 60_000 });
  await page.getByTestId('cancel-explain').click();
  await waitForReady(page);
  const cancelled = await appState(page);
  expect(cancelled.explanation.last!.requestId).toBe(shown);
  expect(cancelled.status.notices.filter((n) => n.level === 'error')).toEqual([]);
  expect(errors).toEqual([]);
});
