/**
 * The worker and its client in a real browser, without the UI (harness page on the dev server):
 * loading, explaining, drawing, recolouring, export, newest-wins, leaks, failed loads and recovery.
 */
import { expect, test, type Page } from '@playwright/test';
import { PNG } from 'pngjs';
import { collectConsoleErrors, panelStats, setupHarness, TO_TRANSFERRED, type PageFile } from './helpers';
import { tinyImage, tinyModelFiles, TINY_LABELS } from './tiny-model';
import { pngSize, readPngText } from '../src/render/png-text';
import { COLORBAR_HEIGHT, gridLayout, TITLE_HEIGHT } from '../src/render/composite';

type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

let model: { files: PageFile[]; innerLayerPath: string };
const image = tinyImage();

test.beforeAll(async () => {
  model = await tinyModelFiles();
});

/** Run `body` in the page with `client` and `files` (TransferredFile[]) in scope; errors come back as {code, message}. */
async function inPage<T>(page: Page, body: string, files: PageFile[] = []): Promise<Outcome<T>> {
  return page.evaluate(
    async ({ body, files }) => {
      const client = (window as unknown as { client: unknown }).client;
      try {
        const run = new Function('client', 'files', `return (async () => { ${body} })();`);
        return { ok: true, value: await run(client, files) };
      } catch (e) {
        const err = e as { code?: string; message?: string };
        return { ok: false, code: err.code ?? 'none', message: err.message ?? String(e) };
      }
    },
    { body: body.replace('$FILES', TO_TRANSFERRED), files },
  ) as Promise<Outcome<T>>;
}

async function loadTiny(page: Page): Promise<void> {
  const loaded = await inPage<{ labels: string[]; width: number }>(
    page,
    `const r = await client.call('openFiles', [$FILES]); return { labels: r.model.summary.labels, width: r.image.width };`,
    [...model.files, image],
  );
  expect(loaded).toEqual({ ok: true, value: { labels: TINY_LABELS, width: 64 } });
}

test('loads, explains, draws four panels, recolours without recomputing, exports a captioned PNG', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  const backend = await setupHarness(page);
  if (/software/.test(backend.reason)) expect(backend.name).toBe('wasm');
  await loadTiny(page);

  const explained = await inPage<{ methods: string[]; camMax: number; label: string }>(page, `const s = await client.call('explain', [{}]); return { methods: s.methods, camMax: Math.max(...s.cam.data), label: s.classLabel };`);
  expect(explained.ok && explained.value.methods).toEqual(['gradcam', 'guided-backprop', 'guided-gradcam']);
  expect(explained.ok && explained.value.camMax).toBeCloseTo(1, 5);
  const stats = await panelStats(page, 'harness');
  expect(stats.original).toMatchObject({ width: 320, height: 240 });
  expect(stats.gradcam!.changedFraction).toBeGreaterThan(0.2);
  expect(stats['guided-backprop']!.distinctColours).toBeGreaterThan(20);
  expect(stats['guided-gradcam']!.distinctColours).toBeGreaterThan(5);

  // Recolour: only the Grad-CAM panel changes.
  const sums = `const p = await client.call('inspectPanels', []); const sum = (k) => p[k].data.reduce((a, v, i) => (a + v * ((i % 97) + 1)) % 1000000007, 0); return { o: sum('original'), g: sum('gradcam'), b: sum('guided-backprop') };`;
  const before = await inPage<Record<string, number>>(page, sums);
  const recoloured = await inPage(page, `await client.call('setView', [{ colormap: 'viridis', opacity: 0.9, threshold: 0.4 }]); return true;`);
  expect(recoloured.ok).toBe(true);
  const after = await inPage<Record<string, number>>(page, sums);
  expect(before.ok && after.ok).toBe(true);
  if (before.ok && after.ok) {
    expect(after.value.o).toBe(before.value.o);
    expect(after.value.b).toBe(before.value.b);
    expect(after.value.g).not.toBe(before.value.g);
  }

  const label = explained.ok ? explained.value.label : '';
  const png = await inPage<string>(
    page,
    `const blob = await client.call('exportPng', [['model: tiny', 'layer: ${model.innerLayerPath}', 'class: ${label} (0.5)', 'method: Grad-CAM']]);
     const bytes = new Uint8Array(await blob.arrayBuffer()); let s = ''; for (const b of bytes) s += String.fromCharCode(b); return btoa(s);`,
  );
  expect(png.ok).toBe(true);
  const bytes = new Uint8Array(Buffer.from(png.ok ? png.value : '', 'base64'));
  // Four titled panels in a row, the colour bar (a heatmap is shown), the four caption lines.
  const layout = gridLayout(Array(4).fill({ width: 320, height: 240 }), 4, true);
  expect(pngSize(bytes)).toEqual({ width: 4 * 320, height: layout.height });
  expect(layout.height).toBe(TITLE_HEIGHT + 240 + COLORBAR_HEIGHT + 2 * 8 + 4 * 18);
  const caption = readPngText(bytes).Description;
  expect(caption).toContain(model.innerLayerPath);
  expect(caption).toContain(`class: ${label}`);
  expect(PNG.sync.read(Buffer.from(bytes)).width).toBe(1280); // a valid PNG for a strict decoder
  expect(errors).toEqual([]);
});

test('the newest explanation wins; a failed load keeps the current model; no tensors leak over 100 explanations', async ({ page }) => {
  await setupHarness(page, 'wasm');
  await loadTiny(page);
  const race = await inPage<string[]>(
    page,
    `const first = client.call('explain', [{ layerPath: '${model.innerLayerPath}' }]).then(() => 'done', (e) => e.code);
     const second = client.call('explain', [{ target: 2 }]).then((s) => 'done:' + s.classIndex, (e) => e.code);
     return Promise.all([first, second]);`,
  );
  expect(race).toEqual({ ok: true, value: ['CANCELLED', 'done:2'] });

  const bad = await inPage(page, `return client.call('openFiles', [[{ file: new File(['{"modelTopology": '], 'model.json') }]]);`);
  expect(bad.ok).toBe(false);
  expect(bad.ok ? '' : bad.code).toMatch(/MODEL_JSON_INVALID|NOT_A_TFJS_MODEL/);
  const still = await inPage<number>(page, `const s = await client.call('explain', [{ target: 1 }]); return s.classIndex;`);
  expect(still).toEqual({ ok: true, value: 1 });

  const leak = await inPage<{ before: number; after: number }>(
    page,
    `const methods = [['gradcam'], ['guided-backprop'], ['gradcam', 'guided-backprop', 'guided-gradcam']];
     await client.call('explain', [{}]);
     const before = (await client.call('memory', [])).numTensors;
     for (let i = 0; i < 100; i++) {
       await client.call('explain', [{ layerPath: i % 2 ? '${model.innerLayerPath}' : null, target: i % 3, counterfactual: i % 5 === 0, methods: methods[i % 3] }]);
       if (i % 10 === 0) await client.call('setView', [{ colormap: i % 20 ? 'jet' : 'inferno', opacity: 0.5, threshold: 0.1 }]);
     }
     await client.call('explain', [{}]);
     return { before, after: (await client.call('memory', [])).numTensors };`,
  );
  expect(leak.ok).toBe(true);
  if (leak.ok) expect(leak.value.after).toBe(leak.value.before);
});

test('a worker killed mid-explanation is restarted, reloads the model and finishes the explanation', async ({ page }) => {
  await setupHarness(page);
  await loadTiny(page);
  const outcome = await inPage<{ classIndex: number; events: string[] }>(
    page,
    `const pending = client.call('explain', [{ target: 1, methods: ['gradcam', 'guided-backprop', 'guided-gradcam'] }]);
     await new Promise((r) => setTimeout(r, 5)); // the request is on its way or running
     client.killWorkerForTest();
     const s = await pending;
     return { classIndex: s.classIndex, events: window.events.map((e) => e.type + (e.code ? ':' + e.code : '')) };`,
  );
  expect(outcome.ok).toBe(true);
  if (outcome.ok) {
    expect(outcome.value.classIndex).toBe(1);
    expect(outcome.value.events).toContain('restarted:WORKER_CRASHED');
  }
  // The new worker drew on new canvases; the old ones are gone.
  expect(await page.locator('canvas[data-panel="gradcam"]').count()).toBe(1);
  expect((await panelStats(page, 'harness')).gradcam!.changedFraction).toBeGreaterThan(0.2);

  const lost = await inPage<string[]>(
    page,
    `window.events.length = 0; client.simulateDeviceLossForTest();
     const s = await client.call('explain', [{ target: 2 }]);
     await new Promise((r) => setTimeout(r, 50));
     return [String(s.classIndex), ...window.events.map((e) => e.type + (e.code ? ':' + e.code : ''))];`,
  );
  expect(lost.ok && lost.value[0]).toBe('2');
  expect(lost.ok && lost.value).toContain('restarted:DEVICE_LOST');
});

test('images: huge ones are decoded downscaled, SVG is rasterised, 0×0 and undecodable ones fail with a code and keep the state', async ({ page }) => {
  await setupHarness(page, 'wasm');
  await loadTiny(page);
  const huge = new PNG({ width: 8200, height: 600 });
  huge.data.fill(180);
  const hugePng = { name: 'huge.png', base64: PNG.sync.write(huge, { deflateLevel: 1 }).toString('base64') };
  const emptyPng = { name: 'empty.png', base64: Buffer.from([137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 0, 0, 0, 0, 0, 8, 6, 0, 0, 0, 0, 0, 0, 0]).toString('base64') };
  const brokenJpg = { name: 'broken.jpg', base64: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).toString('base64') };
  const svg = { name: 'drawing.svg', base64: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="90" height="60"><circle cx="45" cy="30" r="20" fill="red"/></svg>').toString('base64') };

  const big = await inPage<{ width: number; height: number; codes: string[] }>(page, `const r = await client.call('openFiles', [$FILES]); return { width: r.image.width, height: r.image.height, codes: r.image.notices.map((n) => n.code) };`, [hugePng]);
  expect(big).toEqual({ ok: true, value: { width: 4096, height: 300, codes: ['IMAGE_DOWNSCALED'] } });

  const drawn = await inPage<{ width: number; height: number }>(page, `const r = await client.call('openFiles', [$FILES]); return { width: r.image.width, height: r.image.height };`, [svg]);
  expect(drawn).toEqual({ ok: true, value: { width: 90, height: 60 } });

  const empty = await inPage(page, `return client.call('openFiles', [$FILES]);`, [emptyPng]);
  expect(empty.ok ? '' : empty.code).toBe('IMAGE_EMPTY');
  const broken = await inPage(page, `return client.call('openFiles', [$FILES]);`, [brokenJpg]);
  expect(broken.ok ? '' : broken.code).toBe('IMAGE_DECODE_FAILED');
  // The SVG (the last good image) and the model are still there.
  const still = await inPage<number[]>(page, `await client.call('explain', [{}]); const p = await client.call('inspectPanels', []); return [p.original.width, p.original.height];`);
  expect(still).toEqual({ ok: true, value: [320, 213] }); // 90×60 shown with the longer side 320
});
