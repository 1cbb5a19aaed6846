/**
 * The README's screenshot: the whole app at 1440×900, opened on the demo and explained, written to
 * docs/screenshot.png by the e2e run (so it always shows the app as it is).
 */
import { expect, test } from '@playwright/test';
import { PNG } from 'pngjs';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { collectConsoleErrors, panelStats, waitForReady } from './helpers';

const SCREENSHOT = resolve(process.cwd(), 'docs/screenshot.png');

test.use({ viewport: { width: 1440, height: 900 } });

test('screenshot of the app on the demo, explained, for the README', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForReady(page);
  expect((await panelStats(page)).gradcam!.changedFraction, 'a heatmap is on screen').toBeGreaterThan(0.1);
  // The selected layer is in view and no control has a focus ring from the test.
  await expect(page.locator('[role=treeitem][aria-selected=true]')).toBeInViewport();
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.screenshot({ path: SCREENSHOT, fullPage: false });

  const png = PNG.sync.read(readFileSync(SCREENSHOT));
  expect([png.width, png.height]).toEqual([1440, 900]);
  expect(errors).toEqual([]);
});
