/**
 * Issue 26, Deep Feature Factorization in the app: on a two-shape demo sample with "show all
 * concepts", the DFF panel draws the k concepts in distinct colours with a legend that names each
 * colour's concept by its top class through the head; the export's caption carries the legend too.
 * Saves the grid as test-results/dff-concepts.png to be looked at.
 */
import { expect, test, type Page } from '@playwright/test';
import { collectConsoleErrors, waitForReady } from './helpers';
import { appState, demoSamples, explanationId, waitForNewExplanation } from './studio-flows';

async function chooseOnly(page: Page, methods: string[]): Promise<void> {
  for (const box of await page.locator('[data-testid=method-picker] input[type=checkbox][data-method]').all()) {
    const id = (await box.getAttribute('data-method')) ?? '';
    if (methods.includes(id) && !(await box.isChecked())) await box.check();
  }
  for (const box of await page.locator('[data-testid=method-picker] input[type=checkbox][data-method]').all()) {
    const id = (await box.getAttribute('data-method')) ?? '';
    if (!methods.includes(id) && (await box.isChecked())) await box.uncheck();
  }
}

test('Deep Feature Factorization: all concepts in colours, with a legend of their classes', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto('/');
  await waitForReady(page);
  const sample = demoSamples().find((s) => s.shapes.length === 2 && s.shapes[0].label !== s.shapes[1].label);
  expect(sample).toBeTruthy();
  let before = await explanationId(page);
  await page.getByLabel('Open a demo sample').selectOption(sample!.file);
  await waitForNewExplanation(page, before);

  before = await explanationId(page);
  await chooseOnly(page, ['gradcam', 'dff']);
  await page.getByLabel('Deep Feature Factorization show').selectOption('combined');
  await page.waitForFunction(
    (prev) => {
      const s = (window as unknown as { __studio: { getState(): { status: { pending: number }; explanation: { last: { requestId: number; panels: Array<{ key: string; concepts?: unknown[] }> } | null } } } }).__studio.getState();
      const last = s.explanation.last;
      return s.status.pending === 0 && !!last && last.requestId !== prev && !!last.panels.find((p) => p.key === 'dff')?.concepts;
    },
    before,
    { timeout: 180_000 },
  );
  await waitForReady(page);

  const state = await appState(page);
  const labels = state.model.summary!.labels;
  const legend = page.getByTestId('concept-legend');
  await expect(legend.locator('li')).toHaveCount(4);
  const entries = (await legend.locator('li').allTextContents()).map((t) => t.trim());
  // "1. circle 97 %": each entry names a class of the model.
  for (const [j, text] of entries.entries()) {
    expect(text).toMatch(new RegExp(`^${j + 1}\\. (${labels.join('|')}) \\d+ %$`));
  }
  // The swatches are the concepts' distinct colours.
  const swatches = await legend.locator('.concept-swatch').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
  expect(new Set(swatches).size).toBe(4);
  await page.locator('.panels').screenshot({ path: 'test-results/dff-concepts.png' });
  expect(errors).toEqual([]);
});
