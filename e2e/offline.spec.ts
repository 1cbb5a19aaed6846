/**
 * Issue 15 (offline and installable): after one visit the service worker has the app shell, the WASM
 * binaries and the demo, so a reload with the network off opens the app and explains the demo; the
 * web app manifest is valid; and on a plain static server that sends no isolation headers, the
 * service worker's headers make the page cross-origin isolated.
 */
import { expect, test, type Page } from '@playwright/test';
import type { AddressInfo } from 'node:net';
import { staticServer, waitForReady } from './helpers';
import { appState } from './studio-flows';

// This spec is about the service worker: allow it (the config blocks it elsewhere).
test.use({ serviceWorkers: 'allow' });

async function controlledByServiceWorker(page: Page): Promise<void> {
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
}

/** `evaluate` that survives the page reloading itself in between. */
async function isolated(page: Page): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    try {
      if (await page.evaluate(() => crossOriginIsolated)) return true;
    } catch {
      // the page is reloading
    }
    await page.waitForTimeout(500);
  }
  return false;
}

test('after one visit, the app opens and explains the demo with the network off', async ({ page, context }) => {
  await page.goto('/?backend=wasm');
  await waitForReady(page);
  expect(await page.evaluate(() => crossOriginIsolated), 'vite preview sends the isolation headers').toBe(true);
  await controlledByServiceWorker(page);

  await context.setOffline(true);
  await page.reload();
  await waitForReady(page);
  const state = await appState(page);
  expect(state.explanation.last?.layerPath, 'the demo is explained offline').toBeTruthy();
  expect(state.status.outcome).toBe('ready');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await context.setOffline(false);
});

test('the web app manifest is valid and its icons load', async ({ page }) => {
  await page.goto('/');
  const href = await page.locator('link[rel=manifest]').getAttribute('href');
  expect(href).toBe('/manifest.webmanifest');
  const manifest = await page.evaluate(async (url) => (await fetch(url)).json() as Promise<Record<string, unknown>>, href!);
  expect(manifest).toMatchObject({ name: 'Grad-CAM Studio', short_name: expect.any(String), start_url: '/', display: 'standalone' });
  const icons = manifest.icons as { src: string; sizes: string; type: string }[];
  expect(icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
  for (const icon of icons) {
    const size = await page.evaluate(async (src) => {
      const bitmap = await createImageBitmap(await (await fetch(src)).blob());
      return [bitmap.width, bitmap.height];
    }, icon.src);
    expect(`${size[0]}x${size[1]}`).toBe(icon.sizes);
  }
});

test('on a static server without isolation headers, the service worker makes the page isolated', async ({ page }) => {
  const server = await staticServer();
  try {
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/?backend=wasm`);
    await waitForReady(page);
    // The first load has no headers; the service worker takes control and the page reloads once.
    expect(await isolated(page)).toBe(true);
    // …and it was the service worker's doing: the page reloaded itself to get the headers.
    expect(await page.evaluate(() => sessionStorage.getItem('isolation-reload'))).toBe('1');
    await waitForReady(page);
    const state = await appState(page);
    expect(state.explanation.last?.layerPath).toBeTruthy();
    // …so the WASM backend runs threaded here too: one thread per core, capped at tfjs' pool of 8.
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(state.backend.info?.threads).toBe(Math.min(Math.max(cores, 1), 8));
  } finally {
    server.close();
  }
});
