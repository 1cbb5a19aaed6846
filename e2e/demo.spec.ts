/**
 * Issue 3: the app opens on its built-in demo, already explained; on a two-shape sample the
 * Grad-CAM's hot region lies on the object of the explained class and moves to the other object
 * when the other class is picked (read from the drawn panel, compared with index.json's boxes).
 */
import { expect, test } from '@playwright/test';
import { collectConsoleErrors, panelStats, waitForReady } from './helpers';
import { appState, boxCentre, demoSamples, distance, explanationId, grow, imageBoxToPanel, inside, waitForNewExplanation } from './studio-flows';

test('opens on the demo with a heatmap; on a two-shape sample the hot region follows the chosen class', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForReady(page);

  await test.step('the demo is open and explained', async () => {
    const state = await appState(page);
    expect(state.model.summary, 'the demo model is loaded').not.toBeNull();
    expect(state.explanation.last?.methods).toContain('gradcam');
    const stats = await panelStats(page);
    expect(stats.gradcam!.changedFraction, 'the overlay visibly differs from the photo').toBeGreaterThan(0.1);
    expect(stats.gradcam!.distinctColours).toBeGreaterThan(30);
    await expect(page.locator('canvas[data-panel="gradcam"]')).toBeVisible();
  });

  const sample = demoSamples().find((s) => s.shapes.length === 2 && s.shapes[0].label !== s.shapes[1].label);
  expect(sample, 'index.json lists a sample with two different shapes').toBeTruthy();

  await test.step(`open the two-shape sample ${sample!.file} from the demo menu`, async () => {
    const before = await explanationId(page);
    await page.getByLabel('Open a demo sample').selectOption(sample!.file);
    const state = await waitForNewExplanation(page, before);
    expect(state.image?.name).toContain(sample!.file.replace(/^.*\//, ''));
    expect([state.image?.width, state.image?.height]).toEqual([sample!.width, sample!.height]);
  });

  const state = await appState(page);
  const summary = state.model.summary!;
  // The objects' boxes where the panel shows them (the panel is the region the model saw).
  const shapes = sample!.shapes.map((shape) => ({
    label: shape.label,
    box: imageBoxToPanel(shape.box, sample!, [summary.imageSize[0], summary.imageSize[1]], state.model.summary!.preprocess.resize),
  }));
  const cam = state.explanation.last!.cam!;
  // One Grad-CAM cell, as a fraction of the picture: the map cannot be finer than that.
  const cell = Math.max(1 / cam.width, 1 / cam.height);

  const centres: Record<string, { x: number; y: number }> = {};
  for (const [i, shape] of shapes.entries()) {
    const other = shapes[1 - i];
    await test.step(`explain "${shape.label}": the hot region lies on its object, not on the ${other.label}`, async () => {
      const classIndex = summary.labels.indexOf(shape.label);
      expect(classIndex, `the demo has a class "${shape.label}"`).toBeGreaterThanOrEqual(0);
      const before = await explanationId(page);
      await page.locator('.predictions').getByRole('button', { name: new RegExp(`^${shape.label}\\b`) }).click();
      const now = await waitForNewExplanation(page, before);
      expect(now.explanation.last!.classIndex).toBe(classIndex);
      await expect(page.locator('main')).toHaveAttribute('data-explained-class', String(classIndex));

      const stats = await panelStats(page);
      expect(stats.gradcam!.width / stats.gradcam!.height).toBeCloseTo(summary.preprocess.resize === 'stretch' ? sample!.width / sample!.height : summary.imageSize[1] / summary.imageSize[0], 1);
      const hot = stats.gradcam!.hotCentre;
      expect(hot, 'the Grad-CAM panel has a hot (red) region').not.toBeNull();
      centres[shape.label] = hot!;
      expect(inside(hot!, grow(shape.box, cell)), `hot centre ${JSON.stringify(hot)} on the ${shape.label} (box ${JSON.stringify(shape.box)})`).toBe(true);
      expect(distance(hot!, boxCentre(shape.box))).toBeLessThan(distance(hot!, boxCentre(other.box)));
    });
  }

  // The hot region moved by a good part of the distance between the two objects.
  const [a, b] = shapes;
  expect(distance(centres[a.label], centres[b.label])).toBeGreaterThan(0.5 * distance(boxCentre(a.box), boxCentre(b.box)));
  expect(errors).toEqual([]);
});
