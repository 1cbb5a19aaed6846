/**
 * Issue 23.5: the trust panel and the gallery fit and read well. With the faithfulness scores, the
 * sanity check (strip, plots, table) and the curve points all open, and then with a gallery whose
 * folders match the demo's labels (so the confusion matrix shows): axe-core finds no serious or
 * critical violation in the dark or the light theme, and the page never scrolls sideways at 390,
 * 768 or 1440 px (the strip and the wide tables scroll inside their own boxes).
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { collectConsoleErrors, waitForReady } from './helpers';
import { tinyImage } from './tiny-model';

const THEMES = ['dark', 'light'] as const;
const WIDTHS = [390, 768, 1440] as const;

async function seriousViolations(page: Page, where: string, include: string): Promise<string[]> {
  const results = await new AxeBuilder({ page }).include(include).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${where}: ${v.id} (${v.impact}) — ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
}

/** How far the page scrolls sideways at each width (0 = it fits), with the narrow layout's sheets open too. */
async function overflowAt(page: Page): Promise<Record<number, number>> {
  const out: Record<number, number> = {};
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(100); // one layout after the resize
    for (const toggle of await page.locator('.sheet-toggle[aria-expanded="false"]').all()) await toggle.click();
    out[width] = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (out[width] > 0 && process.env.E2E_DEBUG_OVERFLOW) {
      console.log(width, await page.evaluate(() => Array.from(document.querySelectorAll('body *')).filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 12).map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)} ${(e.textContent ?? '').slice(0, 60)}`)));
    }
  }
  return out;
}

test('trust panel and gallery: axe in both themes, no sideways page scroll at 390, 768 and 1440 px with every panel open', async ({ page }) => {
  test.setTimeout(420_000);
  const errors = collectConsoleErrors(page);
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto('/');
  await waitForReady(page);

  await page.getByTestId('measure-faithfulness').click();
  await expect(page.getByTestId('faithfulness-table')).toBeVisible({ timeout: 180_000 });
  await waitForReady(page);
  await page.getByTestId('run-sanity').click();
  await expect(page.getByTestId('sanity-result')).toBeVisible({ timeout: 180_000 });
  await waitForReady(page);
  await page.getByText('Curve points').click();

  const found: string[] = [];
  for (const theme of THEMES) {
    await page.emulateMedia({ colorScheme: theme });
    found.push(...(await seriousViolations(page, `trust panel, ${theme}`, '[data-testid="faithfulness-panel"]')));
  }
  const single = await overflowAt(page);
  expect(single, 'single view with the trust panel open').toEqual({ 390: 0, 768: 0, 1440: 0 });

  // A gallery whose folders are the demo's labels: the confusion matrix shows.
  await page.setViewportSize({ width: 1440, height: 900 });
  const image = tinyImage();
  await page.evaluate(async ({ base64 }) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const paths = ['shapes/circle/a.png', 'shapes/square/b.png', 'shapes/triangle/c.png', 'shapes/circle/d.png'];
    const w = window as unknown as { __studio: { actions: { dropFiles(f: { file: File; path: string }[]): Promise<void> } } };
    await w.__studio.actions.dropFiles(paths.map((path) => ({ file: new File([bytes], path.split('/').pop()!), path })));
  }, image);
  await expect(page.getByTestId('gallery')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('gallery-progress')).toHaveAttribute('data-outcome', 'done', { timeout: 180_000 });
  await expect(page.getByTestId('confusion-matrix')).toBeVisible();
  for (const theme of THEMES) {
    await page.emulateMedia({ colorScheme: theme });
    found.push(...(await seriousViolations(page, `gallery, ${theme}`, '[data-testid="gallery"]')));
  }
  // The diagonal cells follow the theme (no fixed dark background in the light theme).
  await page.emulateMedia({ colorScheme: 'light' });
  const diagonal = await page.locator('.confusion td.diagonal').first().evaluate((td) => getComputedStyle(td).backgroundColor);
  expect(diagonal).toBe('rgb(227, 244, 232)');
  const gallery = await overflowAt(page);
  expect(gallery, 'gallery with the confusion matrix').toEqual({ 390: 0, 768: 0, 1440: 0 });

  expect(found, found.join('\n')).toEqual([]);
  expect(errors).toEqual([]);
});

test('desktop: the tree column is resizable from its edge (keyboard), and the width holds after a reload', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto('/');
  await waitForReady(page);
  const width = () => page.locator('.left-column').evaluate((e) => e.getBoundingClientRect().width);
  const before = await width();
  await page.getByTestId('tree-resizer').focus();
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
  expect(await width()).toBeCloseTo(before + 64, 0);
  await page.reload();
  await waitForReady(page);
  expect(await width()).toBeCloseTo(before + 64, 0);
  await page.getByTestId('tree-resizer').focus();
  await page.keyboard.press('Home');
  expect(await width()).toBeCloseTo(before, 0);
});
