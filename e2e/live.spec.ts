/**
 * Issue 15 (live mode), with Chromium's fake camera (a moving test pattern): the overlay follows the
 * frames, the fps readout counts, memory stays flat over 300 frames with no main-thread long task,
 * Pause sends the frozen frame to the single-image view, and leaving live mode stops the camera.
 * On the Teachable Machine fixture when it is there, else on the built-in demo model.
 */
import { expect, test, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH, fixturesAvailable, tmUploads, waitForReady, type PageClient } from './helpers';
import { afterNewModel, appState } from './studio-flows';

test.use({ launchOptions: { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] } });

type LiveState = { frames: number; fps: number; running: boolean; active: boolean; last: { classLabel: string } | null; error: string | null };
type StudioWindow = { __studio: { getState(): { live: LiveState }; client: PageClient }; __longTasks: { duration: number; startTime: number }[]; __liveStream?: MediaStream };

const live = (page: Page) => page.evaluate(() => (window as unknown as StudioWindow).__studio.getState().live);
const memory = (page: Page) => page.evaluate(() => (window as unknown as StudioWindow).__studio.client.call('memory', []));

async function framesAtLeast(page: Page, n: number, timeout = 240_000): Promise<void> {
  await page.waitForFunction((count) => (window as unknown as StudioWindow).__studio.getState().live.frames >= count, n, { timeout, polling: 250 });
}

test('live mode: moving overlay, fps, flat memory over 300 frames, no long task, pause → single view, camera stopped', async ({ page }) => {
  test.setTimeout(480_000);
  await page.addInitScript(() => {
    const w = window as unknown as StudioWindow;
    w.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.duration > 50) w.__longTasks.push({ duration: e.duration, startTime: e.startTime });
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto('/?backend=wasm');
  await waitForReady(page);
  if (fixturesAvailable) await afterNewModel(page, () => page.setInputFiles('[data-testid=open-model]', tmUploads()));

  await page.getByTestId('open-camera').click();
  await expect(page.getByTestId('live-view')).toBeVisible();
  await framesAtLeast(page, 5);
  const overlay = page.locator('.live-canvas');
  const first = await overlay.screenshot();
  await framesAtLeast(page, (await live(page)).frames + 5);
  const second = await overlay.screenshot();
  expect(first.equals(second), 'the overlay moves with the frames').toBe(false);
  await expect(page.getByTestId('live-readout')).toHaveText(/^[1-9]\d* fps · \d+ ms$/);
  expect((await live(page)).last?.classLabel).toBeTruthy();

  // 300 frames: the worker's tensors and memory come back to the same figures.
  const startedAt = await page.evaluate(() => performance.now());
  const base = (await live(page)).frames;
  const before = await memory(page);
  await framesAtLeast(page, base + 300);
  const after = await memory(page);
  expect(after.numTensors).toBe(before.numTensors);
  expect(after.numBytes).toBe(before.numBytes);
  if (before.wasmHeapBytes) expect(after.wasmHeapBytes).toBe(before.wasmHeapBytes);
  const longTasks = await page.evaluate((t0) => (window as unknown as StudioWindow).__longTasks.filter((t) => t.startTime >= t0), startedAt);
  expect(longTasks, `long tasks: ${JSON.stringify(longTasks)}`).toEqual([]);
  const state = await live(page);
  expect(state.error).toBeNull();

  // Pause: the frozen frame opens in the single-image view and is explained there; the camera stops.
  await page.evaluate(() => {
    const w = window as unknown as StudioWindow;
    w.__liveStream = (document.querySelector('.live-video') as HTMLVideoElement).srcObject as MediaStream;
  });
  const previous = (await appState(page)).explanation.last?.requestId ?? null;
  await page.getByTestId('live-pause').click();
  await expect(page.getByTestId('live-view')).toHaveCount(0);
  await page.waitForFunction((prev) => {
    const s = (window as unknown as { __studio: { getState(): { image: { name: string } | null; explanation: { last: { requestId: number } | null } } } }).__studio.getState();
    return s.image?.name === 'camera-frame.png' && s.explanation.last !== null && s.explanation.last.requestId !== prev;
  }, previous, { timeout: 120_000 });
  expect(await page.evaluate(() => (window as unknown as StudioWindow).__liveStream!.getTracks().every((t) => t.readyState === 'ended'))).toBe(true);
});

test('closing live mode stops the camera track', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await waitForReady(page);
  await page.getByTestId('open-camera').click();
  await framesAtLeast(page, 2);
  await page.evaluate(() => {
    const w = window as unknown as StudioWindow;
    w.__liveStream = (document.querySelector('.live-video') as HTMLVideoElement).srcObject as MediaStream;
  });
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('live-view')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as StudioWindow).__liveStream!.getTracks().every((t) => t.readyState === 'ended'))).toBe(true);
  expect((await live(page)).active).toBe(false);
});
