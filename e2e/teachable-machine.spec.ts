/**
 * Issue 3: a real Teachable Machine export dropped on the window — as its three files, and as one
 * .zip — shows `model1` two levels deep with the default layer inside it revealed, the labels
 * Peace / Stop / Thumbs Up, and a nested layer chosen with the keyboard changes the heatmap.
 */
import { expect, test, type Page } from '@playwright/test';
import { zipSync } from 'fflate';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, FIXTURES_SKIP_REASON, collectConsoleErrors, fixturesAvailable, pageFile, waitForReady, type PageFile } from './helpers';
import { afterNewModel, appState, dropOnWindow, explanationId, gradcamPixels, meanAbsDiff, waitForNewExplanation } from './studio-flows';

const TM = join(FIXTURES, 'models/tm-gestures');
const TM_FILES = ['model.json', 'weights.bin', 'metadata.json'];
const PHOTO = 'skimage_astronaut.png';

function photo(): PageFile {
  return pageFile(PHOTO, readFileSync(join(FIXTURES, 'images', PHOTO)));
}

async function checkNestedModelFlow(page: Page): Promise<void> {
  const state = await appState(page);
  const summary = state.model.summary!;
  expect(summary.labels).toEqual(['Peace', 'Stop', 'Thumbs Up']);
  const defaultPath = summary.defaultLayerPath ?? '';

  // model1 sits two levels below the outer model (outer → sequential_1 → model1), expanded.
  const model1 = page.locator('[role=treeitem][data-path$="/model1"]');
  await expect(model1).toHaveCount(1);
  await expect(model1).toHaveAttribute('aria-level', '3');
  await expect(model1).toHaveAttribute('aria-expanded', 'true');
  const model1Path = (await model1.getAttribute('data-path')) ?? '';
  expect(model1Path.split('/')).toHaveLength(3);

  // The default layer is inside model1, explained, selected, and scrolled into view in the tree.
  expect(defaultPath.startsWith(`${model1Path}/`), `default layer ${defaultPath} inside ${model1Path}`).toBe(true);
  expect(state.explanation.last?.layerPath).toBe(defaultPath);
  const selected = page.locator('[role=treeitem][aria-selected=true]');
  await expect(selected).toHaveCount(1);
  await expect(selected).toHaveAttribute('data-path', defaultPath);
  await expect(selected).toBeVisible();
  await expect(selected).toBeInViewport();
  const inTreeBox = await selected.evaluate((row) => {
    const r = row.getBoundingClientRect();
    const t = (row.closest('[role=tree]') as HTMLElement).getBoundingClientRect();
    return r.top >= t.top - 1 && r.bottom <= t.bottom + 1;
  });
  expect(inTreeBox, 'the default layer row is inside the tree’s visible box').toBe(true);

  // The labels are on screen.
  for (const label of summary.labels) await expect(page.locator('.predictions')).toContainText(label);

  // Keyboard: Tab from the search box into the tree lands on the selected row; ArrowUp to the
  // previous explainable layer inside model1; Enter explains it.
  const before = await gradcamPixels(page);
  await page.getByRole('searchbox', { name: 'Search layers' }).focus();
  await page.keyboard.press('Tab');
  await expect(page.locator('[role=treeitem]:focus')).toHaveAttribute('data-path', defaultPath);
  let target = '';
  for (let i = 0; i < 8 && !target; i++) {
    await page.keyboard.press('ArrowUp');
    const focused = page.locator('[role=treeitem]:focus');
    const path = (await focused.getAttribute('data-path')) ?? '';
    if ((await focused.getAttribute('aria-disabled')) !== 'true' && path !== defaultPath && path.startsWith(`${model1Path}/`)) target = path;
  }
  expect(target, 'an explainable layer above the default one inside model1').not.toBe('');
  const previous = await explanationId(page);
  await page.keyboard.press('Enter');
  const after = await waitForNewExplanation(page, previous);
  expect(after.explanation.last?.layerPath).toBe(target);
  await expect(page.locator('main')).toHaveAttribute('data-explained-layer', target);
  await expect(page.locator(`[role=treeitem][data-path="${target}"]`)).toHaveAttribute('aria-selected', 'true');
  const changed = await gradcamPixels(page);
  expect([changed.width, changed.height]).toEqual([before.width, before.height]);
  expect(meanAbsDiff(before, changed), 'the Grad-CAM panel changed with the layer').toBeGreaterThan(1);
}

test.describe('a Teachable Machine model dropped on the window', () => {
  test.skip(!fixturesAvailable, FIXTURES_SKIP_REASON);

  test('model.json + weights.bin + metadata.json + a photo', async ({ page }) => {
    const errors = collectConsoleErrors(page);
    await page.goto('/');
    await waitForReady(page);
    const files = [...TM_FILES.map((name) => pageFile(name, readFileSync(join(TM, name)))), photo()];
    await afterNewModel(page, () => dropOnWindow(page, files));
    await checkNestedModelFlow(page);
    expect(errors).toEqual([]);
  });

  test('the same model as a single .zip (made in the test) + a photo', async ({ page }) => {
    const errors = collectConsoleErrors(page);
    await page.goto('/');
    await waitForReady(page);
    const zip = zipSync(Object.fromEntries(TM_FILES.map((name) => [name, new Uint8Array(readFileSync(join(TM, name)))])));
    await afterNewModel(page, () => dropOnWindow(page, [pageFile('tm-gestures.zip', zip), photo()]));
    await checkNestedModelFlow(page);
    expect(errors).toEqual([]);
  });
});
