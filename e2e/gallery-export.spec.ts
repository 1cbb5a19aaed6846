/**
 * Issue 22 item 5: the gallery's "CSV + overlays" zip (now streamed) holds one overlay per image even
 * when images share a stem (`a.png`, `a.jpeg`, `a.bmp`), with the extension kept; its CSV neutralises
 * a formula-like file name.
 */
import { expect, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import Papa from 'papaparse';
import { waitForReady } from './helpers';
import { tinyImage } from './tiny-model';

type ExportWindow = {
  __studio: {
    actions: { dropFiles(f: { file: File; path: string }[]): Promise<void> };
    client: { call(method: string, args: unknown[]): Promise<Blob> };
    getState(): { view: unknown };
  };
  __studioGallery: { getState(): { outcome: string; running: boolean; count: number } };
};

test('same-stem images get one overlay each; a formula-like name lands as text', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await waitForReady(page);
  const hasDemo = await page.evaluate(() => !!(window as unknown as { __studio: { getState(): { model: { summary: unknown } } } }).__studio.getState().model.summary);
  test.skip(!hasDemo, 'the built-in demo is not built (public/demo/ missing)');
  await page.waitForFunction(() => !!(window as unknown as ExportWindow).__studioGallery);
  const paths = ['cats/a.png', 'cats/a.jpeg', 'cats/a.bmp', '=HYPERLINK("x").png'];
  const base64 = tinyImage().base64;
  await page.evaluate(
    ({ paths: p, base64: b }) => {
      const w = window as unknown as ExportWindow;
      const bytes = Uint8Array.from(atob(b), (c) => c.charCodeAt(0));
      void w.__studio.actions.dropFiles(p.map((path) => ({ file: new File([bytes], path.split('/').pop() ?? path), path })));
    },
    { paths, base64 },
  );
  await page.waitForFunction(() => {
    const g = (window as unknown as ExportWindow).__studioGallery.getState();
    return g.outcome === 'done' && !g.running && g.count === 4;
  }, undefined, { timeout: 240_000 });
  const zipped = await page.evaluate(async () => {
    const w = window as unknown as ExportWindow;
    const blob = await w.__studio.client.call('galleryExportZip', [[0, 1, 2, 3], w.__studio.getState().view]);
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  });
  const entries = unzipSync(Uint8Array.from(zipped));
  const overlays = Object.keys(entries).filter((n) => n.startsWith('overlays/')).sort();
  expect(overlays).toEqual(['overlays/=HYPERLINK("x").png.png', 'overlays/cats/a.bmp.png', 'overlays/cats/a.jpeg.png', 'overlays/cats/a.png.png']);
  const csv = new TextDecoder().decode(entries['results.csv']);
  const files = Papa.parse<string[]>(csv, { delimiter: ',', skipEmptyLines: true }).data.slice(1).map((r) => r[0]);
  expect(files).toContain(`'=HYPERLINK("x").png`);
  for (const f of files) expect(f).not.toMatch(/^[=+\-@]/);
});
