/**
 * Issue 22.2: a paused gallery run never leaves the gallery stuck at 0 / N. After Pause, each of
 * Cancel → Run again, a new folder, a new model and another method reaches N / N. The worker holds
 * the first run before its first batch until it is paused (?testGalleryHoldMs), so the test pauses a
 * run in flight without racing it, however fast or slow the machine.
 */
import { expect, test, type Page } from '@playwright/test';
import { Rng, randomScene, renderScene, type ShapeClass } from '../scripts/demo-data';
import { encodePng } from '../src/engine/node/image';
import { waitForReady } from './helpers';

type GalleryWindow = {
  __studio: { actions: { dropFiles(f: { file: File; path: string }[]): Promise<void>; setMethods(m: string[]): Promise<unknown> } };
  __studioGallery: { getState(): { outcome: string; running: boolean; count: number; progress: { done: number; total: number; paused: boolean } | null } };
};

/** `count` shape scenes in class folders under `root`, as base64 PNGs. */
function folder(root: string, count: number, seed: number): { path: string; base64: string }[] {
  const rng = new Rng(seed);
  const classes: ShapeClass[] = ['circle', 'square', 'triangle'];
  return Array.from({ length: count }, (_, i) => {
    const cls = classes[i % classes.length] ?? 'circle';
    const raw = renderScene(randomScene(rng, { shapes: [{ cls, radius: 0.3 }] }), 64);
    return { path: `${root}/${cls}/${String(i).padStart(3, '0')}.png`, base64: Buffer.from(encodePng({ width: 64, height: 64, data: raw })).toString('base64') };
  });
}

async function drop(page: Page, files: { path: string; base64: string }[]): Promise<void> {
  await page.evaluate((list) => {
    const w = window as unknown as GalleryWindow;
    const dropped = list.map((f) => ({ file: new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.path.split('/').pop() ?? 'x.png'), path: f.path }));
    void w.__studio.actions.dropFiles(dropped);
  }, files);
}

/** Pause the (held) first run from the progress bar, as a person would, and see it paused at 0 / N. */
async function pauseFirstRun(page: Page, total: number): Promise<void> {
  const bar = page.getByTestId('gallery-progress');
  await expect(bar).toHaveAttribute('data-running', 'true');
  await bar.getByRole('button', { name: 'Pause' }).click();
  await expect(bar).toContainText(`0 / ${total}`);
  await expect(bar).toContainText('paused');
}

/** The gallery finished a run of every image: N / N, done, not running. */
async function reachesAll(page: Page, total: number): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const g = (window as unknown as GalleryWindow).__studioGallery.getState();
      return !g.running && g.outcome === 'done' && g.count === n && g.progress?.done === n && !g.progress.paused;
    },
    total,
    { timeout: 180_000 },
  );
  await expect(page.getByTestId('gallery-progress')).toContainText(`${total} / ${total}`);
}

const FIRST = folder('shapes', 9, 2201);

test.beforeEach(async ({ page }) => {
  await page.goto('/?backend=wasm&testGalleryHoldMs=120000');
  await waitForReady(page);
  await drop(page, FIRST);
  await expect(page.getByTestId('gallery')).toBeVisible();
  await pauseFirstRun(page, FIRST.length);
});

test('Pause → Cancel → Run again reaches N / N', async ({ page }) => {
  const bar = page.getByTestId('gallery-progress');
  await bar.getByRole('button', { name: 'Cancel' }).click();
  await expect(bar).toHaveAttribute('data-outcome', 'cancelled');
  await bar.getByRole('button', { name: 'Run again' }).click();
  await reachesAll(page, FIRST.length);
});

test('Pause → a new folder reaches N / N for the new folder', async ({ page }) => {
  const next = folder('more', 7, 2202);
  await drop(page, next);
  await reachesAll(page, next.length);
});

test('Pause → a new model reaches N / N', async ({ page }) => {
  await page.evaluate(async () => {
    const w = window as unknown as GalleryWindow;
    const names = ['model.json', 'metadata.json'];
    const manifest = (await (await fetch('/demo/model.json')).json()) as { weightsManifest: { paths: string[] }[] };
    names.push(...manifest.weightsManifest.flatMap((g) => g.paths));
    const files = await Promise.all(names.map(async (name) => ({ file: new File([await (await fetch(`/demo/${name}`)).blob()], name), path: name })));
    void w.__studio.actions.dropFiles(files);
  });
  await reachesAll(page, FIRST.length);
});

test('Pause → another method reaches N / N', async ({ page }) => {
  await page.evaluate(() => void (window as unknown as GalleryWindow).__studio.actions.setMethods(['layercam']));
  await reachesAll(page, FIRST.length);
});
