/**
 * Issue 26 in the browser: a graph model with an op that has no gradient (DepthToSpace, built here
 * in Node) is dropped with an image. The method picker disables the gradient methods and says why;
 * Occlusion and RISE explain the image, each panel drawing over it.
 */
import * as tf from '@tensorflow/tfjs';
import { expect, test } from '@playwright/test';
import { noGradientGraph, NO_GRADIENT_LABELS } from '../src/engine/node/no-gradient-graph';
import { collectConsoleErrors, pageFile, panelStats, waitForReady } from './helpers';
import { tinyImage } from './tiny-model';
import { afterNewModel, appState, dropOnWindow, explanationId } from './studio-flows';

test('a model without a gradient: gradient methods disabled with the reason; Occlusion and RISE explain it', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await tf.setBackend('cpu');
  const { modelJson, weightsBin } = await noGradientGraph();
  await page.goto('/?backend=wasm');
  await waitForReady(page);
  const files = [
    pageFile('model.json', new TextEncoder().encode(modelJson)),
    pageFile('weights.bin', weightsBin),
    pageFile('labels.txt', new TextEncoder().encode(NO_GRADIENT_LABELS.join('\n'))),
    tinyImage(),
  ];
  const loaded = await afterNewModel(page, () => dropOnWindow(page, files));
  const gradients = (loaded.model.summary as unknown as { gradients?: { supported: boolean; op?: string } }).gradients;
  expect(gradients?.supported).toBe(false);
  expect(gradients?.op).toContain('DepthToSpace');

  // The picker says why, and an unchosen gradient method cannot be ticked.
  const note = page.getByTestId('gradient-note');
  await expect(note).toContainText('op without a gradient (DepthToSpace)');
  const vanilla = page.locator('[data-testid=method-picker] input[data-method="vanilla-gradient"]');
  await expect(vanilla).toBeDisabled();
  await expect(vanilla.locator('xpath=..')).toHaveAttribute('title', /Disabled: this model has an op without a gradient/);
  // The chosen gradient methods gave way to Occlusion when the model loaded; it explained the image.
  await expect(page.locator('[data-testid=method-picker] input[data-method="occlusion"]')).toBeChecked();
  expect((loaded.explanation.last as unknown as { methods: string[] }).methods).toEqual(['occlusion']);
  await expect(page.locator('[data-testid=method-picker] input[data-method="rise"]')).toBeEnabled();

  // Occlusion and RISE (small settings), the gradient methods unticked.
  const before = await explanationId(page);
  for (const id of ['occlusion', 'rise']) await page.locator(`[data-testid=method-picker] input[data-method="${id}"]`).check();
  for (const box of await page.locator('[data-testid=method-picker] input[type=checkbox][data-method]').all()) {
    const id = (await box.getAttribute('data-method')) ?? '';
    if (!['occlusion', 'rise'].includes(id) && (await box.isChecked())) await box.uncheck();
  }
  await page.waitForFunction(
    (prev) => {
      const s = (window as unknown as { __studio: { getState(): { status: { pending: number }; explanation: { last: { requestId: number; methods: string[] } | null } } } }).__studio.getState();
      return s.status.pending === 0 && !!s.explanation.last && s.explanation.last.requestId !== prev && s.explanation.last.methods.join(',') === 'occlusion,rise';
    },
    before,
    { timeout: 180_000 },
  );
  await waitForReady(page);
  const state = await appState(page);
  expect(state.explanation.last).not.toBeNull();
  const titles = (await page.locator('.panels .panel-title').allTextContents()).map((t) => t.trim());
  expect(titles).toEqual(['Original', 'Occlusion', 'RISE']);
  const stats = (await panelStats(page)) as Record<string, { changedFraction: number }>;
  for (const key of ['occlusion', 'rise']) expect(stats[key]?.changedFraction, `${key} draws over the image`).toBeGreaterThan(0.05);
  expect(errors).toEqual([]);
});
