/**
 * Issue 12: TF.js graph models dropped on the window as a user would — the emotion classifier
 * (`emotion.json` + `emotion.bin`, named freely) with the astronaut photo: the scope tree, the default
 * node, the explanation and the export; the single-sigmoid antispoof model: "real" and "not real".
 */
import { expect, test } from '@playwright/test';
import { PNG } from 'pngjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, FIXTURES_SKIP_REASON, collectConsoleErrors, fixturesAvailable, pageFile, waitForReady, type PageFile } from './helpers';
import { afterNewModel, appState, downloadBytes, dropOnWindow, explanationId, waitForNewExplanation } from './studio-flows';

const PHOTO = 'skimage_astronaut.png';

function modelFiles(dir: string, names: string[], labels: string): PageFile[] {
  return [
    ...names.map((name) => pageFile(name, readFileSync(join(FIXTURES, 'models', dir, name)))),
    pageFile('labels.txt', new TextEncoder().encode(labels)),
    pageFile(PHOTO, readFileSync(join(FIXTURES, 'images', PHOTO))),
  ];
}

test.describe('TF.js graph models', () => {
  test.skip(!fixturesAvailable, FIXTURES_SKIP_REASON);

  test('emotion.json + emotion.bin + the astronaut: scope tree, default 8×8 node explained, export', async ({ page }) => {
    const errors = collectConsoleErrors(page);
    await page.goto('/?backend=wasm');
    await waitForReady(page);
    const files = modelFiles('graph-human-emotion', ['emotion.json', 'emotion.bin'], 'angry\ndisgust\nfear\nhappy\nsad\nsurprise\nneutral\n');
    const state = await afterNewModel(page, () => dropOnWindow(page, files));
    const summary = state.model.summary!;
    expect(summary.format).toBe('tfjs-graph');
    expect(summary.defaultLayerPath).toBe('emotion/model_1/conv2d_5');

    // model_1's blocks in the tree, each with its op.
    await expect(page.locator('[role=treeitem][data-path="emotion/model_1"]')).toHaveCount(1);
    const block = page.locator('[role=treeitem][data-path="emotion/model_1/block1_conv1_act"]');
    await expect(block).toContainText('_FusedConv2D');
    await expect(block).toContainText('31×31×32');
    const selected = page.locator('[role=treeitem][aria-selected=true]');
    await expect(selected).toHaveAttribute('data-path', 'emotion/model_1/conv2d_5');
    await expect(selected).toContainText('8×8×7');
    expect(state.explanation.last?.layerPath).toBe('emotion/model_1/conv2d_5');
    for (const label of ['happy', 'neutral']) await expect(page.locator('.predictions')).toContainText(label);

    // Another node explains too.
    const previous = await explanationId(page);
    await block.click();
    const after = await waitForNewExplanation(page, previous);
    expect(after.explanation.last?.layerPath).toBe('emotion/model_1/block1_conv1_act');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export PNG' }).click()]);
    const png = PNG.sync.read(await downloadBytes(download));
    expect(png.width).toBeGreaterThan(100);
    await expect(page.getByTestId('export-tfjs')).toHaveCount(0); // a graph model is TF.js files already
    expect(errors).toEqual([]);
  });

  test('antispoof (one sigmoid unit): "real" and "not real" with p and 1 − p, both explained', async ({ page }) => {
    const errors = collectConsoleErrors(page);
    await page.goto('/?backend=wasm');
    await waitForReady(page);
    const files = modelFiles('graph-human-antispoof', ['antispoof.json', 'antispoof.bin'], 'real\n');
    const state = await afterNewModel(page, () => dropOnWindow(page, files));
    expect(state.model.summary!.labels).toEqual(['real', 'not real']);
    await expect(page.getByTestId('head-note')).toContainText('“not real” its negation');
    const predictions = state.explanation.last!.predictions;
    expect(predictions.map((p) => p.label).sort()).toEqual(['not real', 'real']);
    expect(predictions[0]!.probability + predictions[1]!.probability).toBeCloseTo(1, 5);

    for (const label of ['real', 'not real']) {
      const index = label === 'real' ? 0 : 1;
      const previous = await explanationId(page);
      const current = (await appState(page)).explanation.last!;
      if (current.classIndex !== index) {
        await page.locator(`.predictions button[data-class-index="${index}"]`).click();
        await waitForNewExplanation(page, previous);
      }
      const last = (await appState(page)).explanation.last!;
      expect(last.classLabel).toBe(label);
      await expect(page.getByTestId('explained-class')).toContainText(label);
    }
    expect(errors).toEqual([]);
  });
});
