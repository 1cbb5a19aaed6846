/**
 * Issue 23.1–2 in the browser: what is on screen is never recomputed (asserted through the worker's
 * count of computed methods, not a clock), and a slow panel shows its own progress and Cancel.
 */
import { expect, test, type Page } from '@playwright/test';
import { collectConsoleErrors, waitForReady, type PageClient } from './helpers';
import { explanationId } from './studio-flows';

type Last = { requestId: number; methods: string[]; computed: string[] } | null;
type Studio = { __studio: { getState(): { status: { pending: number }; explanation: { last: Last } }; client: PageClient } };

/** Tick or untick one method's box as a person would, and wait for the explanation it asked for. */
async function setBox(page: Page, method: string, on: boolean): Promise<NonNullable<Last>> {
  const before = await explanationId(page);
  const box = page.locator(`[data-testid=method-picker] input[type=checkbox][data-method="${method}"]`);
  if (on) await box.check();
  else await box.uncheck();
  await page.waitForFunction(
    ([prev, id, wanted]) => {
      const s = (window as unknown as Studio).__studio.getState();
      const last = s.explanation.last;
      return s.status.pending === 0 && !!last && last.requestId !== prev && last.methods.includes(id) === wanted;
    },
    [before, method, on] as const,
    { timeout: 180_000 },
  );
  return page.evaluate(() => (window as unknown as Studio).__studio.getState().explanation.last as NonNullable<Last>);
}

const computedSoFar = (page: Page) => page.evaluate(async () => (await (window as unknown as Studio).__studio.client.call('memory', [])).resultCache?.computed ?? -1);

test('ticking a method computes only it; unticking computes nothing', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForReady(page);
  await setBox(page, 'scorecam', true);
  await setBox(page, 'integrated-gradients', true);
  const before = await computedSoFar(page);
  const ticked = await setBox(page, 'layercam', true);
  expect(ticked.computed).toEqual(['layercam']);
  expect(await computedSoFar(page)).toBe(before + 1);
  const unticked = await setBox(page, 'guided-backprop', false);
  expect(unticked.computed).toEqual([]);
  expect(await computedSoFar(page)).toBe(before + 1);
  // Every ticked panel is drawn, none says "not computed".
  await expect(page.locator('[data-testid^=panel-state-]')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('a slow panel shows its own progress and Cancel; cancelled, it says so and the others stay', async ({ page }) => {
  // The worker holds a costly method at 0 % for a minute, so the test sees its panel without racing it.
  await page.goto('/?testExplainHoldMs=60000');
  await waitForReady(page);
  const box = page.locator('[data-testid=method-picker] input[type=checkbox][data-method="scorecam"]');
  await box.check();
  const state = page.getByTestId('panel-state-scorecam');
  await expect(state).toContainText('computing');
  await expect(state.locator('progress')).toHaveCount(1);
  await page.getByTestId('cancel-panel-scorecam').click();
  await expect(state).toHaveText(/cancelled/);
  // The panels drawn before stay drawn (no state line on them).
  await expect(page.getByTestId('panel-state-gradcam')).toHaveCount(0);
  await waitForReady(page);
});
