/**
 * Issue 26, Deep Feature Factorization in the app: on a two-shape demo sample with "show all
 * concepts", the DFF panel draws the k concepts in distinct colours with a legend that names each
 * colour's concept by its top class through the head, and each concept has its own cell titled by
 * its classes and drawn in its colour; the export holds every cell and the legend in its caption.
 * Saves the grid as test-results/dff-concepts.png to be looked at.
 */
import { expect, test, type Page } from '@playwright/test';
import { collectConsoleErrors, waitForReady } from './helpers';
import { PNG } from 'pngjs';
import { appState, demoSamples, downloadBytes, explanationId, waitForNewExplanation } from './studio-flows';

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

  // Each concept has its own cell after the combined picture, titled by its classes, drawn in its colour.
  const cells = page.locator('[data-panel-frame^="dff:concept:"]');
  await expect(cells).toHaveCount(4);
  const titles = (await cells.locator('figcaption').allTextContents()).map((t) => t.trim());
  for (const [j, title] of titles.entries()) expect(title).toMatch(new RegExp(`^Concept ${j + 1}: (${labels.join('|')}) \\d+ %`));
  const tinted = await page.evaluate(async () => {
    type Panels = Record<string, { width: number; height: number; data: Uint8ClampedArray }>;
    const client = (window as unknown as { __studio: { client: { call(op: string, args: unknown[]): Promise<Panels> } } }).__studio.client;
    const panels = await client.call('inspectPanels', []);
    const state = (window as unknown as { __studio: { getState(): { explanation: { last: { panels: Array<{ key: string; concept?: { entry: { colour: number[] } } }> } } } } }).__studio.getState();
    // Per concept cell: the share of pixels whose colour moved off grey towards the concept's colour.
    return [0, 1, 2, 3].map((j) => {
      const colour = state.explanation.last.panels.find((p) => p.key === `dff:concept:${j}`)!.concept!.entry.colour;
      const p = panels[`dff:concept:${j}`]!;
      let towards = 0;
      for (let i = 0; i < p.data.length; i += 4) {
        const [r, g, b] = [p.data[i]!, p.data[i + 1]!, p.data[i + 2]!];
        const grey = (r + g + b) / 3;
        const chroma = Math.max(r, g, b) - Math.min(r, g, b);
        // Coloured, and ordered like the concept's colour (its strongest channel is the pixel's strongest).
        const strongest = colour.indexOf(Math.max(...colour));
        if (chroma > 30 && [r, g, b][strongest]! >= grey) towards++;
      }
      return towards / (p.width * p.height);
    });
  });
  for (const [j, share] of tinted.entries()) expect(share, `concept ${j + 1} is drawn in its colour`).toBeGreaterThan(0.02);

  // The export holds every cell (the original, Grad-CAM, the combined picture, four concepts) and the legend.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export PNG' }).click()]);
  const bytes = await downloadBytes(download);
  const text = bytes.toString('latin1');
  for (let j = 1; j <= 4; j++) expect(text).toContain(`Concept ${j} (`);
  const png = PNG.sync.read(bytes);
  expect(png.height, 'seven panels take two rows').toBeGreaterThan(2 * 200);
  await page.locator('.panels').screenshot({ path: 'test-results/dff-concepts.png' });
  expect(errors).toEqual([]);
});
