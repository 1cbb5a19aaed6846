/**
 * Issue 26, superpixels in the app: LIME's panel outlines the SLIC segments it switched on and off;
 * "Superpixel outlines" (shown only when such a panel is drawn) hides and shows them again by
 * recolouring — no new explanation. Saves the grid as test-results/superpixels.png to be looked at.
 */
import { expect, test, type Page } from '@playwright/test';
import { collectConsoleErrors, waitForReady, type PageClient } from './helpers';
import { explanationId, waitForNewExplanation } from './studio-flows';

async function chooseOnly(page: Page, methods: string[]): Promise<void> {
  for (const box of await page.locator('[data-testid=method-picker] input[type=checkbox][data-method]').all()) {
    const id = (await box.getAttribute('data-method')) ?? '';
    if (methods.includes(id) !== (await box.isChecked())) await box.setChecked(methods.includes(id));
  }
}

/** The LIME panel's pixels, read through the worker (the canvases are transferred). */
async function limePixels(page: Page): Promise<number[]> {
  return page.evaluate(async () => {
    const panels = await (window as unknown as { __studio: { client: PageClient } }).__studio.client.call('inspectPanels', []);
    return Array.from(panels.lime.data);
  });
}

test('LIME outlines its superpixels; the switch hides and shows them without recomputing', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto('/');
  await waitForReady(page);
  await expect(page.getByTestId('segment-outlines')).toHaveCount(0); // no superpixel panel yet
  const before = await explanationId(page);
  await chooseOnly(page, ['gradcam', 'lime']);
  await waitForNewExplanation(page, before);
  await waitForReady(page);
  const id = await explanationId(page);

  const outlined = await limePixels(page);
  const toggle = page.getByTestId('segment-outlines');
  await expect(toggle).toBeChecked();
  await page.locator('.panels').screenshot({ path: 'test-results/superpixels.png' });
  await toggle.uncheck();
  await expect.poll(async () => (await limePixels(page)).join(',') !== outlined.join(','), { timeout: 30_000 }).toBe(true);
  const plain = await limePixels(page);
  // Only the outline pixels changed, each lightened (moved towards white), and there are many of them.
  let lightened = 0;
  for (let i = 0; i < plain.length; i += 4) {
    const moved = [0, 1, 2].map((c) => outlined[i + c]! - plain[i + c]!);
    if (moved.some((m) => m !== 0)) {
      lightened++;
      for (const m of moved) expect(m).toBeGreaterThanOrEqual(0);
    }
  }
  expect(lightened / (plain.length / 4)).toBeGreaterThan(0.02);
  await toggle.check();
  await expect.poll(async () => (await limePixels(page)).join(','), { timeout: 30_000 }).toBe(outlined.join(','));
  expect(await explanationId(page), 'a recolour, not a new explanation').toBe(id);
  expect(errors).toEqual([]);
});
