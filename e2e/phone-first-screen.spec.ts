/**
 * Issue 23.7: on a phone (390×844) the first screen shows the top class and its probability with the
 * maps; the full top-5 is one tap away.
 */
import { expect, test } from '@playwright/test';
import { collectConsoleErrors, waitForReady } from './helpers';

type Win = { __studio: { getState(): { explanation: { last: { predictions: { label: string; probability: number }[] } | null } } } };

test('phone: the top class and its probability are on the first screen; top-5 one tap away', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/');
  await waitForReady(page);
  const predictions = await page.evaluate(() => (window as unknown as Win).__studio.getState().explanation.last!.predictions);
  const top = [...predictions].sort((a, b) => b.probability - a.probability);
  const strip = page.getByTestId('compact-target');
  await expect(strip.locator('summary')).toContainText(top[0]!.label);
  await expect(strip.locator('summary')).toContainText(`${(top[0]!.probability * 100).toFixed(1)} %`);
  // On the first screen, without scrolling, and so is the first map.
  const box = (await strip.boundingBox())!;
  expect(box.y + box.height).toBeLessThanOrEqual(844);
  const map = (await page.locator('.panels .panel').nth(1).boundingBox())!;
  expect(map.y).toBeLessThan(844);
  await strip.locator('summary').click();
  await expect(strip.locator('li')).toHaveCount(Math.min(5, top.length));
  expect(errors).toEqual([]);
});
