/**
 * `npm run bench -- gallery` — the gallery's throughput and memory, on the real product path
 * (headless Chromium, the built app, its worker, WASM): 500 shape scenes at 224×224 explained with
 * Grad-CAM on the MobileNetV2-shaped bench model (scripts/bench-models.ts), once through the batched
 * pipeline (one forward and one backward pass per batch) and once with the same pipeline explaining
 * each image through the single-image path (LoadedModel.explain), in the same browser, after an
 * untimed warm-up of both. Images/s of each and their ratio (target ≥ 1.5×); the worker's memory
 * (tfjs bytes, WASM heap, JS heap after a full collection) after 100, 300 and 500 images of the
 * batched run (target: growth ≤ 10 % from 100 to 500).
 *
 * Usage: npm run bench -- gallery [--images 500] [--batch 16] [--out bench-report-gallery.json]
 */
import type { PageClient } from '../e2e/helpers';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import * as tf from '@tensorflow/tfjs';
import { exportLayersModelAsTfjs } from '../src/engine/formats/export-tfjs';
import { encodePng } from '../src/engine/node/image';
import type { GalleryRunOptions } from '../src/protocol';
import { buildBenchModel } from './bench-models';
import { Rng, SHAPE_CLASSES, randomScene, renderScene } from './demo-data';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/helpers';
import { startPreview, stopPreview, waitForServer } from './preview-server';

const PORT = Number(process.env.BENCH_PORT ?? 4179);
const ORIGIN = `http://localhost:${PORT}`;
const DIR = join(tmpdir(), 'gradcam-studio-bench', 'gallery');
const CHECKPOINTS = [100, 300, 500];
const SPEEDUP_TARGET = 1.5;
const GROWTH_TARGET = 0.1;

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1]! : fallback;
}

/** The MobileNetV2 bench model's TF.js files (built once in Node, seeded). */
async function modelFiles(): Promise<string[]> {
  const dir = join(DIR, 'mobilenet_v2');
  const list = join(dir, 'files.json');
  if (existsSync(list)) return JSON.parse(readFileSync(list, 'utf8')) as string[];
  console.log('building the MobileNetV2 bench model in Node…');
  await tf.setBackend('cpu');
  const built = buildBenchModel('mobilenet_v2');
  const files = await exportLayersModelAsTfjs(built.model, Array.from({ length: 1000 }, (_, i) => `class ${i}`));
  built.model.dispose();
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(join(dir, f.name), f.data);
  writeFileSync(list, JSON.stringify(files.map((f) => f.name)));
  return files.map((f) => f.name);
}

/** `count` shape scenes at 224×224 in class folders (made once, seeded). */
function images(count: number): string[] {
  const dir = join(DIR, 'images');
  const names = Array.from({ length: count }, (_, i) => `${SHAPE_CLASSES[i % SHAPE_CLASSES.length]}/img-${String(i).padStart(4, '0')}.png`);
  const rng = new Rng(2024);
  for (const name of names) {
    const path = join(dir, name);
    if (existsSync(path)) continue;
    mkdirSync(join(path, '..'), { recursive: true });
    const cls = name.split('/')[0] as (typeof SHAPE_CLASSES)[number];
    writeFileSync(path, encodePng({ width: 224, height: 224, data: renderScene(randomScene(rng, { shapes: [{ cls }] }), 224) }));
  }
  return names;
}

interface Memory {
  numTensors: number;
  numBytes: number;
  wasmHeapBytes?: number;
  jsHeapBytes?: number;
}

interface RunReport {
  images: number;
  seconds: number;
  imagesPerSecond: number;
  memory: Record<number, Memory>;
  /** In the worker: decoding (overlapped with the previous batch), explaining, drawing/encoding, ms. */
  timings: Record<string, number>;
}

type Client = PageClient;

/** In the page: put `names` in the gallery, run it, and take the worker's memory as the run passes each checkpoint. */
async function run(page: Page, names: string[], options: Partial<GalleryRunOptions>, checkpoints: number[]): Promise<RunReport> {
  return page.evaluate(
    async ({ names, options, checkpoints }) => {
      const client = (window as unknown as { __studio: { client: Client } }).__studio.client;
      const files = await Promise.all(
        names.map(async (name) => ({ file: new File([await (await fetch(`/__bench/images/${name}`)).blob()], name.split('/').pop()!), path: name })),
      );
      await client.call('gallerySetFiles', [files]);
      const memory: Record<number, Memory> = {};
      const pending: Promise<void>[] = [];
      const full: GalleryRunOptions = { layerPath: null, method: 'gradcam', classMode: 'predicted', view: { colormap: 'turbo', opacity: 0.5, threshold: 0 }, ...options };
      const t0 = performance.now();
      const taken = new Set<number>();
      const result = await client.call('galleryRun', [full], { onProgress: (event) => {
        if (!('gallery' in event)) return;
        const p = event.gallery;
        // The worker answers between two batches: the memory just after the checkpoint's batch.
        for (const c of checkpoints) {
          if (p.done < c || taken.has(c) || c >= names.length) continue;
          taken.add(c);
          pending.push(client.call('memory', []).then((m) => void (memory[c] = m)));
        }
      } });
      const seconds = (performance.now() - t0) / 1000;
      await Promise.all(pending);
      if (checkpoints.includes(names.length)) memory[names.length] = await client.call('memory', []);
      return { images: result.done, seconds, imagesPerSecond: result.done / seconds, memory, timings: result.timings };
    },
    { names, options, checkpoints },
  );
}

const mb = (bytes: number | undefined) => (bytes === undefined ? '—' : `${(bytes / 2 ** 20).toFixed(1)} MB`);

async function main(): Promise<void> {
  const count = Number(argument('images', '500'));
  const batchSize = Number(argument('batch', '16'));
  const out = argument('out', 'bench-report-gallery.json');
  const files = await modelFiles();
  const names = images(count);
  const preview = startPreview(PORT);
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, '--js-flags=--expose-gc'] });
  try {
    await waitForServer(`${ORIGIN}/`, 60_000);
    const page = await browser.newPage({ serviceWorkers: 'block' }); // page.route must see every request (a service worker would fetch past it)
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    page.on('crash', () => console.error('the page crashed (renderer out of memory?)'));
    page.on('console', (m) => {
      if (m.type() === 'error') console.error(`console error: ${m.text().slice(0, 300)}`);
    });
    await page.addInitScript('globalThis.__name = (f) => f;'); // tsx keepNames
    await page.route('**/__bench/**', async (route) => {
      const rest = new URL(route.request().url()).pathname.replace(/^.*\/__bench\//, '');
      const path = join(DIR, ...rest.split('/').filter((p) => p && p !== '..'));
      if (!existsSync(path) || !statSync(path).isFile()) return route.fulfill({ status: 404, body: 'not found' });
      return route.fulfill({ status: 200, path, headers: { 'Cross-Origin-Resource-Policy': 'same-origin' } });
    });
    await page.goto(`${ORIGIN}/?backend=wasm&watchdogMs=3600000`);
    await page.waitForFunction(() => {
      const state = document.querySelector('main')?.getAttribute('data-state');
      return !!(window as unknown as { __studio?: { client?: { backend?: unknown } } }).__studio?.client?.backend && (state === 'ready' || state === 'error');
    }, undefined, { timeout: 180_000 });
    const backend = await page.evaluate(async (files) => {
      const studio = (window as unknown as { __studio: { client: Client & { backend: { name: string } } } }).__studio;
      const dropped = await Promise.all(files.map(async (f) => ({ file: new File([await (await fetch(`/__bench/mobilenet_v2/${f}`)).blob()], f) })));
      const result = await studio.client.call('openFiles', [dropped]);
      if (!result.model) throw new Error('the bench model did not open');
      return studio.client.backend.name;
    }, files);
    console.log(`gallery bench: ${count} images at 224×224, MobileNetV2 bench model, Grad-CAM at the default layer, ${backend}, batches of ${batchSize}`);

    // Untimed warm-up of both paths (kernels, the first allocations).
    const warm = names.slice(0, 2 * batchSize);
    await run(page, warm, { batchSize }, []);
    await run(page, warm, { batchSize, singleImagePath: true }, []);

    console.log('single-image path…');
    const single = await run(page, names, { batchSize, singleImagePath: true }, []);
    const phases = (r: RunReport) => Object.entries(r.timings).map(([k, v]) => `${k.replace('Ms', '')} ${(v / r.images).toFixed(1)} ms/image`).join(', ');
    console.log(`  ${single.imagesPerSecond.toFixed(2)} images/s (${single.seconds.toFixed(1)} s; ${phases(single)})`);
    console.log('batched…');
    const batched = await run(page, names, { batchSize }, CHECKPOINTS.filter((c) => c <= count));
    console.log(`  ${batched.imagesPerSecond.toFixed(2)} images/s (${batched.seconds.toFixed(1)} s; ${phases(batched)})`);

    const speedup = batched.imagesPerSecond / single.imagesPerSecond;
    console.log(`\nbatched / single-image path: ${speedup.toFixed(2)}× (target ≥ ${SPEEDUP_TARGET}×) ${speedup >= SPEEDUP_TARGET ? '✓' : '✗'}`);
    console.log('\nworker memory during the batched run (after a full collection):');
    console.log('images | tensors | tfjs bytes | WASM heap | JS heap');
    const points = Object.keys(batched.memory).map(Number).sort((a, b) => a - b);
    for (const p of points) {
      const m = batched.memory[p]!;
      console.log(`${p} | ${m.numTensors} | ${mb(m.numBytes)} | ${mb(m.wasmHeapBytes)} | ${mb(m.jsHeapBytes)}`);
    }
    const growth = (key: keyof Memory): number | null => {
      const [a, b] = [batched.memory[points[0]!]?.[key], batched.memory[points.at(-1)!]?.[key]];
      return typeof a === 'number' && typeof b === 'number' && a > 0 ? (b - a) / a : null;
    };
    const growths = { numBytes: growth('numBytes'), wasmHeapBytes: growth('wasmHeapBytes'), jsHeapBytes: growth('jsHeapBytes') };
    const flat = Object.values(growths).every((g) => g === null || g <= GROWTH_TARGET);
    console.log(
      `growth ${points[0]} → ${points.at(-1)} images: tfjs bytes ${((growths.numBytes ?? 0) * 100).toFixed(1)} %, WASM heap ${((growths.wasmHeapBytes ?? 0) * 100).toFixed(1)} %, JS heap ${growths.jsHeapBytes === null ? '—' : `${(growths.jsHeapBytes * 100).toFixed(1)} %`} (target ≤ ${GROWTH_TARGET * 100} %) ${flat ? '✓' : '✗'}`,
    );
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM`;
    writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), machine, backend, count, batchSize, single, batched, speedup, growths, speedupTarget: SPEEDUP_TARGET, growthTarget: GROWTH_TARGET }, null, 2)}\n`);
    console.log(`wrote ${out}`);
  } finally {
    await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 30_000))]);
    stopPreview(preview);
  }
}

await main();
process.exit(0);
