/**
 * Issue 23.3: a labels file opened on its own attaches to the model on screen (same class count), and
 * the classes are renamed; a file with another count says so with its code and changes nothing.
 */
import { expect, test } from '@playwright/test';
import { collectConsoleErrors, pageFile, waitForReady } from './helpers';
import { dropOnWindow } from './studio-flows';

type Win = { __studio: { getState(): { model: { summary: { labels: string[] } }; status: { notices: { code: string | null }[] } } } };

test('labels.txt dropped after the model renames its classes; a wrong count is LABELS_NOT_ATTACHED', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForReady(page);
  const labels = () => page.evaluate(() => (window as unknown as Win).__studio.getState().model.summary.labels);
  const before = await labels();
  const renamed = before.map((l, i) => `shape ${i} (${l})`);
  await dropOnWindow(page, [pageFile('labels.txt', new TextEncoder().encode(renamed.join('\n')))]);
  await expect.poll(labels).toEqual(renamed);
  await waitForReady(page);
  await expect(page.locator('.right-column')).toContainText(renamed[0]!);

  await dropOnWindow(page, [pageFile('labels.txt', new TextEncoder().encode('only\ntwo'))]);
  await expect.poll(() => page.evaluate(() => (window as unknown as Win).__studio.getState().status.notices.map((n) => n.code))).toContain('LABELS_NOT_ATTACHED');
  expect(await labels()).toEqual(renamed);
  expect(errors.filter((e) => !e.includes('LABELS_NOT_ATTACHED'))).toEqual([]);
});
