/**
 * Issue 10: models that used to stall or break the worker, and what happens when it breaks anyway.
 *  - Degenerate input shapes and strides give a specific coded error within 5 s, the previous model
 *    stays, and the next good model loads and explains (the WASM backend is not left corrupted).
 *  - A real WebAssembly trap in the worker: the worker is replaced, the user's model and image come
 *    back, the failure is said once (BACKEND_TRAPPED), and explaining works.
 *  - A worker that stops answering (a synchronous loop) is replaced by the watchdog (WORKER_UNRESPONSIVE).
 */
import { expect, test, type Page } from '@playwright/test';
import { FIXTURES_SKIP_REASON, collectConsoleErrors, fixturesAvailable, tmUploads, upload, waitForReady, type Upload, type PageClient } from './helpers';
import { appState, clickAnotherLayer, waitForNewExplanation, type AppState } from './studio-flows';
import { tinyImage, tinyModelFiles, TINY_LABELS } from './tiny-model';

let tiny: Upload[];
const photo = (): Upload => {
  const f = tinyImage();
  return upload(f.name, f.base64, 'image/png');
};

test.beforeAll(async () => {
  const made = await tinyModelFiles();
  tiny = made.files.map((f) => upload(f.name, f.base64));
});

/** The files with model.json's text edited (every match). */
function edited(files: Upload[], from: RegExp, to: string): Upload[] {
  return files.map((f) => {
    if (f.name !== 'model.json') return f;
    const text = f.buffer.toString('utf8');
    const next = text.replace(from, to);
    expect(next, `${from} is in model.json`).not.toBe(text);
    return { ...f, buffer: Buffer.from(next) };
  });
}


/** Open `files` with the model picker; resolve with the error notice it ends in, and how long it took. */
async function refused(page: Page, files: Upload[]): Promise<{ code: string | null; message: string; ms: number }> {
  const before = (await appState(page)).status.notices.length;
  const started = Date.now();
  await page.getByTestId('open-model').setInputFiles(files);
  await page.waitForFunction(
    (n) => {
      const s = (window as unknown as { __studio: { getState(): AppState } }).__studio.getState();
      return s.status.pending === 0 && s.status.notices.length > n && s.status.notices.some((x, i) => i >= n && x.code !== null);
    },
    before,
    { timeout: 60_000 },
  );
  const ms = Date.now() - started;
  const state = await appState(page);
  const error = state.status.notices.slice(before).find((n) => n.code !== null)!;
  return { code: error.code, message: error.message, ms };
}

async function openTinyAndExplain(page: Page): Promise<AppState> {
  await page.getByTestId('open-model').setInputFiles([...tiny, photo()]);
  await page.waitForFunction(
    (labels) => {
      const s = (window as unknown as { __studio: { getState(): AppState } }).__studio.getState();
      return s.status.pending === 0 && s.model.summary?.labels.join('|') === labels && !!s.explanation.last?.layerPath?.startsWith(`${s.model.summary.tree.path}/`);
    },
    TINY_LABELS.join('|'),
    { timeout: 120_000 },
  );
  await waitForReady(page);
  return appState(page);
}

test.describe('degenerate models are refused with a specific code, and the worker stays usable', () => {
  const cases: { name: string; files: () => Upload[]; code: string; text: RegExp }[] = [
    { name: 'input [null,1,1,3]', files: () => edited(tiny, /"batch_input_shape":\[null,16,16,3\]/g, '"batch_input_shape":[null,1,1,3]'), code: 'INPUT_SIZE_INVALID', text: /at least 2×2 pixels, this one is 1×1/ },
    { name: 'input [null,0,0,3]', files: () => edited(tiny, /"batch_input_shape":\[null,16,16,3\]/g, '"batch_input_shape":[null,0,0,3]'), code: 'INPUT_SIZE_INVALID', text: /dimension of 0/ },
    { name: 'input [null,100000,100000,3]', files: () => edited(tiny, /"batch_input_shape":\[null,16,16,3\]/g, '"batch_input_shape":[null,100000,100000,3]'), code: 'INPUT_SIZE_INVALID', text: /GB as floats/ },
    { name: 'zero strides', files: () => edited(tiny, /"strides":\[1,1\]/, '"strides":[0,0]'), code: 'MODEL_CONFIG_INVALID', text: /has strides \[0,0\]: strides must be positive whole numbers/ },
  ];
  for (const c of cases) {
    test(`${c.name} → ${c.code} in < 5 s; the model on screen stays; the good model loads next`, async ({ page }) => {
      const errors = collectConsoleErrors(page);
      await page.goto('/');
      await waitForReady(page);
      const before = await appState(page);
      const outcome = await refused(page, c.files());
      expect(outcome.code).toBe(c.code);
      expect(outcome.message).toMatch(c.text);
      expect(outcome.ms).toBeLessThan(5000);
      const after = await appState(page);
      expect(after.model.summary?.name).toBe(before.model.summary?.name);
      expect(after.explanation.last?.requestId).toBe(before.explanation.last?.requestId);
      const good = await openTinyAndExplain(page);
      expect(good.explanation.last?.classLabel).toMatch(/^(circle|square|star)$/);
      expect(errors).toEqual([]);
    });
  }

  test('the Teachable Machine export with input 1×1, 0×0 and 8×8, one after the other, then the real one', async ({ page }) => {
    test.skip(!fixturesAvailable, FIXTURES_SKIP_REASON);
    const errors = collectConsoleErrors(page);
    await page.goto('/');
    await waitForReady(page);
    const shape = (s: string) => edited(tmUploads(), /"batch_input_shape":\[null,224,224,3\]/, `"batch_input_shape":${s}`);
    const seen: string[] = [];
    for (const [s, code] of [['[null,1,1,3]', 'INPUT_SIZE_INVALID'], ['[null,0,0,3]', 'INPUT_SIZE_INVALID'], ['[null,8,8,3]', 'LAYER_OUTPUT_EMPTY']] as const) {
      const outcome = await refused(page, shape(s));
      expect(outcome.code, outcome.message).toBe(code);
      expect(outcome.ms).toBeLessThan(5000);
      seen.push(outcome.message);
    }
    expect(seen[2]).toMatch(/Layer ".*\/model1\/block_\d+_depthwise" would output \[null, 0, 0, \d+\]/);
    await page.getByTestId('open-model').setInputFiles(tmUploads());
    await page.waitForFunction(() => {
      const s = (window as unknown as { __studio: { getState(): AppState } }).__studio.getState();
      return s.status.pending === 0 && s.model.summary?.labels.join('|') === 'Peace|Stop|Thumbs Up' && !!s.explanation.last;
    }, undefined, { timeout: 120_000 });
    await waitForReady(page);
    expect((await appState(page)).explanation.last?.layerPath).toBe((await appState(page)).model.summary?.defaultLayerPath);
    expect(errors).toEqual([]);
  });
});

type Studio = { __studio: { client: PageClient; getState(): AppState } };

test('a WebAssembly trap in the worker: replaced, the model and image come back, said once, explaining works', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForReady(page);
  const before = await openTinyAndExplain(page);
  const outcome = await page.evaluate(async () => {
    const w = window as unknown as Studio;
    try {
      await w.__studio.client.call('trapForTest', []);
      return { code: 'none', message: '' };
    } catch (e) {
      return { code: (e as { code: string }).code, message: (e as Error).message };
    }
  });
  expect(outcome.code).toBe('BACKEND_TRAPPED');
  expect(outcome.message).toMatch(/failed inside WebAssembly \(unreachable\) while running a test trap; the worker was restarted with your model and image/);
  // The new worker redraws the user's model and image on its own (the store re-explains after a restart).
  const after = await waitForNewExplanation(page, before.explanation.last!.requestId);
  expect(after.model.summary?.labels).toEqual(TINY_LABELS);
  expect(after.image?.name).toBe('tiny.png');
  // Said once: the restart itself adds no second message.
  expect(after.status.notices.filter((n) => n.code === 'WORKER_CRASHED')).toEqual([]);
  const memory = await page.evaluate(() => (window as unknown as Studio).__studio.client.call('memory', []));
  expect(memory.numTensors).toBeGreaterThan(0); // the reloaded model lives in the new worker
  // A layer click on the restored model works.
  await clickAnotherLayer(page, after);
  expect(errors.filter((e) => !/unreachable/.test(e))).toEqual([]);
});

test('a worker that stops answering is replaced by the watchdog; the model and image come back', async ({ page }) => {
  await page.goto('/?watchdogMs=2500');
  await waitForReady(page);
  const before = await openTinyAndExplain(page);
  const started = Date.now();
  const outcome = await page.evaluate(async () => {
    const w = window as unknown as Studio;
    try {
      await w.__studio.client.call('hangForTest', [60_000]);
      return { code: 'none', message: '' };
    } catch (e) {
      return { code: (e as { code: string }).code, message: (e as Error).message };
    }
  });
  const ms = Date.now() - started;
  expect(outcome.code).toBe('WORKER_UNRESPONSIVE');
  expect(outcome.message).toMatch(/did not answer for \d+ s while running a test hang; it was replaced, with your model and image/);
  expect(ms).toBeLessThan(20_000); // not the 60 s the hang would take
  const after = await waitForNewExplanation(page, before.explanation.last!.requestId);
  expect(after.model.summary?.labels).toEqual(TINY_LABELS);
  expect(after.image?.name).toBe('tiny.png');
});
