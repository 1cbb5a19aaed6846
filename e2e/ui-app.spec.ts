/**
 * The page as a person uses it: the layer tree (ARIA, keyboard, search), the target panel, and bad
 * drops that must leave the previous model, image and explanation on screen.
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_URL, FIXTURES, FIXTURES_SKIP_REASON, collectConsoleErrors, fixturesAvailable, panelStats, studioState, tmUploads, waitForReady, type PageClient } from './helpers';

interface PageState {
  model: { summary: { name: string; labels: string[]; defaultLayerPath: string | null } | null };
  explanation: { last: { layerPath: string | null; classIndex: number } | null };
}

const TM = join(FIXTURES, 'models/tm-gestures');
const PHOTO = join(FIXTURES, 'images/skimage_chelsea_cat.png');


type StudioWindow = { __studio: { getState(): PageState }; __previousSummary?: unknown };

async function openTmGestures(page: Page): Promise<PageState> {
  await page.evaluate(() => {
    const w = window as unknown as StudioWindow;
    w.__previousSummary = w.__studio.getState().model.summary;
  });
  await page.setInputFiles('[data-testid=open-model]', [...tmUploads(), { name: 'cat.png', mimeType: 'image/png', buffer: readFileSync(PHOTO) }]);
  // A new summary object means the new model is in the store; then wait for its explanation.
  await page.waitForFunction(
    () => {
      const w = window as unknown as StudioWindow;
      return w.__studio.getState().model.summary !== w.__previousSummary;
    },
    undefined,
    { timeout: 180_000 },
  );
  await waitForReady(page);
  return studioState<PageState>(page);
}

/** A digest of the Grad-CAM panel's pixels (read through the worker: the canvas is transferred). */
async function gradcamDigest(page: Page): Promise<number> {
  return page.evaluate(async () => {
    type Inspectable = PageClient;
    const panels = await (window as unknown as { __studio: { client: Inspectable } }).__studio.client.call('inspectPanels', []);
    let digest = 0;
    panels.gradcam.data.forEach((v, i) => (digest = (digest * 31 + v * (i % 251)) % 1_000_000_007));
    return digest;
  });
}

const explainedLayer = (page: Page) => page.locator('main').getAttribute('data-explained-layer');

test.describe('layer tree and target', () => {
  test.skip(!fixturesAvailable, FIXTURES_SKIP_REASON);

  test('a nested Teachable Machine model: default layer revealed, keyboard picks another, labels shown', async ({ page }) => {
    const errors = collectConsoleErrors(page);
    await page.goto(APP_URL + '?backend=wasm');
    await waitForReady(page);
    const state = await openTmGestures(page);
    const defaultPath = state.model.summary?.defaultLayerPath ?? '';
    expect(defaultPath).toMatch(/model1\//);
    expect(await explainedLayer(page)).toBe(defaultPath);

    // model1 sits two levels below the outer model, open, with the default layer inside it selected and visible.
    const model1 = page.locator('[role=treeitem][data-path$="/model1"]');
    await expect(model1).toHaveAttribute('aria-level', '3');
    await expect(model1).toHaveAttribute('aria-expanded', 'true');
    const selected = page.locator('[role=treeitem][aria-selected=true]');
    await expect(selected).toHaveAttribute('data-path', defaultPath);
    await expect(selected).toHaveAttribute('tabindex', '0');
    expect(
      await selected.evaluate((el) => {
        const r = el.getBoundingClientRect();
        const t = el.closest('[role=tree]')!.getBoundingClientRect();
        return r.top >= t.top - 1 && r.bottom <= t.bottom + 1;
      }),
    ).toBe(true);

    // Labels from metadata.json in the target panel.
    await expect(page.locator('.predictions')).toContainText('Peace');
    await expect(page.locator('.predictions')).toContainText('Stop');
    await expect(page.locator('.predictions')).toContainText('Thumbs Up');

    // Up to the previous explainable layer with the keyboard, Enter explains it and moves the map.
    const before = await gradcamDigest(page);
    expect((await panelStats(page)).gradcam?.changedFraction ?? 0).toBeGreaterThan(0.05);
    await selected.focus();
    let target = '';
    for (let i = 0; i < 6 && !target; i++) {
      await page.keyboard.press('ArrowUp');
      const focused = page.locator('[role=treeitem]:focus');
      if ((await focused.getAttribute('aria-disabled')) !== 'true') target = (await focused.getAttribute('data-path')) ?? '';
    }
    expect(target).not.toBe('');
    expect(target).not.toBe(defaultPath);
    await page.keyboard.press('Enter');
    await expect(page.locator('main')).toHaveAttribute('data-explained-layer', target, { timeout: 180_000 });
    await waitForReady(page);
    expect(await gradcamDigest(page)).not.toBe(before);

    // Search reveals a layer deep inside model1 after collapsing it.
    await page.locator('[role=treeitem][data-path$="/model1"]').focus();
    await page.keyboard.press('ArrowLeft');
    await expect(model1).toHaveAttribute('aria-expanded', 'false');
    await page.fill('input[type=search]', 'block_3_project');
    await expect(page.locator('[role=treeitem][data-path$="/model1/block_3_project"]')).toBeVisible();

    // A class by label; an unknown one gives CLASS_NOT_FOUND and keeps the explanation.
    await page.fill('#class-input', 'stop');
    await page.press('#class-input', 'Enter');
    await expect(page.locator('main')).toHaveAttribute('data-explained-class', '1', { timeout: 180_000 });
    await page.fill('#class-input', 'Rock');
    await page.press('#class-input', 'Enter');
    await expect(page.locator('[role=status]')).toContainText('CLASS_NOT_FOUND');
    await expect(page.locator('main')).toHaveAttribute('data-explained-class', '1');
    expect(errors).toEqual([]);
  });

  test('a bad drop shows its message and keeps model, image and explanation; the next good drop works', async ({ page }) => {
    await page.goto(APP_URL + '?backend=wasm');
    await waitForReady(page);
    const first = await openTmGestures(page);
    const layer = await explainedLayer(page);

    // model.json without its weights file.
    await page.setInputFiles('[data-testid=open-model]', [{ name: 'model.json', mimeType: 'application/json', buffer: readFileSync(join(TM, 'model.json')) }]);
    await expect(page.locator('main')).toHaveAttribute('data-state', 'error', { timeout: 120_000 });
    await expect(page.locator('[role=status]')).toContainText('MISSING_SHARD');
    await expect(page.locator('[role=status]')).toContainText('weights.bin');
    const kept = await studioState<PageState>(page);
    expect(kept.model.summary?.name).toBe(first.model.summary?.name);
    expect(await explainedLayer(page)).toBe(layer);
    await expect(page.locator('[role=treeitem][aria-selected=true]')).toHaveAttribute('data-path', layer ?? '');

    // A file that is neither: named in the message, nothing lost.
    await page.setInputFiles('[data-testid=open-model]', [{ name: 'notes.txt.bin', mimeType: 'application/octet-stream', buffer: Buffer.from('hello') }]);
    await expect(page.locator('main')).toHaveAttribute('data-state', 'error', { timeout: 120_000 });
    expect(await explainedLayer(page)).toBe(layer);

    await openTmGestures(page);
    await expect(page.locator('main')).toHaveAttribute('data-state', 'ready');
  });
});
