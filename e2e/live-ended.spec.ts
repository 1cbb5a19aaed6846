/**
 * Issue 22 item 6: when the camera's track ends (unplugged, taken by another app, revoked by the OS),
 * live mode stops with a coded message instead of freezing on its last frame. Chromium's fake camera;
 * the end is the track's own `ended` event, dispatched on it as the browser does when the device goes.
 */
import { expect, test } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH, waitForReady } from './helpers';

test.use({ launchOptions: { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] } });

type LiveWindow = { __studio: { getState(): { live: { running: boolean; frames: number; error: string | null } } } };

test('the camera track ends → live mode stops with CAMERA_ENDED', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await waitForReady(page);
  await page.getByTestId('open-camera').click();
  await expect(page.getByTestId('live-view')).toBeVisible();
  await page.waitForFunction(() => (window as unknown as LiveWindow).__studio.getState().live.frames >= 2, undefined, { timeout: 120_000 });
  await page.evaluate(() => {
    const stream = (document.querySelector('.live-video') as HTMLVideoElement).srcObject as MediaStream;
    stream.getVideoTracks()[0]?.dispatchEvent(new Event('ended'));
  });
  await expect(page.getByTestId('live-view').getByRole('alert')).toContainText('CAMERA_ENDED: Live mode stopped');
  const live = await page.evaluate(() => (window as unknown as LiveWindow).__studio.getState().live);
  expect(live.running).toBe(false);
  // No more frames are explained once it stopped.
  const frames = live.frames;
  await page.waitForTimeout(1000);
  expect((await page.evaluate(() => (window as unknown as LiveWindow).__studio.getState().live)).frames).toBe(frames);
  // The camera itself was released.
  expect(await page.evaluate(() => (document.querySelector('.live-video') as HTMLVideoElement | null)?.srcObject ?? null)).toBeNull();
});
