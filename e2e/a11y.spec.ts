/**
 * Issue 16: axe-core (WCAG 2.x A/AA rules) on every screen of the app — the demo, the comparison
 * grid (several methods, and one method at several layers), the large view, a model the person
 * loaded and the gallery — at desktop and phone widths, in the dark and the light theme (prefers-color-scheme).
 * No serious or critical violation may remain; the report names each one with its elements.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { collectConsoleErrors, waitForReady } from './helpers';
import { afterNewModel, dropOnWindow, explanationId, waitForNewExplanation } from './studio-flows';
import { tinyImage, tinyModelFiles } from './tiny-model';

const WIDTHS = [
  { name: 'desktop', viewport: { width: 1440, height: 900 } },
  { name: 'phone', viewport: { width: 390, height: 844 } },
] as const;
const THEMES = ['dark', 'light'] as const;

type Actions = { __studio: { actions: { setMethods(m: string[]): Promise<unknown>; setGrid(g: string): Promise<unknown> } } };

/** Serious and critical violations on the page as it is now, as readable lines (rule, impact, elements). */
async function seriousViolations(page: Page, where: string): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${where}: ${v.id} (${v.impact}) — ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
}

for (const theme of THEMES) {
  for (const { name, viewport } of WIDTHS) {
    test(`axe: no serious or critical violation, ${theme} theme, ${name} (${viewport.width}×${viewport.height})`, async ({ page }) => {
      const errors = collectConsoleErrors(page);
      await page.setViewportSize(viewport);
      await page.emulateMedia({ colorScheme: theme });
      await page.goto('/');
      await waitForReady(page);
      expect(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme)).toBe(theme);
      const found: string[] = [];
      found.push(...(await seriousViolations(page, 'demo')));

      // The comparison grid: several methods side by side, then one method at several layers.
      let before = await explanationId(page);
      await page.evaluate(() => (window as unknown as Actions).__studio.actions.setMethods(['gradcam', 'gradcam-plus-plus', 'layercam', 'vanilla-gradient', 'guided-backprop']));
      await waitForNewExplanation(page, before);
      await expect(page.locator('.panels .panel')).toHaveCount(6);
      found.push(...(await seriousViolations(page, 'methods grid')));
      before = await explanationId(page);
      await page.evaluate(() => (window as unknown as Actions).__studio.actions.setGrid('layers'));
      await waitForNewExplanation(page, before);
      await expect(page.locator('.panels[data-grid="layers"]')).toBeVisible();
      found.push(...(await seriousViolations(page, 'layers grid')));
      before = await explanationId(page);
      await page.evaluate(() => (window as unknown as Actions).__studio.actions.setGrid('methods'));
      await waitForNewExplanation(page, before);

      // The large view, drawn.
      await page.locator('[data-testid="open-large-gradcam"]').click();
      await expect(page.locator('[data-testid="large-canvas"][style]')).toBeVisible();
      found.push(...(await seriousViolations(page, 'large view')));
      await page.keyboard.press('Escape');
      await expect(page.locator('[data-testid="large-view"]')).toHaveCount(0);

      // On a phone the sheets and the menu open: what they hold is checked too.
      if (name === 'phone') {
        await page.getByRole('button', { name: /Layers/ }).click();
        await page.getByRole('button', { name: 'Menu' }).click();
        await expect(page.locator('#header-actions')).toBeVisible();
        found.push(...(await seriousViolations(page, 'phone, menu and sheets open')));
        await page.getByRole('button', { name: 'Menu' }).click();
      }

      // A model the person dropped (nested, 3 classes, no spatial head), with an image.
      const tiny = await tinyModelFiles();
      await afterNewModel(page, () => dropOnWindow(page, [...tiny.files, tinyImage()]));
      found.push(...(await seriousViolations(page, 'loaded model')));

      // The gallery: several images dropped at once, explained.
      const image = tinyImage();
      await dropOnWindow(page, ['a', 'b', 'c'].map((k) => ({ ...image, name: `${k}-${image.name}` })));
      await expect(page.getByTestId('gallery')).toBeVisible({ timeout: 60_000 });
      await expect(page.getByTestId('gallery-progress')).toHaveAttribute('data-outcome', 'done', { timeout: 120_000 });
      found.push(...(await seriousViolations(page, 'gallery')));

      expect(found, found.join('\n')).toEqual([]);
      expect(errors).toEqual([]);
    });
  }
}
