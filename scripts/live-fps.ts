/**
 * `npm run bench:live`: live mode end to end, as a user sees it — Chromium's fake camera (640×480 at
 * its own frame rate), each frame grabbed at 320×240 on the page, transferred, explained with Grad-CAM
 * and drawn by the worker — on the built-in demo model and, when ../shared/fixtures has it, the
 * Teachable Machine export. Prints the frames per second counted over a 10 s window after a warm-up,
 * and the readout's latency (grab → drawn). The worker's share alone is in `npm run bench` (live-frame).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH, fixturesAvailable, tmUploads } from '../e2e/helpers';
import { argument, ORIGIN, PORT, preparePage, startPreviewOf } from './bench-page';

type LiveState = { frames: number; fps: number; latencyMs?: number; running: boolean; error: string | null };
type StudioWindow = { __studio: { getState(): { live: LiveState; model: { summary: { name: string } | null }; status: { pending: number } } } };

const WINDOW_MS = Number(argument('window-ms', '10000'));
const WARMUP_FRAMES = 10;

const live = (page: Page) => page.evaluate(() => (window as unknown as StudioWindow).__studio.getState().live);

async function measure(page: Page, label: string): Promise<{ label: string; fps: number; latencyMs: number | null; frames: number; source: string }> {
  await page.getByTestId('open-camera').click();
  await page.waitForFunction((n) => (window as unknown as StudioWindow).__studio.getState().live.frames >= n, WARMUP_FRAMES, { timeout: 240_000 });
  const start = await live(page);
  const t0 = Date.now();
  const latencies: number[] = [];
  while (Date.now() - t0 < WINDOW_MS) {
    await page.waitForTimeout(250);
    const l = (await live(page)).latencyMs;
    if (typeof l === 'number') latencies.push(l);
  }
  const end = await live(page);
  const source = await page.evaluate(() => {
    const video = Array.from(document.querySelectorAll('video')).find((v) => v.srcObject instanceof MediaStream);
    const settings = (video?.srcObject as MediaStream | undefined)?.getVideoTracks()[0]?.getSettings();
    return settings ? `${settings.width}×${settings.height} at ${settings.frameRate} fps` : 'unknown';
  });
  const seconds = (Date.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  await page.getByTestId('live-close').click().catch(() => undefined);
  return { label, fps: (end.frames - start.frames) / seconds, latencyMs: latencies.length ? (latencies[Math.floor(latencies.length / 2)] ?? null) : null, frames: end.frames - start.frames, source };
}

async function main(): Promise<void> {
  const dist = argument('dist', 'dist');
  if (!existsSync(join(dist, 'index.html'))) throw new Error(`no build in ${dist}: run npx vite build first`);
  const preview = startPreviewOf(dist, PORT);
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
  try {
    for (let i = 0; i < 120; i++) {
      if (await fetch(ORIGIN).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const rows = [];
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await preparePage(page);
    rows.push(await measure(page, 'demo model (64×64 input)'));
    if (fixturesAvailable) {
      await page.reload();
      await preparePage(page);
      await page.setInputFiles('[data-testid=open-model]', tmUploads());
      await page.waitForFunction(() => {
        const s = (window as unknown as StudioWindow).__studio.getState();
        return s.model.summary?.name !== 'shape_classifier' && s.status.pending === 0;
      }, undefined, { timeout: 240_000 });
      rows.push(await measure(page, 'Teachable Machine export (224×224, MobileNet v1 base)'));
    }
    console.log(`\nLive mode end to end (fake camera, frames grabbed at 320×240, ${WINDOW_MS / 1000} s window)\n`);
    console.log('| model | camera | fps end to end | latency (median) | frames |');
    console.log('|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.label} | ${r.source} | ${r.fps.toFixed(1)} | ${r.latencyMs === null ? '—' : `${Math.round(r.latencyMs)} ms`} | ${r.frames} |`);
  } finally {
    await browser.close();
    if (preview.pid) process.kill(-preview.pid);
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
