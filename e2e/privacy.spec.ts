/**
 * "Your model and your images never leave your machine", enforced: every request of a full session
 * (page and worker) goes to the app's own origin (or is a data:/blob: URL); the CSP forbids other
 * origins; the built page pulls in no external fonts, CDNs or analytics.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { APP_URL, waitForReady } from './helpers';
import { goodFiles } from './bad-inputs';
import { TINY_LABELS } from './tiny-model';

const APP_ORIGIN = new URL(APP_URL).origin;

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

type StudioWindow = {
  __studio: { getState(): { explanation: { last: { requestId: number; layerPath: string | null; classIndex: number } | null }; status: { notices: { message: string; code: string | null }[] } } };
  __lastRequest?: number | null;
};

function isOwnOrLocal(url: string): boolean {
  const parsed = new URL(url);
  if (parsed.protocol === 'data:' || parsed.protocol === 'blob:') return true;
  return parsed.origin === APP_ORIGIN;
}

/** Run `act`, then wait for the explanation that follows it. */
async function explainedAfter(page: Page, act: () => Promise<void>): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as StudioWindow;
    w.__lastRequest = w.__studio.getState().explanation.last?.requestId ?? null;
  });
  await act();
  await page.waitForFunction(
    () => {
      const w = window as unknown as StudioWindow;
      return (w.__studio.getState().explanation.last?.requestId ?? null) !== w.__lastRequest;
    },
    undefined,
    { timeout: 180_000 },
  );
  await waitForReady(page);
}

test('a full session sends nothing to another origin', async ({ page, context }) => {
  const requests: string[] = [];
  const seen = new Set<unknown>();
  const record = (request: { url(): string }) => {
    // The same request can reach both listeners; count it once.
    if (seen.has(request)) return;
    seen.add(request);
    requests.push(request.url());
  };
  context.on('request', record);
  page.on('request', record);

  await page.goto(APP_URL + '?backend=wasm');
  await waitForReady(page);

  // The CSP is in the page and forbids other origins.
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(csp).toContain("default-src 'self'");
  expect(csp).not.toMatch(/https?:|\*|wss?:/);

  // Drop a model and an image, explain another layer and another class.
  await explainedAfter(page, async () => {
    const files = (await goodFiles()).map((f) => ({ name: f.name, mimeType: 'application/octet-stream', buffer: Buffer.from(f.data) }));
    await page.setInputFiles('[data-testid=open-model]', files);
  });
  const defaultLayer = await page.locator('main').getAttribute('data-explained-layer');
  const other = page.locator(`[role=treeitem]:not([aria-disabled=true]):not([data-path="${defaultLayer}"])`).last();
  const otherPath = await other.getAttribute('data-path');
  expect(otherPath).toBeTruthy();
  await explainedAfter(page, () => other.click());
  await expect(page.locator('main')).toHaveAttribute('data-explained-layer', otherPath ?? '');
  await explainedAfter(page, async () => {
    await page.fill('#class-input', TINY_LABELS[2]);
    await page.press('#class-input', 'Enter');
  });
  await expect(page.locator('main')).toHaveAttribute('data-explained-class', '2');

  // Export PNG (a download from a blob: URL), copy image, share.
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export PNG' }).click();
  expect((await download).suggestedFilename()).toMatch(/^(gradcam|methods-\d+)-.*\.png$/);
  await page.getByRole('button', { name: 'Copy image' }).click();
  await expect(page.locator('[role=status]')).toContainText('Copied the image to the clipboard.');
  const shareButton = page.getByRole('button', { name: 'Share' });
  const canShare = await shareButton.isEnabled();
  console.log(`privacy: the Share button is ${canShare ? 'enabled' : 'disabled (no Web Share API for files here)'}`);
  if (canShare) {
    // Headless Chromium may offer the API without a share sheet: whatever happens, nothing is sent.
    await shareButton.click();
    await waitForReady(page).catch(() => undefined);
  }
  const exportTfjs = page.getByTestId('export-tfjs');
  if (await exportTfjs.isVisible()) {
    const zip = page.waitForEvent('download');
    await exportTfjs.click();
    await zip;
  }
  await page.waitForTimeout(500); // anything sent late still gets recorded

  // The recorder saw the worker's own fetches (the demo's model), so worker requests are covered.
  expect(requests.some((url) => /\/demo\/model\.json$/.test(url))).toBe(true);
  const foreign = requests.filter((url) => !isOwnOrLocal(url));
  console.log(`privacy: ${requests.length} requests recorded, ${foreign.length} to another origin:\n  ${requests.map((u) => u.slice(0, 100)).join('\n  ')}`);
  expect(foreign).toEqual([]);
});

test('the built page loads nothing from elsewhere (no external fonts, CDNs or analytics)', () => {
  const dist = resolve(process.cwd(), 'dist');
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'self'/);
  // Every src/href in the page is relative or same-origin.
  const links = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
  expect(links.length).toBeGreaterThan(0);
  expect(links.filter((l) => /^(?:[a-z]+:)?\/\//i.test(l))).toEqual([]);
  expect(html).not.toMatch(/https?:\/\//);
  // Stylesheets import no web fonts or remote images.
  const css = readdirSync(join(dist, 'assets')).filter((n) => n.endsWith('.css'));
  for (const name of css) {
    const text = readFileSync(join(dist, 'assets', name), 'utf8');
    expect(text, name).not.toMatch(/@import|url\(\s*['"]?(?:https?:)?\/\//i);
  }
});
