/**
 * `npm run bench` — Node version of the benchmark (the browser/worker version reuses
 * bench-models.ts). On models shaped like MobileNetV2, VGG16 and ResNet50 at 224×224 (random
 * weights, base nested in a classifier) it times, through the engine's LoadedModel on WASM with the
 * fast gradient kernels: the forward pass, Grad-CAM at the last conv layer and at an early layer,
 * guided backprop and guided Grad-CAM — each from a cold per-image cache, so every explanation
 * includes its own forward pass — and prints median/min/max with the ratio to the forward pass.
 *
 * Usage: npm run bench [-- --models mobilenet_v2,resnet50 --runs 5 --backend wasm --out bench-report.json]
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerFastWasmGradients } from '../src/engine/kernels/wasm-gradients';
import { loadedModelFromLayersModel, type LoadedModel } from '../src/engine/model';
import { flattenTree } from '../src/engine/tree';
import type { RawImage } from '../src/engine/files';
import type { ExplainMethod } from '../src/shared/types';
import { BENCH_MODELS, buildBenchModel, type BenchModelName } from './bench-models';
import { stats, type Stats } from './bench-stats';
import { gradientFloors, type GradientFloors } from './bench-floor';

interface ModelReport {
  model: string;
  params: number;
  lastLayer: string;
  earlyLayer: string;
  timingsMs: Record<string, Stats>;
  /** Each measurement's median over the forward pass's median. */
  ratios: Record<string, number>;
  /** The least each case can cost (× forward) by multiply-adds: bench-floor.ts. */
  floors: GradientFloors;
}

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1]! : fallback;
}


function randomImage(size: number, seed: number): RawImage {
  let state = seed >>> 0;
  const data = new Uint8ClampedArray(size * size * 4);
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = i % 4 === 3 ? 255 : state >>> 24;
  }
  return { width: size, height: size, data };
}

function layerPathByName(loaded: LoadedModel, name: string): string {
  const node = flattenTree(loaded.summary.tree).find((n) => n.name === name);
  if (!node) throw new Error(`bench: no layer named ${name}`);
  return node.path;
}

async function timeIt(runs: number, fn: () => Promise<unknown>): Promise<Stats> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return stats(times);
}

async function benchModel(name: BenchModelName, runs: number): Promise<ModelReport> {
  const built = buildBenchModel(name);
  const floors = gradientFloors(built.model, built.lastLayer, built.earlyLayer);
  const loaded = await loadedModelFromLayersModel(built.model, { name });
  const image = randomImage(224, 7);
  const last = layerPathByName(loaded, built.lastLayer);
  const early = layerPathByName(loaded, built.earlyLayer);
  const explain = (methods: ExplainMethod[], layerPath?: string) => async () => {
    loaded.clearCache(); // cold: every explanation pays for its own forward pass
    await loaded.explain(image, { methods, layerPath, target: 0 });
  };
  const cases: Array<[string, () => Promise<unknown>]> = [
    ['forward', async () => { loaded.clearCache(); await loaded.predict(image); }],
    ['gradcam_last', explain(['gradcam'], last)],
    ['gradcam_early', explain(['gradcam'], early)],
    ['guided_backprop', explain(['guided-backprop'])],
    ['guided_gradcam', explain(['guided-gradcam'], last)],
  ];
  const timingsMs: Record<string, Stats> = {};
  for (const [label, fn] of cases) {
    await fn(); // warm-up: kernel setup, XNNPACK operator creation
    timingsMs[label] = await timeIt(runs, fn);
    console.log(`  ${name} ${label}: median ${timingsMs[label].median} ms`);
  }
  const forward = timingsMs.forward!.median;
  const ratios = Object.fromEntries(Object.entries(timingsMs).map(([k, s]) => [k, Math.round((s.median / forward) * 100) / 100]));
  const params = loaded.summary.params;
  const tensorsBefore = tf.memory().numTensors;
  loaded.dispose();
  if (tf.memory().numTensors > tensorsBefore) throw new Error('bench: dispose freed nothing');
  return { model: name, params, lastLayer: last, earlyLayer: early, timingsMs, ratios, floors };
}

function table(reports: ModelReport[]): string {
  const columns = ['forward', 'gradcam_last', 'gradcam_early', 'guided_backprop', 'guided_gradcam'];
  const header = ['model', ...columns].map((c) => c.padEnd(30)).join('');
  const floorOf = (r: ModelReport, c: string) => (r.floors as unknown as Record<string, number | undefined>)[c];
  const cell = (r: ModelReport, c: string) => `${r.timingsMs[c]!.median.toFixed(0)} ms (${r.ratios[c]!.toFixed(2)}×${floorOf(r, c) ? `, ≥${floorOf(r, c)!.toFixed(2)}` : ''})`;
  const rows = reports.map((r) => [r.model, ...columns.map((c) => cell(r, c))].map((c) => c.padEnd(30)).join(''));
  return [header, ...rows].join('\n');
}

async function main(): Promise<void> {
  const backend = argument('backend', 'wasm');
  const runs = Number(argument('runs', '5'));
  const models = argument('models', BENCH_MODELS.join(',')).split(',') as BenchModelName[];
  const out = argument('out', 'bench-report.json');
  await tf.setBackend(backend);
  if (backend === 'wasm') registerFastWasmGradients();
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
  console.log(`bench on ${tf.getBackend()} (${machine}), ${runs} runs each, cold per-image cache`);
  const reports: ModelReport[] = [];
  for (const name of models) {
    if (!BENCH_MODELS.includes(name)) throw new Error(`bench: unknown model ${name}; choose from ${BENCH_MODELS.join(', ')}`);
    reports.push(await benchModel(name, runs));
  }
  console.log('\nmedian (ratio to forward, ≥ multiply-add floor)\n' + table(reports));
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), environment: 'node', backend: tf.getBackend(), machine, runs, fastWasmGradients: backend === 'wasm', reports }, null, 2) + '\n');
  console.log(`\nwrote ${out}`);
}

await main();
