/**
 * Issue 15 (all the cores): on a cross-origin-isolated page the WASM backend runs tfjs' threaded
 * build with one thread per core (the status line says how many); `?threads=1` and a page that is
 * not isolated run single-threaded and say why; the maps do not depend on the thread count.
 */
import { expect, test, type Page } from '@playwright/test';
import type { AddressInfo } from 'node:net';
import { collectConsoleErrors, staticServer, waitForReady, type PageClient } from './helpers';
import { appState } from './studio-flows';

interface Explained {
  classIndex: number;
  cam: number[];
}

/** The demo's Grad-CAM at its default layer, straight from the app's worker client. */
async function demoGradCam(page: Page): Promise<Explained> {
  return page.evaluate(async () => {
    const client = (window as unknown as { __studio: { client: PageClient } }).__studio.client;
    const s = await client.call('explain', [{ methods: ['gradcam'] }]);
    return { classIndex: s.classIndex, cam: Array.from(s.cam?.data ?? []) };
  });
}

test('isolated page: threaded WASM, one thread per core, named in the status line; same map as one thread', async ({ page, browser }) => {
  const errors = collectConsoleErrors(page);
  const pthreads: string[] = [];
  page.on('worker', (w) => {
    if (w.url().startsWith('blob:')) pthreads.push(w.url());
  });
  await page.goto('/?backend=wasm');
  await waitForReady(page);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const expected = Math.min(Math.max(cores, 1), 8);
  const state = await appState(page);
  test.skip(!state.explanation.last, 'the built-in demo is not built (public/demo/ missing)');
  expect(state.backend.info?.name).toBe('wasm');
  expect(state.backend.info?.threads).toBe(expected);
  if (expected > 1) {
    await expect(page.locator('.backend-reason')).toContainText(`${expected} threads`);
    // tfjs' pthread workers started (blob: workers inside the computation worker), and none died.
    expect(pthreads.length).toBeGreaterThanOrEqual(expected - 1);
  }
  const threaded = await demoGradCam(page);

  const single = await browser.newPage();
  try {
    await single.goto('/?backend=wasm&threads=1');
    await waitForReady(single);
    const one = await appState(single);
    expect(one.backend.info?.threads).toBe(1);
    await expect(single.locator('.backend-reason')).toContainText('single-threaded');
    const plain = await demoGradCam(single);
    expect(plain.classIndex).toBe(threaded.classIndex);
    expect(plain.cam.length).toBe(threaded.cam.length);
    // Only the order of float additions differs between thread counts.
    const worst = Math.max(...plain.cam.map((v, i) => Math.abs(v - threaded.cam[i]!)));
    expect(worst).toBeLessThan(1e-3);
  } finally {
    await single.close();
  }
  expect(errors).toEqual([]);
});

test('a page that is not cross-origin isolated runs single-threaded and says why', async ({ page }) => {
  // Service workers are blocked in this config, so the plain static server's page stays unisolated.
  const server = await staticServer();
  try {
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/?backend=wasm`);
    await waitForReady(page);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    const state = await appState(page);
    expect(state.backend.info?.name).toBe('wasm');
    expect(state.backend.info?.threads).toBe(1);
    await expect(page.locator('.backend-reason')).toContainText('not cross-origin isolated');
    if (state.explanation.last) expect(state.explanation.last.layerPath).toBeTruthy();
  } finally {
    server.close();
  }
});

test('when the threaded build does not start in time, the worker restarts single-threaded and says so', async ({ page }) => {
  // A 1 ms start limit stands in for pthread workers that never answer (as under a bundler that broke them).
  await page.goto('/?backend=wasm&testThreadedStartMs=1');
  await waitForReady(page);
  const state = await appState(page);
  expect(state.backend.info?.name).toBe('wasm');
  expect(state.backend.info?.threads).toBe(1);
  await expect(page.locator('.backend-reason')).toContainText('did not start');
  test.skip(!state.explanation.last, 'the built-in demo is not built (public/demo/ missing)');
  expect(state.status.outcome).toBe('ready');
});
