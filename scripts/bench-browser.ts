/**
 * `npm run bench` — the benchmark on the real product path: headless Chromium, the built app, its
 * computation worker. Models with the shapes of MobileNetV2 (alpha 1.0), VGG16 and ResNet50 at
 * 224×224 (random seeded weights, base nested in a classifier; scripts/bench-models.ts) are built
 * here in Node, saved as TF.js files and handed to the app's worker client (`client.openFiles`,
 * as a drop would); the worker then times, per backend: the forward pass, Grad-CAM at the last and
 * at an early layer, guided backprop and guided Grad-CAM — "cold" (the per-image activation cache
 * cleared: one explanation of a new image, forward pass included) and "warm" (cached activations,
 * a new class each run). Main-thread long tasks (> 50 ms) are counted during the runs.
 * Prints a table and writes a JSON report (git-ignored). The Node-only variant is scripts/bench.ts.
 *
 * Usage: npm run bench [-- --models mobilenet_v2,vgg16 --runs 3 --backends wasm,webgpu --out bench-report.json --no-build]
 * (`npm run bench` builds the app first; the script serves dist/ with its own `vite preview`.)
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs';
import { exportLayersModelAsTfjs } from '../src/engine/formats/export-tfjs';
import type { BenchCase, BenchResult } from '../src/worker/api';
import { BENCH_MODELS, buildBenchModel, type BenchModelName } from './bench-models';
import { stats, type Stats } from './bench-stats';
import { gradientFloors, type GradientFloors } from './bench-floor';
import { CHROMIUM_ARGS, CHROMIUM_PATH, WEBGPU_SWIFTSHADER_ARGS } from '../e2e/helpers';
import { startPreview, stopPreview, waitForServer } from './preview-server';

const PORT = Number(process.env.BENCH_PORT ?? 4179);
const ORIGIN = `http://localhost:${PORT}`;
const MODEL_DIR = join(tmpdir(), 'gradcam-studio-bench');
/** Timed runs per model: more for the small one (its ratios are the noisiest); ~8 minutes in all on 2 cores. */
const DEFAULT_RUNS: Record<BenchModelName, number> = { mobilenet_v2: 9, vgg16: 3, resnet50: 5 };
const LONG_TASK_MS = 50;

interface ModelReport {
  model: string;
  backend: string;
  params: number;
  runs: number;
  lastLayer: string;
  earlyLayer: string;
  timingsMs: Record<string, Stats>;
  /** Each case's median over the forward pass's median. */
  ratios: Record<string, number>;
  /** Each case's fastest run over the forward pass's fastest: steadier than medians on a busy machine. */
  minRatios: Record<string, number>;
  /** The least each cold case can cost (× forward) by multiply-adds: scripts/bench-floor.ts. */
  floors: GradientFloors;
  longTasks: number;
  longestTaskMs: number;
}

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1]! : fallback;
}


const SHARD_BYTES = 16 * 2 ** 20;

/**
 * weights.bin split into 16 MiB shards, as TF.js exports do: each file then crosses Playwright's
 * route (one protocol message per response) comfortably; a 100 MB body closes the connection.
 */
function shard(files: { name: string; data: Uint8Array }[]): { name: string; data: Uint8Array }[] {
  const weights = files.find((f) => f.name === 'weights.bin');
  const modelJson = files.find((f) => f.name === 'model.json');
  if (!weights || !modelJson || weights.data.byteLength <= SHARD_BYTES) return files;
  const count = Math.ceil(weights.data.byteLength / SHARD_BYTES);
  const shards = Array.from({ length: count }, (_, i) => ({
    name: `group1-shard${i + 1}of${count}.bin`,
    data: weights.data.subarray(i * SHARD_BYTES, Math.min(weights.data.byteLength, (i + 1) * SHARD_BYTES)),
  }));
  const json = JSON.parse(new TextDecoder().decode(modelJson.data)) as { weightsManifest: { paths: string[] }[] };
  json.weightsManifest[0]!.paths = shards.map((f) => f.name);
  const rest = files.filter((f) => f !== weights && f !== modelJson);
  return [{ name: 'model.json', data: new TextEncoder().encode(JSON.stringify(json)) }, ...shards, ...rest];
}

/** Build (once; seeded, so reusable) the model's TF.js files in a temp folder. */
interface BenchModelInfo {
  files: string[];
  lastLayer: string;
  earlyLayer: string;
  params: number;
  floors: GradientFloors;
}

async function ensureModelFiles(name: BenchModelName): Promise<BenchModelInfo & { dir: string }> {
  const dir = join(MODEL_DIR, name);
  const infoPath = join(dir, 'bench-info.json');
  if (existsSync(infoPath)) {
    const info = JSON.parse(readFileSync(infoPath, 'utf8')) as Partial<BenchModelInfo>;
    if (info.floors) return { dir, ...(info as BenchModelInfo) }; // older files without floors are rebuilt
  }
  console.log(`building ${name} in Node…`);
  const built = buildBenchModel(name);
  const exported = shard(await exportLayersModelAsTfjs(built.model, Array.from({ length: 1000 }, (_, i) => `class ${i}`)));
  mkdirSync(dir, { recursive: true });
  for (const f of exported) writeFileSync(join(dir, f.name), f.data);
  const info: BenchModelInfo = {
    files: exported.map((f) => f.name),
    lastLayer: built.lastLayer,
    earlyLayer: built.earlyLayer,
    params: built.model.countParams(),
    floors: gradientFloors(built.model, built.lastLayer, built.earlyLayer),
  };
  built.model.dispose();
  writeFileSync(infoPath, JSON.stringify(info));
  return { dir, ...info };
}

/** A seeded noise image, 224×224 PNG. */
function benchImage(): Buffer {
  const png = new PNG({ width: 224, height: 224 });
  let state = 7;
  for (let i = 0; i < png.data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    png.data[i] = i % 4 === 3 ? 255 : state >>> 24;
  }
  return PNG.sync.write(png);
}

interface Studio {
  client: {
    backend: { name: string; reason: string; available: string[]; adapter?: string } | null;
    init(p: string | null): Promise<{ name: string; reason: string; available: string[] }>;
    openFiles(files: { file: File }[]): Promise<{ model?: { summary: { params: number; tree: TreeNode } } }>;
    benchmark(spec: { runs: number; cases: BenchCase[] }): Promise<BenchResult>;
  };
}
interface TreeNode {
  name: string;
  path: string;
  children?: TreeNode[];
}

async function openBenchModel(page: Page, name: string, files: string[]): Promise<Record<string, string>> {
  return page.evaluate(
    async ({ name, files }) => {
      const studio = (window as unknown as { __studio: Studio }).__studio;
      const fetchFile = async (path: string, fileName: string) => {
        const response = await fetch(path);
        if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
        return { file: new File([await response.blob()], fileName) };
      };
      const dropped = await Promise.all([...files.map((f) => fetchFile(`/__bench/${name}/${f}`, f)), fetchFile('/__bench/image.png', 'noise.png')]);
      const result = await studio.client.openFiles(dropped);
      if (!result.model) throw new Error('the model did not open');
      const paths: Record<string, string> = {};
      const visit = (n: TreeNode) => {
        paths[n.name] ??= n.path;
        n.children?.forEach(visit);
      };
      visit(result.model.summary.tree);
      return paths;
    },
    { name, files },
  );
}

async function longTasks(page: Page, reset = false): Promise<{ count: number; longest: number }> {
  return page.evaluate((r) => {
    const w = window as unknown as { __longTasks: number[] };
    const out = { count: w.__longTasks.length, longest: Math.max(0, ...w.__longTasks) };
    if (r) w.__longTasks = [];
    return out;
  }, reset);
}

async function benchModel(page: Page, backend: string, name: BenchModelName, runs: number): Promise<ModelReport> {
  const model = await ensureModelFiles(name);
  const t0 = performance.now();
  const paths = await openBenchModel(page, name, model.files);
  console.log(`  ${name}: opened in the worker in ${Math.round(performance.now() - t0)} ms`);
  const last = paths[model.lastLayer];
  const early = paths[model.earlyLayer];
  if (!last || !early) throw new Error(`bench: layers ${model.lastLayer} / ${model.earlyLayer} not in the tree`);
  const cases: BenchCase[] = [
    { label: 'forward', methods: 'forward' },
    { label: 'gradcam_last', methods: ['gradcam'], layerPath: last },
    { label: 'gradcam_early', methods: ['gradcam'], layerPath: early },
    { label: 'guided_backprop', methods: ['guided-backprop'] },
    { label: 'guided_gradcam', methods: ['guided-gradcam'], layerPath: last },
    { label: 'gradcam_last_warm', methods: ['gradcam'], layerPath: last, warm: true },
    { label: 'gradcam_early_warm', methods: ['gradcam'], layerPath: early, warm: true },
    { label: 'guided_backprop_warm', methods: ['guided-backprop'], warm: true },
  ];
  await longTasks(page, true);
  // All cases in one call: the worker interleaves them round by round (fair on a busy machine).
  const result = await page.evaluate((spec) => (window as unknown as { __studio: Studio }).__studio.client.benchmark(spec), { runs, cases });
  const timingsMs: Record<string, Stats> = {};
  for (const c of result.cases) {
    timingsMs[c.label] = stats(c.runs);
    console.log(`  ${backend} ${name} ${c.label}: median ${timingsMs[c.label]!.median} ms (min ${timingsMs[c.label]!.min})`);
  }
  const tasks = await longTasks(page, true);
  const forward = timingsMs.forward!.median;
  const ratios = Object.fromEntries(Object.entries(timingsMs).map(([k, s]) => [k, Math.round((s.median / forward) * 100) / 100]));
  const fastestForward = timingsMs.forward!.min;
  const minRatios = Object.fromEntries(Object.entries(timingsMs).map(([k, s]) => [k, Math.round((s.min / fastestForward) * 100) / 100]));
  return { model: name, backend, params: model.params, runs, lastLayer: last, earlyLayer: early, timingsMs, ratios, minRatios, floors: model.floors, longTasks: tasks.count, longestTaskMs: Math.round(tasks.longest * 10) / 10 };
}

const COLUMNS = ['forward', 'gradcam_last', 'gradcam_early', 'guided_backprop', 'guided_gradcam', 'gradcam_last_warm', 'gradcam_early_warm', 'guided_backprop_warm'];

function table(reports: ModelReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(`\n${r.model} on ${r.backend} (${(r.params / 1e6).toFixed(1)} M params, ${r.floors.forwardGMacs} G multiply-adds, ${r.runs} timed runs each; last layer ${r.lastLayer}, early layer ${r.earlyLayer}; main-thread long tasks: ${r.longTasks})`);
    lines.push(['case'.padEnd(22), 'median ms'.padStart(10), 'min ms'.padStart(10), 'max ms'.padStart(10), '× forward'.padStart(10), '× (min/min)'.padStart(13), 'MAC floor'.padStart(11)].join(''));
    for (const c of COLUMNS) {
      const s = r.timingsMs[c];
      if (!s) continue;
      const floor = (r.floors as unknown as Record<string, number | undefined>)[c];
      lines.push([c.padEnd(22), s.median.toFixed(0).padStart(10), s.min.toFixed(0).padStart(10), s.max.toFixed(0).padStart(10), `${r.ratios[c]!.toFixed(2)}×`.padStart(10), `${r.minRatios[c]!.toFixed(2)}×`.padStart(13), (floor ? `${floor.toFixed(2)}×` : '').padStart(11)].join(''));
    }
  }
  return lines.join('\n');
}

/** The targets (cold figures): Grad-CAM at the last conv ≤ 1.3× forward, guided backprop ≤ 3×. */
function targetCheck(reports: ModelReport[]): string[] {
  const misses: string[] = [];
  for (const r of reports) {
    if (r.backend !== 'wasm') continue;
    // Met only if both the median and the fastest-run ratio are within the target.
    const worst = (c: string) => Math.max(r.ratios[c]!, r.minRatios[c]!);
    if (worst('gradcam_last') > 1.3) misses.push(`${r.model}: Grad-CAM ${worst('gradcam_last')}× forward (target ≤ 1.3×)`);
    if (worst('guided_backprop') > 3) misses.push(`${r.model}: guided backprop ${worst('guided_backprop')}× forward (target ≤ 3×)`);
  }
  return misses;
}

/** Grad-CAM at an early layer against what its backward pass must do at least (not a target: 1.3× is below its floor). */
function earlyLayerNotes(reports: ModelReport[]): string[] {
  return reports
    .filter((r) => r.backend === 'wasm')
    .map((r) => `${r.model}: Grad-CAM at ${r.earlyLayer} ${r.ratios.gradcam_early}× forward (fastest runs: ${r.minRatios.gradcam_early}×); its multiply-add floor is ${r.floors.gradcam_early}× (the backward through ${Math.round((r.floors.gradcam_early - 1) * 100)} % of the network's multiply-adds)`);
}

/** Long-task observer, the bench files route, the app loaded and idle. */
async function preparePage(page: Page): Promise<void> {
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  page.on('crash', () => console.error('the page crashed (renderer out of memory?)'));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.error(`console ${m.type()}: ${m.text().slice(0, 300)}`);
  });
    // tsx (esbuild keepNames) wraps named functions in __name(); functions sent to the page need it.
    await page.addInitScript('globalThis.__name = (f) => f;');
    await page.addInitScript((threshold) => {
      const w = window as unknown as { __longTasks: number[] };
      w.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) if (entry.duration > threshold) w.__longTasks.push(entry.duration);
      }).observe({ type: 'longtask', buffered: true });
    }, LONG_TASK_MS);
    // The bench's files are served next to the app without touching dist/.
    await page.route('**/__bench/**', async (route) => {
      const rest = new URL(route.request().url()).pathname.replace(/^.*\/__bench\//, '');
      const path = join(MODEL_DIR, ...rest.split('/').filter((p) => p && p !== '..'));
      if (!existsSync(path) || !statSync(path).isFile()) return route.fulfill({ status: 404, body: 'not found' });
      return route.fulfill({ status: 200, path, headers: { 'Cross-Origin-Resource-Policy': 'same-origin' } });
    });
    await page.goto(`${ORIGIN}/?backend=wasm`);
    await page.waitForFunction(() => {
      const studio = (window as unknown as { __studio?: Studio }).__studio;
      const state = document.querySelector('main')?.getAttribute('data-state');
      return !!studio?.client?.backend && (state === 'ready' || state === 'error');
    }, undefined, { timeout: 180_000 });
}

async function main(): Promise<void> {
  const models = argument('models', BENCH_MODELS.join(',')).split(',') as BenchModelName[];
  for (const m of models) if (!BENCH_MODELS.includes(m)) throw new Error(`bench: unknown model ${m}; choose from ${BENCH_MODELS.join(', ')}`);
  const runsArg = argument('runs', '');
  const backends = argument('backends', 'wasm').split(',');
  const out = argument('out', 'bench-report.json');
  await tf.setBackend('cpu'); // building and saving the models only

  mkdirSync(MODEL_DIR, { recursive: true });
  const imagePath = join(MODEL_DIR, 'image.png');
  writeFileSync(imagePath, benchImage());
  const modelInfo = new Map<string, Awaited<ReturnType<typeof ensureModelFiles>>>();
  for (const m of models) modelInfo.set(m, await ensureModelFiles(m));

  const preview = startPreview(PORT);
  const wantWebGpu = backends.includes('webgpu');
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...(wantWebGpu ? WEBGPU_SWIFTSHADER_ARGS : [])] });
  const reports: ModelReport[] = [];
  const notes: string[] = [];
  let browserVersion: string;
  let totalLongTasks = 0;
  try {
    await waitForServer(`${ORIGIN}/`, 60_000);
    // A fresh page (and worker) per model: one model's memory never weighs on the next.
    const newPage = async (): Promise<Page> => {
      const page = await browser.newPage();
      await preparePage(page);
      return page;
    };
    const first = await newPage();
    browserVersion = `${browser.version()}; ${await first.evaluate(() => navigator.userAgent)}`;
    const found = await first.evaluate(() => (window as unknown as { __studio: Studio }).__studio.client.backend!);
    await first.close();
    console.log(`bench in ${browserVersion}\nbackends available in the worker: ${found.available.join(', ')}`);
    if (!wantWebGpu) notes.push('webgpu: not run. On this machine WebGPU/WebGL exist only as SwiftShader (software), measured 25–60× slower than WASM; pass --backends wasm,webgpu (uses SwiftShader flags) for a slow, small-run check.');
    for (const backend of backends) {
      // A software WebGPU adapter is 25–60× slower: only the smallest model, one timed run.
      const software = backend !== 'wasm' && backend !== 'cpu';
      for (const m of models) {
        if (software && m !== 'mobilenet_v2') {
          notes.push(`${backend} ${m}: skipped (software adapter; 25–60× slower than WASM)`);
          continue;
        }
        const page = await newPage();
        try {
          const current = await page.evaluate(() => (window as unknown as { __studio: Studio }).__studio.client.backend!);
          const info = current.name === backend ? current : await page.evaluate((b) => (window as unknown as { __studio: Studio }).__studio.client.init(b), backend);
          if (info.name !== backend) {
            notes.push(`${backend}: not available (the worker started ${info.name} instead)`);
            break;
          }
          console.log(`\n== ${backend} ${m} (${info.reason})`);
          const runs = software ? 1 : runsArg ? Number(runsArg) : DEFAULT_RUNS[m];
          const report = await benchModel(page, backend, m, runs);
          totalLongTasks += report.longTasks;
          reports.push(report);
        } catch (e) {
          const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
          notes.push(`${backend} ${m}: FAILED (${reason})`);
          console.error(`  ${backend} ${m} failed: ${reason}`);
        } finally {
          await page.close().catch(() => undefined);
        }
      }
    }
  } finally {
    // A crashed page can leave close() waiting: give it 30 s.
    await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 30_000))]);
    stopPreview(preview);
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, no GPU used (WASM backend, single-threaded XNNPACK with SIMD)`;
  console.log(`\nmachine: ${machine}\nbrowser: ${browserVersion}`);
  console.log(table(reports));
  console.log(`\nmain-thread long tasks (> ${LONG_TASK_MS} ms) during the runs: ${totalLongTasks}`);
  for (const n of notes) console.log(`note: ${n}`);
  const misses = targetCheck(reports);
  console.log(misses.length ? `\nTARGETS MISSED:\n  ${misses.join('\n  ')}` : '\nTargets met (WASM, cold, by median and by fastest run): Grad-CAM at the last conv ≤ 1.3× forward, guided backprop ≤ 3× forward.');
  const early = earlyLayerNotes(reports);
  if (early.length) console.log(`\nGrad-CAM at an early layer (no target can be under its floor):\n  ${early.join('\n  ')}`);
  writeFileSync(
    out,
    JSON.stringify({ date: new Date().toISOString(), environment: 'browser-worker', browser: browserVersion, machine, longTaskThresholdMs: LONG_TASK_MS, totalLongTasks, notes, targetsMissed: misses, earlyLayer: early, reports }, null, 2) + '\n',
  );
  console.log(`wrote ${out}`);
}

await main();
process.exit(0); // the browser and the preview are closed; nothing else should hold the process
