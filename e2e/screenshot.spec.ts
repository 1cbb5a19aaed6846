/**
 * The README's screenshot: the whole app at 1440×900, opened on the demo and explained with seven
 * methods in the comparison grid, written to
 * docs/screenshot.png by the e2e run (so it always shows the app as it is).
 */
import { expect, test } from '@playwright/test';
import { PNG } from 'pngjs';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { collectConsoleErrors, panelStats, waitForReady } from './helpers';
import { waitForNewExplanation } from './studio-flows';

const SCREENSHOT = resolve(process.cwd(), 'docs/screenshot.png');

// The dark theme: the README's picture stays the one it has always shown (the light theme follows prefers-color-scheme).
test.use({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });

test('screenshot of the app on the demo, explained, for the README', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForReady(page);
  expect((await panelStats(page)).gradcam!.changedFraction, 'a heatmap is on screen').toBeGreaterThan(0.1);
  // The comparison grid, as the README describes it: seven methods side by side.
  const before = await page.evaluate(() => (window as unknown as { __studio: { getState(): { explanation: { last: { requestId: number } | null } } } }).__studio.getState().explanation.last?.requestId ?? null);
  await page.evaluate(() =>
    (window as unknown as { __studio: { actions: { setMethods(m: string[]): Promise<unknown> } } }).__studio.actions.setMethods([
      'gradcam', 'gradcam-plus-plus', 'scorecam', 'layercam', 'integrated-gradients', 'guided-backprop', 'guided-gradcam',
    ]),
  );
  await waitForNewExplanation(page, before);
  expect(await page.locator('.panels .panel').count()).toBe(8);
  // The selected layer is in view and no control has a focus ring from the test.
  await expect(page.locator('[role=treeitem][aria-selected=true]')).toBeInViewport();
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.screenshot({ path: SCREENSHOT, fullPage: false });

  const png = PNG.sync.read(readFileSync(SCREENSHOT));
  expect([png.width, png.height]).toEqual([1440, 900]);
  expect(errors).toEqual([]);
});
