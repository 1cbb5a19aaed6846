/**
 * The page side of the browser benchmarks (`npm run bench`, `npm run bench:peer`): the bench models
 * built once in Node and saved as TF.js files, the built app served by `vite preview` and driven in
 * headless Chromium through its own worker client (`window.__studio.client`), as a drop would.
 */
import type { PageClient } from '../e2e/helpers';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { exportLayersModelAsTfjs } from '../src/engine/formats/export-tfjs';
import type { BenchResult, BenchSpec } from '../src/protocol';
import { METHOD_IDS, type MethodId } from '../src/shared/methods';
import { buildBenchModel, type BenchModelName } from './bench-models';
import { gradientFloors, methodFloors, type GradientFloors } from './bench-floor';

export const PORT = Number(process.env.BENCH_PORT ?? 4179);
export const ORIGIN = `http://localhost:${PORT}`;
export const MODEL_DIR = join(tmpdir(), 'gradcam-studio-bench');

export const LONG_TASK_MS = 50;
/** The client's watchdog while benchmarking (`?watchdogMs=`): one hour. */
export const WATCHDOG_MS = 3_600_000;

export function argument(name: string, fallback: string): string {
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
export interface BenchModelInfo {
  files: string[];
  lastLayer: string;
  earlyLayer: string;
  params: number;
  floors: GradientFloors;
  /** Every registry method's floor at the last layer, with its default options. */
  methodFloors: Partial<Record<MethodId, number>>;
}

export async function ensureModelFiles(name: BenchModelName): Promise<BenchModelInfo & { dir: string }> {
  const dir = join(MODEL_DIR, name);
  const infoPath = join(dir, 'bench-info.json');
  if (existsSync(infoPath)) {
    const info = JSON.parse(readFileSync(infoPath, 'utf8')) as Partial<BenchModelInfo>;
    if (info.floors && info.files && info.lastLayer) {
      // Files from before the method floors (or before a method was added): the floors are computed
      // from the same seeded model, the files kept.
      if (!METHOD_IDS.every((id) => info.methodFloors?.[id] !== undefined)) {
        console.log(`computing ${name}'s method floors in Node…`);
        const built = buildBenchModel(name);
        info.methodFloors = methodFloors(built.model, info.lastLayer, METHOD_IDS);
        built.model.dispose();
        writeFileSync(infoPath, JSON.stringify(info));
      }
      return { dir, ...(info as BenchModelInfo) };
    } // older files without floors are rebuilt
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
    methodFloors: methodFloors(built.model, built.lastLayer, METHOD_IDS),
  };
  built.model.dispose();
  writeFileSync(infoPath, JSON.stringify(info));
  return { dir, ...info };
}

/** A seeded noise image, 224×224 PNG. */
export function benchImage(): Buffer {
  const png = new PNG({ width: 224, height: 224 });
  let state = 7;
  for (let i = 0; i < png.data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    png.data[i] = i % 4 === 3 ? 255 : state >>> 24;
  }
  return PNG.sync.write(png);
}

export interface Studio {
  client: PageClient;
}
export interface TreeNode {
  name: string;
  path: string;
  children?: TreeNode[];
}

export async function openBenchModel(page: Page, name: string, files: string[]): Promise<Record<string, string>> {
  return page.evaluate(
    async ({ name, files }) => {
      const studio = (window as unknown as { __studio: Studio }).__studio;
      const fetchFile = async (path: string, fileName: string) => {
        const response = await fetch(path);
        if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
        return { file: new File([await response.blob()], fileName) };
      };
      const dropped = await Promise.all([...files.map((f) => fetchFile(`/__bench/${name}/${f}`, f)), fetchFile('/__bench/image.png', 'noise.png')]);
      const result = await studio.client.call('openFiles', [dropped]);
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

export async function longTasks(page: Page, reset = false): Promise<{ count: number; longest: number }> {
  return page.evaluate((r) => {
    const w = window as unknown as { __longTasks: number[] };
    const out = { count: w.__longTasks.length, longest: Math.max(0, ...w.__longTasks) };
    if (r) w.__longTasks = [];
    return out;
  }, reset);
}


export function benchmarkIn(page: Page, spec: BenchSpec): Promise<BenchResult> {
  return page.evaluate((s) => (window as unknown as { __studio: Studio }).__studio.client.call('benchmark', [s]), spec);
}


/**
 * `vite preview` of another build folder (`--dist`: a build of its own, so that the bench neither
 * replaces dist/ under a test run that serves it nor is replaced by one), like startPreview.
 */
export function startPreviewOf(dir: string, port: number): ChildProcess {
  if (!existsSync(join(dir, 'index.html'))) throw new Error(`${dir} has no index.html: npx vite build --outDir ${dir} first`);
  const child = spawn('npx', ['vite', 'preview', '--outDir', dir, '--port', String(port), '--strictPort'], { stdio: 'ignore', detached: true });
  child.unref();
  return child;
}

/** Long-task observer, the bench files route, the app loaded and idle. */
export async function preparePage(page: Page, threads?: number): Promise<void> {
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
    // A guard: a benchmark call takes minutes on VGG16, and one case (a costly method's single run)
    // can keep the worker from answering the watchdog's ping for longer than its bound (60 s by
    // default). Before the worker let messages in between benchmark runs, the 30 s watchdog replaced
    // it in every VGG16 and ResNet50 call.
    await page.goto(`${ORIGIN}/?backend=wasm&watchdogMs=${WATCHDOG_MS}${threads ? `&threads=${threads}` : ''}`);
    await page.waitForFunction(() => {
      const studio = (window as unknown as { __studio?: Studio }).__studio;
      const state = document.querySelector('main')?.getAttribute('data-state');
      return !!studio?.client?.backend && (state === 'ready' || state === 'error');
    }, undefined, { timeout: 180_000 });
}

