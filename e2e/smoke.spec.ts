/** The app opens on its built-in demo, already explained, with a visible heatmap and a clean console. */
import { expect, test } from '@playwright/test';
import { collectConsoleErrors, panelStats, studioState, waitForReady } from './helpers';

test('opens on the demo and shows a heatmap; no console errors', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForReady(page);
  const state = await studioState<{ model: { summary: { name: string } | null }; explanation: { last: { methods: string[]; cam?: { data: Float32Array } } | null } }>(page);
  expect(state.model.summary, 'the demo model is loaded').not.toBeNull();
  expect(state.explanation.last, 'an explanation is on screen').not.toBeNull();
  expect(state.explanation.last!.methods).toContain('gradcam');

  const stats = await panelStats(page, 'app');
  expect(stats.original!.width).toBe(320);
  // The overlay differs from the photo over a good part of the panel and has many colours.
  expect(stats.gradcam!.changedFraction).toBeGreaterThan(0.1);
  expect(stats.gradcam!.distinctColours).toBeGreaterThan(30);
  // The visible canvas is the one the worker draws on.
  await expect(page.locator('canvas[data-panel="gradcam"]')).toBeVisible();
  expect(errors).toEqual([]);
});
