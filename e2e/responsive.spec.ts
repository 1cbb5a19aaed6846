/**
 * Issue 16: the app at phone, tablet and desktop sizes — the README's screenshots (docs/screens/),
 * the explanation panels on the first screen (never below the tree), no text squeezed narrower than
 * a line of itself, the Share path reachable, and on a desktop the panels using at least half of the
 * window. Then Share's three routes: the Web Share API with the PNG file (a phone), Copy image
 * (Chromium on Linux has no Web Share), and a clear message when the browser has neither.
 */
import { expect, test, type Page } from '@playwright/test';
import { PNG } from 'pngjs';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { collectConsoleErrors, waitForReady } from './helpers';
import { appState } from './studio-flows';

const SIZES = [
  { name: 'phone', viewport: { width: 390, height: 844 }, narrow: true },
  { name: 'tablet', viewport: { width: 768, height: 1024 }, narrow: true },
  { name: 'desktop', viewport: { width: 1920, height: 1080 }, narrow: false },
] as const;

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

async function box(page: Page, selector: string): Promise<Box> {
  const b = await page.locator(selector).first().boundingBox();
  expect(b, `${selector} is laid out`).not.toBeNull();
  return b!;
}

/** The status message's width, and the width its text would take on one line in the same font. */
async function statusWidths(page: Page): Promise<{ width: number; oneLine: number }> {
  return page.locator('[data-testid="status"]').evaluate((el) => {
    const style = getComputedStyle(el);
    const probe = document.createElement('span');
    probe.textContent = el.textContent;
    probe.style.cssText = `position:absolute;visibility:hidden;white-space:nowrap;font:${style.font};letter-spacing:${style.letterSpacing}`;
    document.body.appendChild(probe);
    const oneLine = probe.getBoundingClientRect().width + parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    probe.remove();
    return { width: el.getBoundingClientRect().width, oneLine };
  });
}

for (const { name, viewport, narrow } of SIZES) {
  test(`${name} ${viewport.width}×${viewport.height}: panels on the first screen, nothing squeezed, Share reachable; screenshot`, async ({ page, context }) => {
    const errors = collectConsoleErrors(page);
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.setViewportSize(viewport);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto('/');
    await waitForReady(page);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.screenshot({ path: resolve(process.cwd(), `docs/screens/${name}.png`) });
    const shot = PNG.sync.read(readFileSync(resolve(process.cwd(), `docs/screens/${name}.png`)));
    expect([shot.width, shot.height]).toEqual([viewport.width, viewport.height]);

    // Every panel wholly on the first screen, without scrolling; on a narrow window the tree comes after them.
    const panels = page.locator('.panels .panel');
    await expect(panels).toHaveCount(4);
    for (let i = 0; i < 4; i++) await expect(panels.nth(i)).toBeInViewport({ ratio: 1 });
    const lastPanel = await box(page, '.panels .panel:last-child');
    const tree = await box(page, '.left-column');
    if (narrow) expect(tree.y).toBeGreaterThanOrEqual(lastPanel.y + lastPanel.height);
    else expect(tree.x + tree.width).toBeLessThanOrEqual((await box(page, '.panels')).x);

    // The status region holds a line of its text, or spans the column (no longer one letter a line).
    const status = await statusWidths(page);
    const column = await box(page, '.main-column');
    expect(status.width).toBeGreaterThanOrEqual(Math.min(status.oneLine, column.width - 40));
    expect(status.width).toBeGreaterThan(200);
    // No button's label overflows it.
    const overflowing = await page.locator('button:visible').evaluateAll((buttons) =>
      buttons.filter((b) => b.scrollWidth > b.clientWidth + 1).map((b) => b.textContent),
    );
    expect(overflowing).toEqual([]);

    // The header's actions: inline on a desktop, behind the Menu button on a narrow window.
    const openModel = page.getByRole('button', { name: 'Open model…' });
    if (narrow) {
      await expect(openModel).toBeHidden();
      await page.getByRole('button', { name: 'Menu' }).click();
      await expect(openModel).toBeVisible();
      await page.keyboard.press('Escape');
      await expect(openModel).toBeHidden();
    } else {
      await expect(openModel).toBeVisible();
    }

    // Share is on the first screen and does something: here (no Web Share) it copies the PNG.
    const shareButton = page.getByRole('group', { name: 'Share' }).getByRole('button', { name: 'Share' });
    await expect(shareButton).toBeInViewport({ ratio: 1 });
    await expect(shareButton).toHaveAttribute('data-share-route', 'copy');
    await shareButton.click();
    await expect(page.locator('[data-testid="status"]')).toContainText('copied to the clipboard instead');
    const copied = await page.evaluate(async () => {
      const items = await navigator.clipboard.read();
      const blob = await items[0]!.getType('image/png');
      return blob.size;
    });
    expect(copied).toBeGreaterThan(1000);

    if (!narrow) {
      // The panels use at least half of the window.
      const areas = await panels.evaluateAll((els) => els.map((e) => { const r = e.getBoundingClientRect(); return Math.max(0, Math.min(r.bottom, innerHeight) - Math.max(r.top, 0)) * r.width; }));
      const share = areas.reduce((a, b) => a + b, 0) / (viewport.width * viewport.height);
      console.log(`panels cover ${(share * 100).toFixed(1)} % of the ${viewport.width}×${viewport.height} window`);
      expect(share).toBeGreaterThanOrEqual(0.5);
    }
    expect(errors).toEqual([]);
  });
}

test.describe('Share on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });

  test('with the Web Share API for files, Share hands over the PNG and its caption', async ({ page }) => {
    // Chromium on Linux has no share sheet: this stands in for the phone's, and keeps what it was given.
    await page.addInitScript(() => {
      const w = window as unknown as { __shared: unknown[] };
      w.__shared = [];
      Object.defineProperty(navigator, 'canShare', { configurable: true, value: (data: { files?: File[] }) => Boolean(data.files?.every((f) => f.type === 'image/png')) });
      Object.defineProperty(navigator, 'share', {
        configurable: true,
        value: async (data: { files: File[]; title: string; text: string }) => {
          const file = data.files[0]!;
          const head = Array.from(new Uint8Array(await file.arrayBuffer()).slice(0, 8));
          w.__shared.push({ name: file.name, type: file.type, size: file.size, head, title: data.title, text: data.text });
        },
      });
    });
    await page.goto('/');
    await waitForReady(page);
    const share = page.getByRole('group', { name: 'Share' }).getByRole('button', { name: 'Share' });
    await expect(share).toHaveAttribute('data-share-route', 'share');
    await share.click();
    await expect(page.locator('[data-testid="status"]')).toContainText(/Shared (gradcam|methods-\d+)-/);
    const shared = (await page.evaluate(() => (window as unknown as { __shared: { name: string; type: string; size: number; head: number[]; text: string }[] }).__shared))[0]!;
    expect(shared.type).toBe('image/png');
    expect(shared.name).toMatch(/^(gradcam|methods-\d+)-.*\.png$/);
    expect(shared.head).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    expect(shared.size).toBeGreaterThan(1000);
    const state = await appState(page);
    expect(shared.text).toContain(`Layer: ${state.explanation.last!.layerPath}`);

    // From the large view: the view as shown, with its own caption.
    await page.locator('[data-testid="open-large-gradcam"]').tap();
    await expect(page.locator('[data-testid="large-canvas"][data-zoom]')).toBeVisible();
    await page.getByRole('dialog').getByRole('button', { name: 'Share' }).tap();
    await expect.poll(() => page.evaluate(() => (window as unknown as { __shared: unknown[] }).__shared.length)).toBe(2);
    const fromLarge = (await page.evaluate(() => (window as unknown as { __shared: { name: string; text: string }[] }).__shared))[1]!;
    expect(fromLarge.name).toMatch(/^gradcam-.*\.png$/); // the one panel shown names the file
    expect(fromLarge.text).toContain('Method: Grad-CAM');
  });

  test('with neither Web Share nor an image clipboard, Share says so and what to do instead', async ({ page }) => {
    await page.addInitScript(() => {
      Object.defineProperty(window, 'ClipboardItem', { configurable: true, value: undefined });
    });
    await page.goto('/');
    await waitForReady(page);
    const share = page.getByRole('group', { name: 'Share' }).getByRole('button', { name: 'Share' });
    await expect(share).toHaveAttribute('data-share-route', 'none');
    await expect(share).toBeEnabled();
    await share.click();
    const status = page.locator('[data-testid="status"]');
    await expect(status).toContainText('SHARE_FAILED');
    await expect(status).toContainText('neither share files nor copy images');
    await expect(status).toContainText('Export PNG');
  });
});
