/**
 * Issue 23.3: a gallery whose folder names match none of the model's labels says so above the grid;
 * "ignore folder names" removes every ✓/✗ and the confusion matrix, "map by order" maps the sorted
 * folders onto the labels.
 */
import { expect, test } from '@playwright/test';
import { collectConsoleErrors, waitForReady } from './helpers';
import { tinyImage } from './tiny-model';

test('folder names that match no label: a warning, then ignore (no ✓/✗, no matrix) or map by order', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForReady(page);
  const image = tinyImage();
  await page.evaluate(async ({ base64 }) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const paths = ['set/neutral/a.png', 'set/drawing/b.png', 'set/neutral/c.png', 'set/drawing/d.png'];
    const w = window as unknown as { __studio: { actions: { dropFiles(f: { file: File; path: string }[]): Promise<void> } } };
    await w.__studio.actions.dropFiles(paths.map((path) => ({ file: new File([bytes], path.split('/').pop()!), path })));
  }, image);
  await expect(page.getByTestId('gallery-progress')).toHaveAttribute('data-outcome', 'done', { timeout: 180_000 });
  const warning = page.getByTestId('gallery-label-warning');
  await expect(warning).toContainText('None of the folder names (drawing, neutral)');
  // As they are: every image is "wrong", and the matrix mixes the two vocabularies.
  await expect(page.locator('.gallery-cell .gallery-badge')).toHaveCount(4);
  await expect(page.getByTestId('confusion-matrix')).toBeVisible();

  await page.getByTestId('folder-labels-ignore').check();
  await expect(warning).toHaveAttribute('data-mode', 'ignore');
  await expect(page.locator('.gallery-cell .gallery-badge')).toHaveCount(0);
  await expect(page.getByTestId('confusion-matrix')).toHaveCount(0);

  // By order: drawing → the first label, neutral → the second; the matrix now speaks the model's labels only.
  const labels = await page.evaluate(() => (window as unknown as { __studio: { getState(): { model: { summary: { labels: string[] } } } } }).__studio.getState().model.summary.labels);
  await page.getByTestId('folder-labels-order').check();
  await expect(page.locator('.gallery-cell .gallery-badge')).toHaveCount(4);
  const rows = await page.getByTestId('confusion-matrix').locator('tbody th').allTextContents();
  for (const row of rows) expect(labels).toContain(row.trim());
  await expect(page.locator('.gallery-cell[data-file$="a.png"]')).toContainText(`true: ${labels[1]}`);
  expect(errors).toEqual([]);
});
