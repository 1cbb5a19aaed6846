/**
 * Issue 5: a dropped model is kept in this browser (IndexedDB, written by the worker) and comes back
 * after a reload without dropping it again; "Forget cached models" empties the cache (the demo opens then).
 */
import { expect, test } from '@playwright/test';
import { collectConsoleErrors, waitForReady } from './helpers';
import { afterNewModel, appState, dropOnWindow } from './studio-flows';
import { tinyImage, tinyModelFiles, TINY_LABELS } from './tiny-model';

test('a dropped model and image come back after a reload, and can be forgotten', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/?backend=wasm');
  await waitForReady(page);
  // Model names can coincide ("model.json"): the labels tell the demo from the dropped model.
  const demoLabels = (await appState(page)).model.summary?.labels ?? null;

  const { files } = await tinyModelFiles();
  const dropped = await afterNewModel(page, () => dropOnWindow(page, [...files, tinyImage()]));
  const droppedName = dropped.model.summary!.name;
  expect(dropped.model.summary!.labels).toEqual(TINY_LABELS);
  expect(demoLabels).not.toEqual(TINY_LABELS);
  // The cache write runs after the load: wait until it is in IndexedDB.
  await expect
    .poll(() => page.evaluate(() => new Promise<number>((resolve) => {
      const req = indexedDB.open('gradcam-studio');
      req.onsuccess = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains('meta')) return resolve(0);
        const get = db.transaction('meta').objectStore('meta').get('current');
        get.onsuccess = () => resolve(get.result ? 1 : 0);
        get.onerror = () => resolve(0);
      };
      req.onerror = () => resolve(0);
    })), { timeout: 60_000 })
    .toBe(1);

  await page.reload();
  await waitForReady(page);
  const restored = await appState(page);
  expect(restored.model.summary?.name).toBe(droppedName);
  expect(restored.model.summary?.labels).toEqual(TINY_LABELS);
  expect(restored.image?.name).toBe('tiny.png');
  expect(restored.explanation.last?.classLabel).toBeDefined(); // explained again without any drop
  const notices = restored.status.notices.map((n) => n.message);
  expect(notices.some((m) => /restored from this browser's cache/.test(m))).toBe(true);
  await expect(page.getByText(/restored from this browser's cache/).first()).toBeVisible();

  await page.getByTestId('forget-cache').click();
  await expect.poll(async () => (await appState(page)).status.notices.map((n) => n.message).join('\n')).toContain('Forgot the models cached');
  await page.reload();
  await waitForReady(page);
  expect((await appState(page)).model.summary?.labels ?? null).toEqual(demoLabels);
  expect(errors).toEqual([]);
});

test('a dropped model with a demo sample on screen: the sample comes back after a reload (no black panels)', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/?backend=wasm');
  await waitForReady(page);
  const sample = (await appState(page)).image?.name;
  expect(sample).toBeTruthy();
  const { files } = await tinyModelFiles();
  const dropped = await afterNewModel(page, () => dropOnWindow(page, files));
  expect(dropped.model.summary!.labels).toEqual(TINY_LABELS);
  expect(dropped.image?.name).toBe(sample);
  // The cache write runs after the load: wait until it is in IndexedDB.
  await expect
    .poll(() => page.evaluate(() => new Promise<number>((resolve) => {
      const req = indexedDB.open('gradcam-studio');
      req.onsuccess = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains('meta')) return resolve(0);
        const get = db.transaction('meta').objectStore('meta').get('current');
        get.onsuccess = () => resolve(get.result ? 1 : 0);
        get.onerror = () => resolve(0);
      };
      req.onerror = () => resolve(0);
    })), { timeout: 60_000 })
    .toBe(1);

  await page.reload();
  await waitForReady(page);
  const restored = await appState(page);
  expect(restored.model.summary?.labels).toEqual(TINY_LABELS);
  expect(sample!.endsWith(restored.image?.name ?? '-')).toBe(true); // the same sample (its name without the folder)
  expect(restored.explanation.last?.classLabel).toBeDefined();
  await page.getByTestId('forget-cache').click();
  expect(errors).toEqual([]);
});
