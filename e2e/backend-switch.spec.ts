/**
 * Switching backend while an explanation is asked for: the app ends ready, on the new backend, with
 * the asked-for layer explained. (The demo explains faster than a new worker starts, so this does not
 * catch a call left hanging on the old worker; the client kills that worker so such calls retry.)
 */
import { expect, test } from '@playwright/test';
import { collectConsoleErrors, waitForReady } from './helpers';
import { appState, leafLayers } from './studio-flows';

type Actions = { selectLayer(path: string): Promise<unknown>; switchBackend(name: string): Promise<unknown> };

test('switching backend mid-explanation finishes the explanation on the new backend', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/?backend=wasm');
  await waitForReady(page);
  const state = await appState(page);
  test.skip(!state.model.summary || !state.explanation.last, 'the built-in demo is not built (public/demo/ missing)');
  const summary = state.model.summary!;
  const current = state.explanation.last!.layerPath;
  const other = leafLayers(summary.tree).find((n) => n.explainable && n.path !== current)!;
  await page.evaluate(async (path) => {
    const actions = (window as unknown as { __studio: { actions: Actions } }).__studio.actions;
    const explaining = actions.selectLayer(path);
    await actions.switchBackend('cpu');
    await explaining;
  }, other.path);
  await waitForReady(page, 120_000);
  const after = await appState(page);
  expect(after.backend.info?.name).toBe('cpu');
  expect(after.status.pending).toBe(0);
  expect(after.explanation.last?.layerPath).toBe(other.path);
  expect(errors).toEqual([]);
});
