/**
 * `npm run bench:soak` — the reliability soak (issue 10): in headless Chromium, on the built app and
 * through the page's own actions (what clicks do), 1,000 explanations alternating layer and class
 * changes, with 50 model swaps (the demo ⇄ a generated nested model with its image) in between.
 * After a warm-up (ten cycles of the other model and back, ~400 explanations) it records the worker's tfjs tensor count, its WASM heap, and the page's
 * and the worker's JavaScript heaps (performance.measureUserAgentSpecificMemory, which attributes
 * memory to the dedicated worker), then again after every swap back to the demo; it checks: tensors
 * back to the warm-up count at the end, and each heap's median over the last five readings within
 * 10 % of its median over the first five. Prints the figures and exits 1 when a check fails.
 *
 * Usage: npm run bench:soak [-- --explanations 1000 --swaps 50 --warmup-cycles 10 --trace]
 */
import type { PageClient } from '../e2e/helpers';
import { chromium, type Page } from 'playwright-core';
import * as tf from '@tensorflow/tfjs';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/helpers';
import { tinyImage, tinyModelFiles } from '../e2e/tiny-model';
import { startPreview, stopPreview, waitForServer } from './preview-server';

const PORT = Number(process.env.SOAK_PORT ?? 4180);
const ORIGIN = `http://localhost:${PORT}`;

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

interface Memory {
  numTensors: number;
  wasmHeapBytes: number;
  pageHeapBytes: number;
  workerHeapBytes: number;
}

interface TreeNode {
  path: string;
  explainable: boolean;
  children?: TreeNode[];
}

type Studio = {
  __studio: {
    getState(): {
      model: { summary: { labels: string[]; tree: TreeNode } | null };
      status: { pending: number; notices: { code: string | null; level: string; message: string }[] };
      explanation: { last: { requestId: number } | null };
    };
    client: PageClient;
    actions: {
      selectLayer(path: string): Promise<string>;
      setTarget(t: number): Promise<string>;
      dropFiles(files: { file: File }[]): Promise<void>;
      openDemo(): Promise<void>;
    };
  };
  soakFiles: { file: File }[];
};

/** The least of `count` readings half a second apart, each after full collections: one reading swings ±15 % with timing. */
async function settledMemory(page: Page, count = 3): Promise<Memory> {
  const readings: Memory[] = [];
  for (let i = 0; i < count; i++) {
    if (i) await page.waitForTimeout(500);
    readings.push(await memory(page));
  }
  const least = (key: keyof Memory) => Math.min(...readings.map((r) => r[key]));
  return { numTensors: readings.at(-1)!.numTensors, wasmHeapBytes: least('wasmHeapBytes'), pageHeapBytes: least('pageHeapBytes'), workerHeapBytes: least('workerHeapBytes') };
}

async function memory(page: Page): Promise<Memory> {
  return page.evaluate(async () => {
    const w = window as unknown as Studio;
    // Full collections first (--expose-gc): the worker's memory() collects there, gc() here.
    const tfjs = await w.__studio.client.call('memory', []);
    (globalThis as { gc?: () => void }).gc?.();
    // Forces a garbage collection (ForceEagerMeasureMemory) and attributes bytes to the page and the worker.
    const measured = await (performance as unknown as { measureUserAgentSpecificMemory(): Promise<{ breakdown: { bytes: number; attribution: { scope: string }[] }[] }> }).measureUserAgentSpecificMemory();
    const bytesIn = { Window: 0, DedicatedWorkerGlobalScope: 0 } as Record<string, number>;
    for (const b of measured.breakdown) for (const a of b.attribution) if (a.scope in bytesIn) bytesIn[a.scope] += b.bytes;
    return { numTensors: tfjs.numTensors, wasmHeapBytes: tfjs.wasmHeapBytes ?? 0, pageHeapBytes: bytesIn.Window!, workerHeapBytes: bytesIn.DedicatedWorkerGlobalScope! };
  });
}

/** Explain `count` times on the model on screen: a new layer, then a new class, and so on (newest wins, as clicks). */
async function explainMany(page: Page, count: number, offset: number): Promise<{ failed: number }> {
  return page.evaluate(
    async ({ count, offset }) => {
      const w = window as unknown as Studio;
      const summary = w.__studio.getState().model.summary!;
      // A stack, not a named helper: tsx would wrap a named function in a __name() the page lacks.
      const layers: string[] = [];
      const stack: TreeNode[] = [summary.tree];
      while (stack.length) {
        const n = stack.pop()!;
        if (n.children) stack.push(...[...n.children].reverse());
        else if (n.explainable) layers.push(n.path);
      }
      let failed = 0;
      for (let i = 0; i < count; i++) {
        const k = offset + i;
        const outcome = k % 2 === 0 ? await w.__studio.actions.selectLayer(layers[(k >> 1) % layers.length]!) : await w.__studio.actions.setTarget((k >> 1) % summary.labels.length);
        if (outcome === 'failed') failed++;
      }
      return { failed };
    },
    { count, offset },
  );
}

async function swap(page: Page, toDemo: boolean): Promise<void> {
  await page.evaluate(async (demo) => {
    const w = window as unknown as Studio;
    if (demo) await w.__studio.actions.openDemo();
    else await w.__studio.actions.dropFiles(w.soakFiles);
  }, toDemo);
  await page.waitForFunction(() => (window as unknown as Studio).__studio.getState().status.pending === 0, undefined, { timeout: 120_000 });
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

async function main(): Promise<void> {
  const explanations = argument('explanations', 1000);
  const swaps = argument('swaps', 50);
  const warmupCycles = argument('warmup-cycles', 10);
  if (swaps % 2 !== 0) throw new Error('--swaps must be even (the soak ends on the model it started with)');
  await tf.setBackend('cpu');
  const tiny = await tinyModelFiles();
  const files = [...tiny.files, tinyImage()];

  const preview = startPreview(PORT);
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, '--enable-blink-features=ForceEagerMeasureMemory', '--js-flags=--expose-gc'] });
  let failures: string[];
  try {
    await waitForServer(`${ORIGIN}/`, 60_000);
    const page = await browser.newPage({ serviceWorkers: 'block' });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${ORIGIN}/?backend=wasm`);
    await page.waitForFunction(() => document.querySelector('main')?.getAttribute('data-state') === 'ready', undefined, { timeout: 180_000 });
    await page.evaluate((list) => {
      (window as unknown as Studio).soakFiles = list.map((f) => ({ file: new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0)) as BlobPart], f.name) }));
    }, files);

    // Warm-up: full cycles (the other model and back), so caches, kernels and pools exist, the WASM
    // heap (which only grows) has its working size, and V8 has compiled the hot code: a page heap
    // snapshot showed compiled code growing 1.82 → 2.10 MB over cycles 3–13 and only to 2.12 MB by
    // cycle 23 (everything else flat), so ten cycles by default.
    const perStint = Math.max(1, Math.floor(explanations / (swaps + 1)));
    const started = performance.now();
    for (let cycle = 0; cycle < warmupCycles; cycle++) {
      await explainMany(page, perStint, 0);
      await swap(page, false);
      await explainMany(page, perStint, perStint);
      await swap(page, true);
    }
    const warm = await settledMemory(page);
    console.log(`after warm-up: ${warm.numTensors} tensors, WASM heap ${mb(warm.wasmHeapBytes)}, worker JS ${mb(warm.workerHeapBytes)}, page JS ${mb(warm.pageHeapBytes)}`);

    let done = 0;
    let failed = 0;
    // A reading after every swap back to the demo (the same state each time): one reading swings
    // by ±0.5 MB on a 3–4 MB page heap, so growth is judged on the median of the first and of the
    // last five such readings, not on two single points.
    const onDemo: Memory[] = [];
    for (let s = 0; s < swaps; s++) {
      const stint = s === swaps - 1 ? explanations - done - perStint : perStint;
      failed += (await explainMany(page, stint, done)).failed;
      done += stint;
      await swap(page, s % 2 === 1); // odd swaps go back to the demo: the last one ends on it
      const m = s % 2 === 1 ? await settledMemory(page, 2) : process.argv.includes('--trace') ? await memory(page) : null;
      if (m && s % 2 === 1) onDemo.push(m);
      if (m && process.argv.includes('--trace')) {
        console.log(`  swap ${s + 1}: ${done} explanations, ${m.numTensors} tensors, WASM heap ${mb(m.wasmHeapBytes)}, worker JS ${mb(m.workerHeapBytes)}, page JS ${mb(m.pageHeapBytes)}`);
      }
    }
    failed += (await explainMany(page, perStint, done)).failed;
    done += perStint;
    const end = await settledMemory(page);
    onDemo.push(end);
    const seconds = (performance.now() - started) / 1000;
    const notices = await page.evaluate(() => (window as unknown as Studio).__studio.getState().status.notices.filter((n) => n.level === 'error').map((n) => `${n.code}: ${n.message}`));
    console.log(`after ${done} explanations and ${swaps} model swaps (${seconds.toFixed(0)} s): ${end.numTensors} tensors, WASM heap ${mb(end.wasmHeapBytes)}, worker JS ${mb(end.workerHeapBytes)}, page JS ${mb(end.pageHeapBytes)}`);
    const growth = (a: number, b: number) => (a > 0 ? b / a - 1 : 0);
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const k = Math.min(5, Math.floor(onDemo.length / 2));
    const firstAndLast = (key: keyof Memory): [number, number] => [median([warm, ...onDemo.slice(0, k - 1)].map((m) => m[key])), median(onDemo.slice(-k).map((m) => m[key]))];
    const rows: [string, number, number][] = [
      ['WASM heap', ...firstAndLast('wasmHeapBytes')],
      ['worker JS heap', ...firstAndLast('workerHeapBytes')],
      ['page JS heap', ...firstAndLast('pageHeapBytes')],
    ];
    console.log(`growth after warm-up: median of the first ${k} readings on the demo → median of the last ${k}`);
    for (const [name, a, b] of rows) console.log(`  ${name.padEnd(16)} ${mb(a).padStart(9)} → ${mb(b).padStart(9)}  ${(growth(a, b) * 100).toFixed(1).padStart(6)} %`);
    failures = [
      ...(end.numTensors !== warm.numTensors ? [`tensors: ${warm.numTensors} after warm-up, ${end.numTensors} at the end`] : []),
      ...rows.filter(([, a, b]) => growth(a, b) > 0.1).map(([name, a, b]) => `${name} grew ${(growth(a, b) * 100).toFixed(1)} % (${mb(a)} → ${mb(b)})`),
      ...(failed ? [`${failed} explanations failed`] : []),
      ...notices.map((n) => `error shown: ${n}`),
      ...pageErrors.map((e) => `page error: ${e}`),
    ];
  } finally {
    await browser.close();
    stopPreview(preview);
  }
  if (failures.length) {
    console.log(`\nSoak FAILED:\n  ${failures.join('\n  ')}`);
    process.exit(1);
  }
  console.log('\nSoak passed: tensors back to the warm-up count, every heap within 10 %.');
}

void main();
