/**
 * `npm run bench:onnx-web` — the forward yardstick, in the browser: the same ONNX file run
 * by (a) the built app in headless Chromium, its computation worker on tfjs WASM with the threads the
 * app starts (`?threads=N`), opened as a drop would, and (b) onnxruntime-web's WASM backend in a
 * dedicated worker of a cross-origin-isolated page with `numThreads = N` (its own default would be
 * min(4, cores / 2): 1 on this machine). onnxruntime-web's script and .wasm files are served from
 * node_modules/onnxruntime-web/dist by a small server of this script (COOP/COEP, so its threads run),
 * never from a CDN. The two sides are interleaved round by round, so both see the same machine state.
 *
 * Models: the full-size torchvision resnet18 / mobilenet_v2 (224×224, random weights) that
 * `npm run bench:onnx` exports into .bench-onnx/ (skipped when absent), and the reduced-width test
 * fixtures test-fixtures/onnx/{resnet18,mobilenet_v2}-op{13,17}.onnx (112×112).
 *
 * Ours, "forward" is the app's prediction (`loaded.predict`: resize and normalise the image, the
 * forward pass, softmax, read back), cold; onnxruntime-web's is `session.run` on a ready NCHW tensor
 * with its output read. Grad-CAM is ours at the default module, cold (its forward pass included).
 * After the rounds, one more forward pass of ours under tf.profile, kernel by kernel (--no-profile
 * skips it). Prints medians and the ratio ours / onnxruntime-web (target: ≤ 1.5), writes a JSON report.
 *
 * Usage: npm run bench:onnx-web [-- --models resnet18,mobilenet_v2,resnet18-op13,… --rounds 3 --runs 3
 *   --threads 2 --out bench-report-onnx-web.json --dist dist --no-profile]
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import type { BenchCase, KernelProfile } from '../src/protocol/bench';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/helpers';
import { argument, benchImage, benchmarkIn, ORIGIN, PORT, preparePage, startPreviewOf, type Studio } from './bench-page';
import { stats, type Stats } from './bench-stats';
import { startPreview, stopPreview, waitForServer } from './preview-server';

const ROOT = resolve(import.meta.dirname, '..');
const ORT_DIST = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist');
/** The files of onnxruntime-web's WASM-only build that the page needs (its loader, glue and module). */
const ORT_FILES = new Set(['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']);

interface BenchModel {
  key: string;
  path: string;
  note: string;
}

const ALL_MODELS: BenchModel[] = [
  { key: 'resnet18', path: join(ROOT, '.bench-onnx', 'resnet18.onnx'), note: 'full size, 224×224, opset 17 (.bench-onnx)' },
  { key: 'mobilenet_v2', path: join(ROOT, '.bench-onnx', 'mobilenet_v2.onnx'), note: 'full size, 224×224, opset 17 (.bench-onnx)' },
  ...['resnet18', 'mobilenet_v2'].flatMap((m) =>
    [13, 17].map((op) => ({ key: `${m}-op${op}`, path: join(ROOT, 'test-fixtures', 'onnx', `${m}-op${op}.onnx`), note: `reduced width, 112×112, opset ${op} (fixture)` })),
  ),
];

/** The worker that runs onnxruntime-web: one request per message, `{ id, ok }` or `{ id, error }` back. */
const ORT_WORKER = `
import * as ort from '/ort/ort.wasm.min.mjs';
let session = null;
let feeds = null;
let started = false;
self.onmessage = async (event) => {
  const { id, cmd } = event.data;
  try {
    if (cmd === 'load') {
      if (!started) {
        ort.env.wasm.numThreads = event.data.threads;
        ort.env.wasm.wasmPaths = '/ort/';
        ort.env.wasm.proxy = false;
        started = true;
      }
      if (session) await session.release();
      const bytes = new Uint8Array(await (await fetch(event.data.url)).arrayBuffer());
      session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
      const meta = session.inputMetadata?.[0];
      const shape = meta && meta.isTensor && meta.shape.every((d) => typeof d === 'number' && d > 0) ? meta.shape.slice() : [1, 3, event.data.size, event.data.size];
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      let s = 7;
      for (let i = 0; i < data.length; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        data[i] = (s / 4294967296 - 0.45) / 0.225;
      }
      feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };
      self.postMessage({ id, ok: { shape, isolated: self.crossOriginIsolated === true, threads: ort.env.wasm.numThreads, version: ort.env.versions?.web ?? ort.env.versions?.common ?? '' } });
    } else if (cmd === 'time') {
      const once = async () => {
        const t0 = performance.now();
        const out = await session.run(feeds);
        const first = out[session.outputNames[0]];
        await first.getData();
        const ms = performance.now() - t0;
        for (const v of Object.values(out)) v.dispose?.();
        return ms;
      };
      await once();
      const ms = [];
      for (let r = 0; r < event.data.runs; r++) ms.push(await once());
      self.postMessage({ id, ok: { ms } });
    }
  } catch (e) {
    self.postMessage({ id, error: String(e && e.stack || e) });
  }
};
`;

const ORT_PAGE = `<!doctype html><meta charset="utf-8"><title>onnxruntime-web bench</title>
<script type="module">
const worker = new Worker('/ort-worker.mjs', { type: 'module' });
let next = 0;
const waiting = new Map();
worker.onmessage = (e) => { const w = waiting.get(e.data.id); waiting.delete(e.data.id); e.data.error ? w.reject(new Error(e.data.error)) : w.resolve(e.data.ok); };
worker.onerror = (e) => { for (const w of waiting.values()) w.reject(new Error('worker error: ' + (e.message || 'unknown'))); waiting.clear(); };
window.ortAsk = (message) => new Promise((resolve, reject) => { const id = ++next; waiting.set(id, { resolve, reject }); worker.postMessage({ ...message, id }); });
window.ortReady = true;
</script>`;

const TYPES: Record<string, string> = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.onnx': 'application/octet-stream', '.png': 'image/png', '.html': 'text/html' };

/** onnxruntime-web's page and files, the models and the image: cross-origin isolated, readable from the app's origin. */
function startFileServer(models: BenchModel[], image: Buffer): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'cross-origin',
      'Access-Control-Allow-Origin': '*',
      'Cache-Control': 'no-store',
    };
    const send = (type: string, body: Buffer | string) => {
      res.writeHead(200, { ...headers, 'Content-Type': type });
      res.end(body);
    };
    if (path === '/favicon.ico') {
      res.writeHead(204, headers);
      return res.end();
    }
    if (path === '/') return send(TYPES['.html']!, ORT_PAGE);
    if (path === '/ort-worker.mjs') return send(TYPES['.mjs']!, ORT_WORKER);
    if (path === '/image.png') return send(TYPES['.png']!, image);
    if (path.startsWith('/ort/') && ORT_FILES.has(basename(path))) return send(TYPES[extname(path)]!, readFileSync(join(ORT_DIST, basename(path))));
    const model = models.find((m) => path === `/models/${m.key}.onnx`);
    if (model) return send(TYPES['.onnx']!, readFileSync(model.path));
    res.writeHead(404, headers);
    res.end('not found');
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    ok({ server, origin: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` });
  }));
}

/**
 * The app's page gets the model and the image from its own origin (its CSP allows no other):
 * `/__onnx/…`, answered by Playwright from the same files the onnxruntime-web page reads.
 */
async function routeFiles(page: Page, models: BenchModel[], image: Buffer): Promise<void> {
  await page.route('**/__onnx/**', async (route) => {
    const name = new URL(route.request().url()).pathname.replace(/^.*\/__onnx\//, '');
    const headers = { 'Cross-Origin-Resource-Policy': 'same-origin' };
    if (name === 'image.png') return route.fulfill({ status: 200, body: image, headers, contentType: 'image/png' });
    const model = models.find((m) => name === `${m.key}.onnx`);
    return model ? route.fulfill({ status: 200, path: model.path, headers }) : route.fulfill({ status: 404, body: 'not found' });
  });
}

/** The app opens the model and the image as a drop would; returns the model's input size. */
function openInApp(page: Page, key: string): Promise<{ size: number; layer: string }> {
  return page.evaluate(
    async (key) => {
      const studio = (window as unknown as { __studio: Studio }).__studio;
      const get = async (url: string, name: string) => {
        const response = await fetch(url);
        if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
        return { file: new File([await response.blob()], name) };
      };
      const dropped = [await get(`/__onnx/${key}.onnx`, `${key}.onnx`), await get('/__onnx/image.png', 'noise.png')];
      const result = await studio.client.call('openFiles', [dropped]);
      if (!result.model) throw new Error(`${key}: the model did not open`);
      const summary = result.model.summary;
      return { size: summary.imageSize[0], layer: summary.defaultLayerPath ?? '' };
    },
    key,
  );
}

interface Row {
  model: string;
  note: string;
  /** The module our Grad-CAM explained (the tree's default). */
  defaultLayer: string;
  inputShape: number[];
  ours: { forward: number[]; gradcam: number[] };
  ort: number[];
  forward: Stats;
  gradcam: Stats;
  ortForward: Stats;
  /** Median ours / median onnxruntime-web, and fastest / fastest. */
  ratio: number;
  ratioOfFastest: number;
  withinTarget: boolean;
  profile?: KernelProfile;
}

const TARGET = 1.5;
const round2 = (v: number) => Math.round(v * 100) / 100;

async function main(): Promise<void> {
  if (!existsSync(join(ORT_DIST, 'ort.wasm.min.mjs'))) throw new Error('bench:onnx-web: onnxruntime-web is not installed (npm install)');
  const wanted = argument('models', ALL_MODELS.map((m) => m.key).join(',')).split(',');
  for (const k of wanted) if (!ALL_MODELS.some((m) => m.key === k)) throw new Error(`bench:onnx-web: unknown model ${k}; choose from ${ALL_MODELS.map((m) => m.key).join(', ')}`);
  const models = ALL_MODELS.filter((m) => wanted.includes(m.key) && existsSync(m.path) && statSync(m.path).isFile());
  for (const m of ALL_MODELS) if (wanted.includes(m.key) && !models.includes(m)) console.log(`  ${m.key}: ${m.path} is absent (npm run bench:onnx exports the full-size models): skipped`);
  const rounds = Number(argument('rounds', '3'));
  const runs = Number(argument('runs', '3'));
  const threads = Number(argument('threads', '2'));
  const out = argument('out', 'bench-report-onnx-web.json');
  const profile = !process.argv.includes('--no-profile');

  const image = benchImage();
  const { server, origin: files } = await startFileServer(models, image);
  const dist = argument('dist', 'dist');
  const preview = dist === 'dist' ? startPreview(PORT) : startPreviewOf(dist, PORT);
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  const rows: Row[] = [];
  let ours: string;
  let theirs = '';
  try {
    await waitForServer(`${ORIGIN}/`, 60_000);
    const app = await browser.newPage({ serviceWorkers: 'block' });
    await routeFiles(app, models, image);
    await preparePage(app, threads);
    const backend = await app.evaluate(() => (window as unknown as { __studio: Studio }).__studio.client.backend!);
    if (backend.name !== 'wasm') throw new Error(`bench:onnx-web: the app started ${backend.name}, not wasm`);
    ours = `Grad-CAM Studio worker, tfjs WASM, ${backend.threads ?? 1} thread(s) (${backend.reason ?? ''})`;
    const ortPage = await browser.newPage();
    ortPage.on('console', (m) => {
      if (m.type() === 'error') console.error(`  [ort page] ${m.text().slice(0, 300)}`);
    });
    ortPage.on('pageerror', (e) => console.error(`  [ort page] ${e.message}`));
    await ortPage.goto(`${files}/`);
    await ortPage.waitForFunction(() => (window as unknown as { ortReady?: boolean }).ortReady === true);
    const ortAsk = <T>(message: Record<string, unknown>) => ortPage.evaluate((m) => (window as unknown as { ortAsk: (m: unknown) => Promise<unknown> }).ortAsk(m), message) as Promise<T>;

    for (const m of models) {
      const opened = await openInApp(app, m.key);
      const loaded = await ortAsk<{ shape: number[]; isolated: boolean; threads: number; version: string }>({ cmd: 'load', url: `${files}/models/${m.key}.onnx`, threads, size: opened.size || 224 });
      if (!loaded.isolated && threads > 1) throw new Error('bench:onnx-web: the onnxruntime-web page is not cross-origin isolated: no threads');
      theirs = `onnxruntime-web ${loaded.version}, WASM (SIMD, threaded build), numThreads ${loaded.threads}, in a dedicated worker`;
      const cases: BenchCase[] = [
        { label: 'forward', methods: 'forward' },
        { label: 'gradcam', methods: ['gradcam'] },
      ];
      const timing = { forward: [] as number[], gradcam: [] as number[] };
      const ort: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const result = await benchmarkIn(app, { runs, cases });
        for (const c of result.cases) timing[c.label as 'forward' | 'gradcam'].push(...c.runs);
        ort.push(...(await ortAsk<{ ms: number[] }>({ cmd: 'time', runs })).ms);
        console.log(`  ${m.key} round ${round + 1}/${rounds}: forward ours ${stats(timing.forward).median} ms / onnxruntime-web ${stats(ort).median} ms, Grad-CAM ${stats(timing.gradcam).median} ms`);
      }
      const forward = stats(timing.forward);
      const gradcam = stats(timing.gradcam);
      const ortForward = stats(ort);
      const ratio = round2(forward.median / ortForward.median);
      const ratioOfFastest = round2(forward.min / ortForward.min);
      const row: Row = { model: m.key, note: m.note, defaultLayer: opened.layer, inputShape: loaded.shape, ours: timing, ort, forward, gradcam, ortForward, ratio, ratioOfFastest, withinTarget: ratio <= TARGET };
      if (profile) row.profile = (await benchmarkIn(app, { runs: 0, cases: [{ label: 'forward', methods: 'forward', profile: true }] })).cases[0]?.profile;
      rows.push(row);
    }
  } finally {
    await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 30_000))]);
    stopPreview(preview);
    server.close();
  }

  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM`;
  console.log(`\nmachine: ${machine}, ${browser.version()}\nours: ${ours}\ntheirs: ${theirs}\n${rounds} rounds × ${runs} runs, interleaved; median ms (fastest)\n`);
  console.log('| model | input | ours forward | onnxruntime-web forward | ours / ort-web | ours Grad-CAM (default module, cold) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.model} | ${r.inputShape.join('×')} | ${r.forward.median} (${r.forward.min}) | ${r.ortForward.median} (${r.ortForward.min}) | ${r.ratio}× (${r.ratioOfFastest}×) | ${r.gradcam.median} (${r.gradcam.min}) |`);
  }
  for (const r of rows) {
    if (!r.profile) continue;
    const top = r.profile.kernels.slice(0, 6).map((k) => `${k.name} ${k.ms} ms ×${k.calls}`).join(', ');
    console.log(`\n${r.model}, our forward under tf.profile: ${r.profile.wallMs} ms wall, ${r.profile.kernelMs} ms in kernels: ${top}`);
  }
  const misses = rows.filter((r) => !r.withinTarget).map((r) => `${r.model}: forward ${r.ratio}× onnxruntime-web's (target ≤ ${TARGET}×)`);
  console.log(misses.length ? `\nTarget MISSED:\n  ${misses.join('\n  ')}` : `\nTarget met: forward within ${TARGET}× of onnxruntime-web on every model.`);
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine, browser: browser.version(), ours, theirs, threads, rounds, runs, target: TARGET, rows, targetMissed: misses }, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

await main();
