/**
 * `npm run bench` — Node version of the benchmark (the browser/worker version reuses
 * bench-models.ts). On models shaped like MobileNetV2, VGG16 and ResNet50 at 224×224 (random
 * weights, base nested in a classifier) it times, through the engine's LoadedModel on WASM with the
 * fast gradient kernels: the forward pass, Grad-CAM at the last conv layer and at an early layer,
 * guided backprop and guided Grad-CAM — each from a cold per-image cache, so every explanation
 * includes its own forward pass — and prints median/min/max with the ratio to the forward pass.
 * Then every other method of the registry at the last conv layer (input methods at the input), each
 * as × the forward pass beside its multiply-add floor (bench-floor.ts methodFloor) and the ratio of
 * the two; SmoothGrad and Integrated Gradients with few samples (the floor counts them), Score-CAM
 * (one forward pass per channel) on MobileNetV2 only unless --scorecam all, and — on the first model
 * it runs on — a cancelled Score-CAM, timed from the abort to the rejection.
 *
 * Usage: npm run bench:node [-- --models mobilenet_v2,resnet50 --runs 5 --backend wasm --out bench-report.json
 *   --methods gradcam-plus-plus,scorecam|none --scorecam all --samples 8 --steps 16]
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { useBackend, loadedModelFromLayersModel, type LoadedModel, flattenTree, type RawImage } from '../src/engine';
import type { ExplainOptions } from '../src/shared/types';
import { METHOD_IDS, isMethodId, methodInfo, type MethodId } from '../src/shared/methods';
import { StudioError } from '../src/shared/errors';
import { BENCH_MODELS, buildBenchModel, type BenchModelName } from './bench-models';
import { stats, type Stats } from './bench-stats';
import { gradientFloors, methodFloor, type GradientFloors } from './bench-floor';

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
  /** Every other method, cold, at the last layer (input methods at the input). */
  methods: MethodReport[];
  /** A Score-CAM aborted mid-way: ms from the abort to the rejection (CANCELLED). */
  scoreCamCancelMs?: number;
}

interface MethodReport {
  method: MethodId;
  options: Record<string, number | string>;
  timingsMs: Stats;
  /** Median over the forward pass's median, and fastest run over the fastest forward. */
  ratio: number;
  ratioOfFastest: number;
  /** × forward, by multiply-adds (methodFloor). */
  floor: number;
  /** The better of the two ratios over the floor: the target is ≤ 1.5. */
  overFloor: number;
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

/**
 * The methods of the second table (the first one covers Grad-CAM, guided backprop and guided
 * Grad-CAM); the perturbation methods have their own bench (bench-perturbation.ts).
 */
const EXTRA_METHODS: readonly MethodId[] = METHOD_IDS.filter((m) => !['gradcam', 'guided-backprop', 'guided-gradcam'].includes(m) && methodInfo(m).cost !== 'forward-per-sample');

interface BenchSettings {
  runs: number;
  methods: readonly MethodId[];
  scoreCamEverywhere: boolean;
  samples: number;
  steps: number;
  timeCancel: boolean;
}

async function benchModel(name: BenchModelName, settings: BenchSettings): Promise<ModelReport> {
  const { runs } = settings;
  const built = buildBenchModel(name);
  const floors = gradientFloors(built.model, built.lastLayer, built.earlyLayer);
  const loaded = await loadedModelFromLayersModel(built.model, { name });
  const image = randomImage(224, 7);
  const last = layerPathByName(loaded, built.lastLayer);
  const early = layerPathByName(loaded, built.earlyLayer);
  const explain = (methods: MethodId[], layerPath?: string, extra: Partial<ExplainOptions> = {}) => async () => {
    loaded.clearCache(); // cold: every explanation pays for its own forward pass
    await loaded.explain(image, { methods, layerPath, target: 0, ...extra });
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

  const lastSlot = loaded.program.slotsByPath.get(last)!;
  const methods: MethodReport[] = [];
  for (const method of settings.methods) {
    if (method === 'scorecam' && !settings.scoreCamEverywhere && name !== 'mobilenet_v2') continue;
    const info = methodInfo(method);
    const hasOption = (name: string) => info.options.some((o) => o.name === name);
    const options: Record<string, number | string> = hasOption('samples') ? { samples: settings.samples } : hasOption('steps') ? { steps: settings.steps } : {};
    const fn = explain([method], info.needs === 'layer' ? last : undefined, { methodOptions: { [method]: options } });
    // The costly ones: no warm-up (their kernels are warm from the cases above) and fewer runs.
    const costly = info.cost === 'forward-per-channel' || info.cost === 'pass-per-sample' || info.cost === 'downstream-per-channel';
    if (!costly) await fn();
    const s = await timeIt(info.cost === 'forward-per-channel' ? 1 : costly ? Math.min(runs, 2) : runs, fn);
    const floor = methodFloor(loaded.program, method, lastSlot, options);
    const ratio = s.median / forward;
    const ratioOfFastest = s.min / timingsMs.forward!.min;
    const round = (v: number) => Math.round(v * 100) / 100;
    methods.push({ method, options, timingsMs: s, ratio: round(ratio), ratioOfFastest: round(ratioOfFastest), floor, overFloor: round(Math.min(ratio, ratioOfFastest) / floor) });
    console.log(`  ${name} ${method}: median ${s.median} ms (${ratio.toFixed(2)}× / fastest ${ratioOfFastest.toFixed(2)}×, floor ${floor}×)`);
  }

  let scoreCamCancelMs: number | undefined;
  if (settings.timeCancel && settings.methods.includes('scorecam')) {
    const controller = new AbortController();
    loaded.clearCache();
    let abortedAt = 0;
    const run = loaded.explain(image, { methods: ['scorecam'], layerPath: last, target: 0 }, controller.signal, (p) => {
      if (p.method === 'scorecam' && p.fraction > 0.05 && !controller.signal.aborted) {
        abortedAt = performance.now();
        controller.abort();
      }
    });
    try {
      await run;
      console.log(`  ${name} scorecam: NOT cancelled`);
    } catch (e) {
      if (!(e instanceof StudioError && e.code === 'CANCELLED')) throw e;
      scoreCamCancelMs = Math.round(performance.now() - abortedAt);
      console.log(`  ${name} scorecam cancelled ${scoreCamCancelMs} ms after the abort`);
    }
  }

  const params = loaded.summary.params;
  const tensorsBefore = tf.memory().numTensors;
  loaded.dispose();
  if (tf.memory().numTensors > tensorsBefore) throw new Error('bench: dispose freed nothing');
  return { model: name, params, lastLayer: last, earlyLayer: early, timingsMs, ratios, floors, methods, scoreCamCancelMs };
}

function methodTable(reports: ModelReport[]): string {
  const ids = [...new Set(reports.flatMap((r) => r.methods.map((m) => m.method)))];
  const header = `| method | ${reports.map((r) => r.model).join(' | ')} |\n| --- | ${reports.map(() => '---').join(' | ')} |`;
  const rows = ids.map((id) => {
    const cells = reports.map((r) => {
      const m = r.methods.find((x) => x.method === id);
      if (!m) return '—';
      return `${m.timingsMs.median.toFixed(0)} ms: ${m.ratio.toFixed(2)}× / ${m.ratioOfFastest.toFixed(2)}× (floor ${m.floor}×, ${m.overFloor.toFixed(2)}× it)`;
    });
    const options = reports.flatMap((r) => r.methods).find((x) => x.method === id)?.options ?? {};
    const settings = Object.entries(options).map(([k, v]) => `${k} ${v}`).join(', ');
    return `| ${id}${settings ? ` (${settings})` : ''} | ${cells.join(' | ')} |`;
  });
  return [header, ...rows].join('\n');
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
  const methodArg = argument('methods', 'all');
  const methods = methodArg === 'all' ? EXTRA_METHODS : methodArg === 'none' ? [] : methodArg.split(',').filter(isMethodId);
  const settings: BenchSettings = {
    runs, methods, scoreCamEverywhere: argument('scorecam', '') === 'all',
    samples: Number(argument('samples', '8')), steps: Number(argument('steps', '16')), timeCancel: true,
  };
  await useBackend(backend);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
  console.log(`bench on ${tf.getBackend()} (${machine}), ${runs} runs each, cold per-image cache`);
  const reports: ModelReport[] = [];
  for (const name of models) {
    if (!BENCH_MODELS.includes(name)) throw new Error(`bench: unknown model ${name}; choose from ${BENCH_MODELS.join(', ')}`);
    reports.push(await benchModel(name, settings));
    settings.timeCancel = false; // once is enough
  }
  console.log('\nmedian (ratio to forward, ≥ multiply-add floor)\n' + table(reports));
  if (methods.length > 0) {
    console.log('\nthe other methods, cold, at the last conv layer (input methods at the input): median ms: median ratio / fastest-run ratio to the forward pass (multiply-add floor, the better ratio over the floor)\n' + methodTable(reports));
    const worst = reports.flatMap((r) => r.methods.map((m) => ({ model: r.model, ...m }))).sort((a, b) => b.overFloor - a.overFloor)[0];
    if (worst) console.log(`\nfarthest from its floor: ${worst.method} on ${worst.model}, ${worst.overFloor.toFixed(2)}× the floor (target ≤ 1.5×)`);
  }
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), environment: 'node', backend: tf.getBackend(), machine, runs, fastWasmGradients: backend === 'wasm', reports }, null, 2) + '\n');
  console.log(`\nwrote ${out}`);
}

await main();
