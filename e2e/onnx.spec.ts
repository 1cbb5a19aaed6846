/**
 * Issue 24 in the browser: a PyTorch export (test-fixtures/onnx/resnet18-op17.onnx, made by
 * scripts/onnx-fixtures.py) dropped with a photo: the module tree with PyTorch's shapes, the default
 * module (layer4 › layer4.1) explained, a click on layer3 explains it, the methods grid, Export PNG.
 */
import { expect, test } from '@playwright/test';
import { PNG } from 'pngjs';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { collectConsoleErrors, pageFile, waitForReady } from './helpers';
import { afterNewModel, downloadBytes, dropOnWindow, explanationId, waitForNewExplanation } from './studio-flows';

const MODEL = resolve(process.cwd(), 'test-fixtures/onnx/resnet18-op17.onnx');
const VIT = resolve(process.cwd(), 'test-fixtures/onnx/vit-op17.onnx');

/** A photo-sized test image (no fixture needed): smooth colour ramps with a bright disc. */
function photo(): Uint8Array {
  const png = new PNG({ width: 200, height: 150 });
  for (let y = 0; y < 150; y++) {
    for (let x = 0; x < 200; x++) {
      const i = (y * 200 + x) * 4;
      const disc = (x - 120) ** 2 + (y - 60) ** 2 < 900;
      png.data[i] = disc ? 250 : x;
      png.data[i + 1] = disc ? 220 : y;
      png.data[i + 2] = 90;
      png.data[i + 3] = 255;
    }
  }
  return new Uint8Array(PNG.sync.write(png));
}

test.describe('ONNX (PyTorch exports)', () => {
  test.skip(!existsSync(MODEL), `${MODEL} is absent (scripts/onnx-fixtures.py makes it)`);

  test('resnet18.onnx + a photo: module tree, layer4.1 explained, layer3 on click, methods grid, Export PNG', async ({ page }) => {
    const errors = collectConsoleErrors(page);
    await page.goto('/?backend=wasm');
    await waitForReady(page);
    const files = [
      pageFile('resnet18-op17.onnx', new Uint8Array(readFileSync(MODEL))),
      pageFile('labels.txt', new TextEncoder().encode(Array.from({ length: 10 }, (_, i) => `class ${i}`).join('\n'))),
      pageFile('photo.png', photo()),
    ];
    const state = await afterNewModel(page, () => dropOnWindow(page, files));
    const summary = state.model.summary!;
    expect(summary.format).toBe('onnx');
    expect(summary.defaultLayerPath).toBe('resnet18-op17/layer4/layer4.1');

    // The tree by module path, with ONNX op types and NCHW shapes as PyTorch prints them.
    const conv = page.locator('[role=treeitem][data-path="resnet18-op17/conv1"]');
    await expect(conv).toContainText('Conv');
    await expect(conv).toContainText('1×64×56×56');
    await expect(page.locator('[role=treeitem][data-path="resnet18-op17/layer1"]')).toContainText('Module');
    await expect(page.locator('[role=treeitem][data-path="resnet18-op17/layer1"]')).toContainText('1×8×28×28');
    await expect(page.locator('[role=treeitem][data-path="resnet18-op17/input"]')).toContainText('1×3×112×112');
    const selected = page.locator('[role=treeitem][aria-selected=true]');
    await expect(selected).toHaveAttribute('data-path', 'resnet18-op17/layer4/layer4.1');
    await expect(selected).toContainText('1×64×4×4');
    expect(state.explanation.last?.layerPath).toBe('resnet18-op17/layer4/layer4.1');
    await expect(page.locator('.predictions')).toContainText('class');

    // layer3 (the module) explains on a click.
    let previous = await explanationId(page);
    await page.locator('[role=treeitem][data-path="resnet18-op17/layer3"] >> nth=0').click();
    const after = await waitForNewExplanation(page, previous);
    expect(after.explanation.last?.layerPath).toBe('resnet18-op17/layer3');

    // The methods grid: two more methods, three panels.
    previous = await explanationId(page);
    for (const id of ['scorecam', 'integrated-gradients']) {
      const box = page.locator(`[data-testid=method-picker] input[type=checkbox][data-method="${id}"]`);
      if (!(await box.isChecked())) await box.check();
    }
    await page.waitForFunction(
      (prev) => {
        type Last = { requestId: number; methods: string[] } | null;
        const s = (window as unknown as { __studio: { getState(): { status: { pending: number }; explanation: { last: Last } } } }).__studio.getState();
        const last = s.explanation.last;
        return s.status.pending === 0 && !!last && last.requestId !== prev && last.methods.includes('scorecam') && last.methods.includes('integrated-gradients');
      },
      previous,
      { timeout: 180_000 },
    );
    const titles = (await page.locator('.panels .panel-title').allTextContents()).map((t) => t.trim());
    expect(titles).toEqual(expect.arrayContaining(['Grad-CAM', 'Score-CAM', 'Integrated Gradients']));

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export PNG' }).click()]);
    const png = PNG.sync.read(await downloadBytes(download));
    expect(png.width).toBeGreaterThan(100);
    await expect(page.getByTestId('export-tfjs')).toHaveCount(0);
    expect(errors).toEqual([]);
  });

  test('a ViT export + a photo: token grids in the tree, the last block\'s ln_1 explained', async ({ page }) => {
    test.skip(!existsSync(VIT), `${VIT} is absent`);
    const errors = collectConsoleErrors(page);
    await page.goto('/?backend=wasm');
    await waitForReady(page);
    const state = await afterNewModel(page, () => dropOnWindow(page, [pageFile('vit-op17.onnx', new Uint8Array(readFileSync(VIT))), pageFile('photo.png', photo())]));
    const path = 'vit-op17/encoder/layers/encoder_layer_2/ln_1';
    expect(state.model.summary!.defaultLayerPath).toBe(path);
    const selected = page.locator('[role=treeitem][aria-selected=true]');
    await expect(selected).toHaveAttribute('data-path', path);
    expect(state.explanation.last?.layerPath).toBe(path);
    // The grid node inside ln_1 says what it is.
    await selected.press('ArrowRight');
    await expect(page.locator(`[role=treeitem][data-path="${path}/tokens"]`)).toContainText('Tokens 8×8 + 1');
    expect(errors).toEqual([]);
  });
});
