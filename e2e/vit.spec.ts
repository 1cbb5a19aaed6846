/**
 * Issue 25 in the browser: a small ViT exported from PyTorch (test-fixtures/onnx/vit-op17.onnx, made
 * by scripts/onnx-fixtures.py: torchvision's VisionTransformer, 3 blocks, 64×64 input, 8×8 patches)
 * dropped with a photo: the tree shows the encoder blocks and each block's token grid ("Tokens 8×8 + 1"),
 * the last block's ln_1 is the default and is explained; the methods grid with attention rollout beside
 * Grad-CAM gives two maps; the gallery runs the ViT over several images to N / N. Skipped when the
 * fixture is absent.
 */
import { expect, test } from '@playwright/test';
import { PNG } from 'pngjs';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { collectConsoleErrors, pageFile, panelStats, waitForReady } from './helpers';
import { afterNewModel, dropOnWindow, explanationId } from './studio-flows';

const VIT = resolve(process.cwd(), 'test-fixtures/onnx/vit-op17.onnx');
const ROOT = 'vit-op17';
const BLOCK = `${ROOT}/encoder/layers/encoder_layer_2`;
const DEFAULT = `${BLOCK}/ln_1`;

/** A photo-sized image: colour ramps with a bright disc at (cx, cy). */
function photo(cx = 120, cy = 60): Uint8Array {
  const png = new PNG({ width: 200, height: 150 });
  for (let y = 0; y < 150; y++) {
    for (let x = 0; x < 200; x++) {
      const i = (y * 200 + x) * 4;
      const disc = (x - cx) ** 2 + (y - cy) ** 2 < 900;
      png.data[i] = disc ? 250 : x;
      png.data[i + 1] = disc ? 220 : y;
      png.data[i + 2] = 90;
      png.data[i + 3] = 255;
    }
  }
  return new Uint8Array(PNG.sync.write(png));
}

type Last = { requestId: number; methods: string[]; layerPath: string | null } | null;
type StudioWindow = {
  __studio: {
    getState(): { status: { pending: number; outcome: string }; explanation: { last: Last } };
    actions: { dropFiles(f: { file: File; path: string }[]): Promise<void> };
  };
};

test.describe('Vision transformers (ONNX)', () => {
  test.skip(!existsSync(VIT), `${VIT} is absent (scripts/onnx-fixtures.py makes it)`);

  test('a ViT + a photo: encoder blocks and token grids in the tree, ln_1 explained, rollout beside Grad-CAM, the gallery', async ({ page }) => {
    test.setTimeout(300_000);
    const errors = collectConsoleErrors(page);
    await page.goto('/?backend=wasm');
    await waitForReady(page);
    const state = await afterNewModel(page, () => dropOnWindow(page, [pageFile('vit-op17.onnx', new Uint8Array(readFileSync(VIT))), pageFile('photo.png', photo())]));
    expect(state.status.outcome).toBe('ready');
    expect(state.model.summary!.format).toBe('onnx');
    expect(state.model.summary!.defaultLayerPath).toBe(DEFAULT);
    expect(state.explanation.last?.layerPath).toBe(DEFAULT);
    expect(state.explanation.last?.methods).toContain('gradcam');

    // The tree: the encoder's three blocks, each a module; the default (last block's ln_1) selected.
    for (const k of [0, 1, 2]) {
      await expect(page.locator(`[role=treeitem][data-path="${ROOT}/encoder/layers/encoder_layer_${k}"]`)).toContainText('Module');
    }
    const selected = page.locator('[role=treeitem][aria-selected=true]');
    await expect(selected).toHaveAttribute('data-path', DEFAULT);
    await selected.press('ArrowRight');
    const tokens = page.locator(`[role=treeitem][data-path="${DEFAULT}/tokens"]`);
    await expect(tokens).toContainText('Tokens 8×8 + 1');
    // The grid node shows the map's shape as PyTorch would print the reshaped tokens' (1×8×8×C).
    await expect(tokens).toContainText('1×8×8×');
    // The first block's ln_1 is a token grid too (search reveals it inside the collapsed block).
    const search = page.getByRole('searchbox');
    if ((await search.count()) > 0) {
      await search.first().fill('encoder_layer_0');
      await expect(page.locator(`[role=treeitem][data-path="${ROOT}/encoder/layers/encoder_layer_0/ln_1"]`)).toBeVisible();
      await search.first().fill('');
    }
    const gradcam = await panelStats(page);
    expect(gradcam.gradcam?.distinctColours ?? 0, 'the Grad-CAM panel is a map, not a flat colour').toBeGreaterThan(8);

    // The methods grid: attention rollout beside Grad-CAM; both give maps.
    const previous = await explanationId(page);
    const box = page.locator('[data-testid=method-picker] input[type=checkbox][data-method="attention-rollout"]');
    await expect(box).toBeEnabled();
    await box.check();
    await page.waitForFunction(
      (prev) => {
        const s = (window as unknown as StudioWindow).__studio.getState();
        const last = s.explanation.last;
        return s.status.pending === 0 && !!last && last.requestId !== prev && last.methods.includes('attention-rollout') && last.methods.includes('gradcam');
      },
      previous,
      { timeout: 180_000 },
    );
    await waitForReady(page);
    const titles = (await page.locator('.panels .panel-title').allTextContents()).map((t) => t.trim());
    expect(titles).toEqual(expect.arrayContaining(['Grad-CAM', 'Attention rollout']));
    const stats = await panelStats(page);
    const rollout = (stats as Record<string, { distinctColours: number; changedFraction: number } | undefined>)['attention-rollout'];
    expect(rollout, `panels: ${Object.keys(stats).join(', ')}`).toBeDefined();
    expect(rollout!.distinctColours, 'the rollout panel is a map').toBeGreaterThan(8);
    expect(rollout!.changedFraction).toBeGreaterThan(0.05);
    await page.locator('.panels').screenshot({ path: 'test-results/vit-methods.png' });

    // The gallery: six images (discs in different places) with the ViT loaded, to 6 / 6.
    const images = [
      [40, 40], [160, 40], [100, 75], [40, 110], [160, 110], [100, 30],
    ].map(([x, y], i) => pageFile(`disc-${i}.png`, photo(x, y)));
    await page.evaluate(async (files) => {
      const w = window as unknown as StudioWindow;
      const list = files.map((f) => ({ file: new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name), path: `discs/${f.name}` }));
      await w.__studio.actions.dropFiles(list);
    }, images);
    await expect(page.getByTestId('gallery')).toBeVisible();
    const progress = page.getByTestId('gallery-progress');
    await expect(progress).toHaveAttribute('data-outcome', 'done', { timeout: 180_000 });
    await expect(progress).toContainText(`${images.length} / ${images.length}`);
    await expect(page.getByTestId('gallery-failed')).toHaveCount(0);
    await expect(page.locator('[data-testid="gallery-grid"] .gallery-cell')).toHaveCount(images.length);
    await page.screenshot({ path: 'test-results/vit-gallery.png', fullPage: true });
    expect(errors).toEqual([]);
  });
});
