/**
 * Issue 12: a model with two outputs (classes and a 4-number box) gets an output chooser instead of
 * only a warning: the first classification-shaped output is explained, and choosing the other one
 * explains it with its own classes.
 */
import { expect, test } from '@playwright/test';
import { waitForReady } from './helpers';
import { multiOutputModel } from './bad-inputs';
import { afterNewModel, appState, explanationId, waitForNewExplanation } from './studio-flows';

test('the output chooser explains another output of a two-output model', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await waitForReady(page);
  const files = await multiOutputModel();
  const state = await afterNewModel(page, () =>
    page.setInputFiles('[data-testid=open-model]', files.map((f) => ({ name: f.name, mimeType: 'application/octet-stream', buffer: Buffer.from(f.data) }))),
  );
  expect(state.explanation.last?.predictions.map((p) => p.label).sort()).toEqual(['bird', 'cat', 'dog']);
  const chooser = page.getByTestId('output-chooser');
  await expect(chooser).toBeVisible();
  await expect(chooser.locator('option')).toHaveCount(2);
  const previous = await explanationId(page);
  await chooser.selectOption('1');
  const after = await waitForNewExplanation(page, previous);
  expect((after.explanation.last as unknown as { output: number }).output).toBe(1);
  expect(after.explanation.last?.predictions).toHaveLength(4);
  await expect(page.getByTestId('head-note')).toContainText('logits');
  expect((await appState(page)).status.outcome).toBe('ready');
});
