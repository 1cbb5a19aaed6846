/**
 * Issue 6: a Keras 2 HDF5 file (fer-mini-xception, grayscale 64×64, 46 layers) opens by drop in the
 * app with a labels.txt; Grad-CAM runs at its last SeparableConv2D; "Export TF.js" downloads a zip
 * that, dropped back in, predicts the same (max |diff| ≤ 1e-5 over every class).
 */
import { expect, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, FIXTURES_SKIP_REASON, collectConsoleErrors, fixturesAvailable, pageFile, panelStats, waitForReady } from './helpers';
import { afterNewModel, downloadBytes, dropOnWindow, explanationId, leafLayers, waitForNewExplanation, type AppState } from './studio-flows';

const FER = join(FIXTURES, 'models/fer-mini-xception-h5');
const LABELS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

/** Probabilities and logits by class index. */
function byClass(state: AppState): { probability: number[]; logit: number[] } {
  const predictions = [...state.explanation.last!.predictions].sort((a, b) => a.index - b.index);
  return { probability: predictions.map((p) => p.probability), logit: predictions.map((p) => p.logit) };
}

function maxAbsDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i])));
}

test.describe('Keras .h5 in the app', () => {
  test.skip(!fixturesAvailable, FIXTURES_SKIP_REASON);

  test('fer-mini-xception .hdf5 + labels.txt: 46 layers, grayscale 64×64, Grad-CAM at the last SeparableConv2D, TF.js export round trip', async ({ page }) => {
    const errors = collectConsoleErrors(page);
    await page.goto('/');
    await waitForReady(page);

    const h5Name = readdirSync(FER).find((n) => /\.(h5|hdf5)$/i.test(n));
    expect(h5Name, 'the fixture folder holds an .hdf5 file').toBeTruthy();
    const labelsTxt = LABELS.map((label, i) => `${i} ${label}`).join('\n') + '\n';
    const face = pageFile('skimage_astronaut.png', readFileSync(join(FIXTURES, 'images/skimage_astronaut.png')));
    const h5 = await afterNewModel(page, () =>
      dropOnWindow(page, [pageFile(h5Name!, readFileSync(join(FER, h5Name!))), pageFile('labels.txt', Buffer.from(labelsTxt)), face]),
    );

    const summary = h5.model.summary!;
    expect(summary.format).toMatch(/keras/i);
    // Keras counts 46 layers, the InputLayer among them; so does the tree (the input dimmed: it
    // cannot be explained).
    const leaves = leafLayers(summary.tree);
    expect(leaves).toHaveLength(46);
    expect(leaves.filter((l) => l.className === 'InputLayer')).toEqual([expect.objectContaining({ explainable: false })]);
    // The tree on screen shows the same layers (rows without children), under the model's row.
    await expect(page.locator('[role=treeitem]:not([aria-expanded])')).toHaveCount(46);
    // Grayscale 64×64 input, fed from an RGB photo.
    expect(summary.imageSize).toEqual([64, 64, 1]);
    expect(summary.inputShape).toEqual([null, 64, 64, 1]);
    expect(h5.image?.name).toBe('skimage_astronaut.png');
    expect(summary.labels).toEqual(LABELS);
    expect(summary.labelsFromFile).toBe(true);
    for (const label of LABELS.slice(0, 5)) expect(h5.explanation.last!.predictions.map((p) => p.label)).toContain(label);

    // Grad-CAM at the last SeparableConv2D, chosen in the tree.
    const separable = leaves.filter((l) => l.className === 'SeparableConv2D');
    expect(separable.length).toBeGreaterThan(1);
    const lastSeparable = separable[separable.length - 1].path;
    let previous = await explanationId(page);
    await page.locator(`[role=treeitem][data-path="${lastSeparable}"]`).click();
    const explained = await waitForNewExplanation(page, previous);
    expect(explained.explanation.last!.layerPath).toBe(lastSeparable);
    expect(explained.explanation.last!.methods).toContain('gradcam');
    await expect(page.locator('main')).toHaveAttribute('data-explained-layer', lastSeparable);
    const stats = await panelStats(page);
    expect(stats.gradcam!.changedFraction, 'the Grad-CAM overlay is drawn').toBeGreaterThan(0.05);
    const fromH5 = byClass(explained);

    // Export TF.js: one zip with model.json, weights.bin and metadata.json (the labels travel along).
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export TF.js' }).click()]);
    expect(download.suggestedFilename()).toMatch(/-tfjs\.zip$/);
    const zip = await downloadBytes(download);
    const files = unzipSync(new Uint8Array(zip));
    expect(Object.keys(files).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);
    const modelJson = JSON.parse(new TextDecoder().decode(files['model.json'])) as {
      format: string;
      modelTopology: { config?: { layers?: { class_name: string; config: { name: string } }[] }; model_config?: { config: { layers: { class_name: string; config: { name: string } }[] } } };
      weightsManifest: { paths: string[] }[];
    };
    expect(modelJson.format).toBe('layers-model');
    const configLayers = modelJson.modelTopology.model_config?.config.layers ?? modelJson.modelTopology.config?.layers ?? [];
    expect(configLayers, 'the 46 Keras layers of the .hdf5').toHaveLength(46);
    expect(configLayers.map((l) => l.config.name).sort()).toEqual(leaves.map((l) => l.name).sort());
    expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(JSON.parse(new TextDecoder().decode(files['metadata.json'])).labels).toEqual(LABELS);

    // Dropped back in (the zip as downloaded): the same layers, labels and predictions for the same image.
    const reloaded = await afterNewModel(page, () => dropOnWindow(page, [pageFile(download.suggestedFilename(), zip)]));
    const again = reloaded.model.summary!;
    expect(again.format).not.toBe(summary.format);
    expect(leafLayers(again.tree).map((l) => l.name)).toEqual(leaves.map((l) => l.name));
    expect(again.labels).toEqual(LABELS);
    expect(reloaded.image?.name).toBe('skimage_astronaut.png');
    const fromTfjs = byClass(reloaded);
    expect(maxAbsDiff(fromH5.probability, fromTfjs.probability), 'probabilities, every class').toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(fromH5.logit, fromTfjs.logit), 'logits, every class').toBeLessThanOrEqual(1e-5);
    previous = await explanationId(page);
    await page.locator(`[role=treeitem][data-path="${again.tree.path}/${separable[separable.length - 1].name}"], [role=treeitem][data-path="${lastSeparable}"]`).first().click();
    const camAgain = await waitForNewExplanation(page, previous);
    expect(camAgain.explanation.last!.layerPath?.endsWith(separable[separable.length - 1].name)).toBe(true);
    expect(errors).toEqual([]);
  });
});
