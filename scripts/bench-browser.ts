/**
 * `npm run bench` — the benchmark on the real product path: headless Chromium, the built app, its
 * computation worker. Models with the shapes of MobileNetV2 (alpha 1.0), VGG16 and ResNet50 at
 * 224×224 (random seeded weights, base nested in a classifier; scripts/bench-models.ts) are built
 * here in Node, saved as TF.js files and handed to the app's worker client (`client.openFiles`,
 * as a drop would); the worker then times, per backend: the forward pass, Grad-CAM at the last and
 * at an early layer, guided backprop and guided Grad-CAM — "cold" (the per-image activation cache
 * cleared: one explanation of a new image, forward pass included) and "warm" (cached activations,
 * a new class each run). Main-thread long tasks (> 50 ms) are counted during the runs.
 *
 * Then every method of the registry (src/shared/methods.ts), cold, at the last conv layer (input
 * methods at the input), with its registry defaults, as × the forward pass beside its multiply-add
 * floor (bench-floor.ts methodFloor); the target is ≤ 1.5× the floor by median and by fastest run.
 * The single-pass methods are timed in the same interleaved rounds as the cases above; the costly
 * ones (Score-CAM, Ablation-CAM, SmoothGrad, Integrated Gradients) after them, each on its own: up to
 * 3 runs when one is estimated (floor × forward) at ≤ 10 s, else one cold run timed around the worker
 * call (the worker's untimed warm-up run is that run), and skipped above --max-method-s (Score-CAM on
 * VGG16 and ResNet50: 513 and 2049 forward passes). Where Score-CAM ran, a second one is started
 * through the client's explain with an AbortSignal, aborted after --cancel-after-ms, and the time
 * until the worker is free again is printed.
 * Prints tables and writes a JSON report (git-ignored). The Node-only variant is scripts/bench.ts.
 *
 * `--metrics` runs instead only the cost of the faithfulness curves: the forward pass, and the
 * deletion + insertion curves (--metrics-steps, default 20: 2 × 21 perturbed images in batches of 16)
 * of Grad-CAM's map at the last conv layer, as × the forward pass.
 *
 * Usage: npm run bench [-- --models mobilenet_v2,vgg16 --runs 3 --methods all|classic|classic,id,… --max-method-s 150
 *   --cancel-after-ms 3000 --backends wasm,webgpu --out bench-report.json --dist dist]
 * (`npm run bench` builds the app first; the script serves dist/ — or --dist, a build of its own made
 * with `npx vite build --outDir <dir>` — with its own `vite preview`.)
 */
import type { BackendName } from '../src/shared/types';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import * as tf from '@tensorflow/tfjs';
import type { BenchCase, KernelProfile } from '../src/protocol';
import { CLASSIC_METHODS, METHOD_IDS, isMethodId, methodInfo, methodSettingsText, resolveMethodOptions, type MethodCost, type MethodId, type MethodOptionValue } from '../src/shared/methods';
import { BENCH_MODELS, type BenchModelName } from './bench-models';
import { stats, type Stats } from './bench-stats';
import type { GradientFloors } from './bench-floor';
import {
  argument, benchImage, benchmarkIn, ensureModelFiles, LONG_TASK_MS, longTasks, MODEL_DIR, openBenchModel, ORIGIN, PORT, preparePage, startPreviewOf, type Studio,
} from './bench-page';
import { CHROMIUM_ARGS, CHROMIUM_PATH, FIXTURES, WEBGPU_SWIFTSHADER_ARGS } from '../e2e/helpers';
import { startPreview, stopPreview, waitForServer } from './preview-server';

/** Timed runs per model: more for the small one (its ratios are the noisiest); ~8 minutes in all on 2 cores. */
const DEFAULT_RUNS: Record<BenchModelName, number> = { mobilenet_v2: 9, vgg16: 3, resnet50: 5 };
/** Every method's target: cold, × forward, at most this many times its multiply-add floor. */
const METHOD_TARGET = 1.5;
/** The methods that cost one pass (or two) after the forward pass: timed in the interleaved rounds. */
const SINGLE_PASS: ReadonlySet<MethodCost> = new Set<MethodCost>(['activations', 'backward-to-layer', 'backward-to-input', 'backward-to-layer-and-input']);
/** The methods the first table already times, and under which label. */
const BASE_CASE_OF: Partial<Record<MethodId, string>> = { gradcam: 'gradcam_last', 'guided-backprop': 'guided_backprop', 'guided-gradcam': 'guided_gradcam' };
/** Costly methods estimated at most this long per run get several runs; longer ones one. */
const REPEAT_UNDER_MS = 10_000;
const COSTLY_RUNS = 3;

interface MethodReport {
  method: MethodId;
  /** methodSettingsText: the method with its (default) settings. */
  label: string;
  options: Record<string, MethodOptionValue>;
  /** 'worker': timed in the worker (after its untimed warm-up run); 'page': one cold run timed around the worker call. */
  timedBy: 'worker' | 'page';
  timingsMs: Stats;
  /** Median over the forward pass's median, and fastest run over the fastest forward pass. */
  ratio: number;
  ratioOfFastest: number;
  /** × forward, by multiply-adds (bench-floor.ts methodFloor). */
  floor: number;
  /** Each ratio over the floor: the target is ≤ 1.5 for both. */
  overFloor: number;
  overFloorOfFastest: number;
  withinTarget: boolean;
}

interface CancelReport {
  /** ms from the explain call to the abort, and Score-CAM's progress then (last reported). */
  abortAfterMs: number;
  fractionAtAbort: number;
  /** 'CANCELLED' expected. */
  outcome: string;
  /** ms from the abort until the client's promise rejected (on the page: at once). */
  rejectedMs: number;
  /** ms from the abort until the worker was free (a benchmark call queued behind the explanation returned). */
  stoppedMs: number;
  progressAfterAbort: number;
  /** A forward pass right after, ms (≈ the forward median when nothing is left running). */
  forwardAfterMs: number;
}

interface ModelReport {
  model: string;
  backend: string;
  /** WASM: XNNPACK's thread pool as the worker started it (1 = single-threaded). */
  threads: number;
  /** With --threads: one profiled run of these cases, kernel by kernel. */
  profiles: Record<string, KernelProfile>;
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
  /** Every method asked for, cold, at the last layer (input methods at the input). */
  methods: MethodReport[];
  /** Methods not run on this model, and why. */
  skipped: string[];
  /** A Score-CAM cancelled through the client (where Score-CAM ran). */
  scoreCamCancel?: CancelReport;
  longTasks: number;
  longestTaskMs: number;
}

interface MethodSettings {
  /** The registry methods to time (the first table's cases always run). */
  methods: readonly MethodId[];
  /** Costly methods estimated (floor × forward median) above this are skipped. */
  maxMethodMs: number;
  /** Where Score-CAM ran: abort a second one this long after starting it. */
  cancelAfterMs: number;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

function methodReport(id: MethodId, timings: Stats, forward: Stats, floor: number, timedBy: MethodReport['timedBy']): MethodReport {
  const ratio = round2(timings.median / forward.median);
  const ratioOfFastest = round2(timings.min / forward.min);
  const overFloor = round2(ratio / floor);
  const overFloorOfFastest = round2(ratioOfFastest / floor);
  const options = resolveMethodOptions(id);
  return {
    method: id, label: methodSettingsText(id, options), options, timedBy, timingsMs: timings, ratio, ratioOfFastest, floor,
    overFloor, overFloorOfFastest, withinTarget: overFloor <= METHOD_TARGET && overFloorOfFastest <= METHOD_TARGET,
  };
}

/** One cold run of `c`, timed on the page around the worker call (runs: 0 — the worker's warm-up run is the only run). */
function timedOnce(page: Page, c: BenchCase): Promise<number> {
  return page.evaluate(async (benchCase) => {
    const t0 = performance.now();
    await (window as unknown as { __studio: Studio }).__studio.client.call('benchmark', [{ runs: 0, cases: [benchCase] }]);
    return performance.now() - t0;
  }, c);
}

/**
 * Score-CAM started through the client's explain with an AbortSignal, aborted after `afterMs`. The
 * client's promise rejects at once; the worker stops at its next check (between batches): a
 * benchmark call (which waits for the worker's explanation chain) returns when it has.
 */
function cancelScoreCam(page: Page, layerPath: string, afterMs: number): Promise<CancelReport> {
  return page.evaluate(
    async ({ layerPath, afterMs }) => {
      const client = (window as unknown as { __studio: Studio }).__studio.client;
      const controller = new AbortController();
      let fraction = 0;
      let abortedAt = 0;
      let progressAfterAbort = 0;
      const started = performance.now();
      const outcome = client
        .call('explain', [{ methods: ['scorecam'], layerPath, target: 0 }], {
          signal: controller.signal,
          onProgress: (event) => {
            if (!('explain' in event)) return;
            fraction = event.explain.fraction;
            if (abortedAt) progressAfterAbort++;
          },
        })
        .then(
          () => 'completed (not cancelled)',
          (e: unknown) => String((e as { code?: unknown })?.code ?? e),
        );
      await new Promise((r) => setTimeout(r, afterMs));
      const fractionAtAbort = fraction;
      abortedAt = performance.now();
      controller.abort();
      const code = await outcome;
      const rejectedMs = performance.now() - abortedAt;
      await client.call('benchmark', [{ runs: 0, cases: [] }]);
      const stoppedMs = performance.now() - abortedAt;
      const after = await client.call('benchmark', [{ runs: 1, cases: [{ label: 'forward', methods: 'forward' }] }]);
      return { abortAfterMs: abortedAt - started, fractionAtAbort, outcome: code, rejectedMs, stoppedMs, progressAfterAbort, forwardAfterMs: after.cases[0]?.runs[0] ?? NaN };
    },
    { layerPath, afterMs },
  );
}

interface MetricsReport {
  model: string;
  backend: string;
  steps: number;
  forwardMs: Stats;
  curvesMs: Stats;
  /** Median over the forward median, and fastest over fastest. */
  ratio: number;
  ratioOfFastest: number;
  /** Forward passes the curves run (2 × (steps + 1) + 1): what a one-image-at-a-time implementation would cost. */
  passes: number;
}

/** `--metrics`: the deletion + insertion curves of Grad-CAM's map against the forward pass. */
async function benchMetrics(page: Page, backend: string, name: BenchModelName, runs: number, steps: number): Promise<MetricsReport> {
  const model = await ensureModelFiles(name);
  const paths = await openBenchModel(page, name, model.files);
  const last = paths[model.lastLayer];
  if (!last) throw new Error(`bench: layer ${model.lastLayer} not in the tree`);
  const result = await benchmarkIn(page, {
    runs,
    cases: [
      { label: 'forward', methods: 'forward' },
      { label: 'curves', methods: ['gradcam'], layerPath: last, metricsSteps: steps },
    ],
  });
  const forwardMs = stats(result.cases[0]!.runs);
  const curvesMs = stats(result.cases[1]!.runs);
  const report: MetricsReport = {
    model: name, backend, steps, forwardMs, curvesMs,
    ratio: Math.round((curvesMs.median / forwardMs.median) * 100) / 100,
    ratioOfFastest: Math.round((curvesMs.min / forwardMs.min) * 100) / 100,
    passes: 2 * (steps + 1) + 1,
  };
  console.log(`  ${backend} ${name}: forward ${forwardMs.median} ms (min ${forwardMs.min}); deletion + insertion at ${steps} steps ${curvesMs.median} ms (min ${curvesMs.min}) = ${report.ratio}× / fastest ${report.ratioOfFastest}× forward, for ${report.passes} images`);
  return report;
}

/** The cases profiled kernel by kernel when threads are compared. */
const PROFILED_CASES = ['forward', 'gradcam_last', 'guided_backprop'];

async function benchModel(page: Page, backend: string, name: BenchModelName, runs: number, settings: MethodSettings, threads = 1, profile = false): Promise<ModelReport> {
  const model = await ensureModelFiles(name);
  const t0 = performance.now();
  const paths = await openBenchModel(page, name, model.files);
  console.log(`  ${name}: opened in the worker in ${Math.round(performance.now() - t0)} ms`);
  const last = paths[model.lastLayer];
  const early = paths[model.earlyLayer];
  if (!last || !early) throw new Error(`bench: layers ${model.lastLayer} / ${model.earlyLayer} not in the tree`);
  const methodCase = (id: MethodId): BenchCase => ({ label: id, methods: [id], ...(methodInfo(id).needs === 'layer' ? { layerPath: last } : {}) });
  const singlePass = settings.methods.filter((id) => SINGLE_PASS.has(methodInfo(id).cost));
  const costly = settings.methods.filter((id) => !SINGLE_PASS.has(methodInfo(id).cost));
  const cases: BenchCase[] = [
    { label: 'forward', methods: 'forward' },
    { label: 'gradcam_last', methods: ['gradcam'], layerPath: last },
    { label: 'gradcam_early', methods: ['gradcam'], layerPath: early },
    { label: 'guided_backprop', methods: ['guided-backprop'] },
    { label: 'guided_gradcam', methods: ['guided-gradcam'], layerPath: last },
    { label: 'gradcam_last_warm', methods: ['gradcam'], layerPath: last, warm: true },
    { label: 'gradcam_early_warm', methods: ['gradcam'], layerPath: early, warm: true },
    { label: 'guided_backprop_warm', methods: ['guided-backprop'], warm: true },
    { label: 'live_frame', methods: 'live-frame', layerPath: last },
    // The other single-pass methods, cold, in the same rounds (the three above are reused).
    ...singlePass.filter((id) => !BASE_CASE_OF[id]).map(methodCase),
  ];
  if (profile) for (const c of cases) if (PROFILED_CASES.includes(c.label)) c.profile = true;
  await longTasks(page, true);
  // All cases in one call: the worker interleaves them round by round (fair on a busy machine).
  const result = await benchmarkIn(page, { runs, cases });
  const timingsMs: Record<string, Stats> = {};
  const profiles: Record<string, KernelProfile> = {};
  for (const c of result.cases) {
    if (c.profile) profiles[c.label] = c.profile;
    timingsMs[c.label] = stats(c.runs);
    console.log(`  ${backend} ${name} ${c.label}: median ${timingsMs[c.label]!.median} ms (min ${timingsMs[c.label]!.min})`);
  }
  const forwardStats = timingsMs.forward!;
  const floorOf = (id: MethodId) => {
    const floor = model.methodFloors[id];
    if (floor === undefined) throw new Error(`bench: no floor for ${id}`);
    return floor;
  };
  const methods: MethodReport[] = [];
  const skipped: string[] = [];
  for (const id of singlePass) methods.push(methodReport(id, timingsMs[BASE_CASE_OF[id] ?? id]!, forwardStats, floorOf(id), 'worker'));

  // The costly methods, one at a time after the rounds.
  let scoreCamRan = false;
  for (const id of costly) {
    const floor = floorOf(id);
    const estimateMs = floor * forwardStats.median;
    const label = methodSettingsText(id, resolveMethodOptions(id));
    if (estimateMs > settings.maxMethodMs) {
      skipped.push(`${label}: estimated ${Math.round(estimateMs / 1000)} s per run (floor ${floor}× × forward ${forwardStats.median} ms) > --max-method-s ${settings.maxMethodMs / 1000}`);
      console.log(`  ${backend} ${name} ${id}: skipped (estimated ${Math.round(estimateMs / 1000)} s)`);
      continue;
    }
    try {
      let report: MethodReport;
      if (estimateMs <= REPEAT_UNDER_MS) {
        const timed = await benchmarkIn(page, { runs: Math.min(runs, COSTLY_RUNS), cases: [methodCase(id)] });
        report = methodReport(id, stats(timed.cases[0]!.runs), forwardStats, floor, 'worker');
      } else {
        console.log(`  ${backend} ${name} ${id}: one cold run (estimated ${Math.round(estimateMs / 1000)} s)…`);
        report = methodReport(id, stats([await timedOnce(page, methodCase(id))]), forwardStats, floor, 'page');
      }
      methods.push(report);
      if (id === 'scorecam') scoreCamRan = true;
      console.log(`  ${backend} ${name} ${id}: median ${report.timingsMs.median} ms (${report.ratio}× / fastest ${report.ratioOfFastest}×, floor ${floor}×)`);
    } catch (e) {
      const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
      skipped.push(`${label}: FAILED (${reason})`);
      console.error(`  ${backend} ${name} ${id} failed: ${reason}`);
    }
  }
  let scoreCamCancel: CancelReport | undefined;
  if (scoreCamRan && settings.cancelAfterMs > 0) {
    scoreCamCancel = await cancelScoreCam(page, last, settings.cancelAfterMs);
    const c = scoreCamCancel;
    console.log(`  ${backend} ${name} Score-CAM aborted after ${Math.round(c.abortAfterMs)} ms (${Math.round(c.fractionAtAbort * 100)} % reported): ${c.outcome}; the client rejected in ${Math.round(c.rejectedMs)} ms, the worker was free ${Math.round(c.stoppedMs)} ms after the abort; a forward pass then: ${Math.round(c.forwardAfterMs)} ms`);
  }
  const tasks = await longTasks(page, true);
  const forward = forwardStats.median;
  const ratios = Object.fromEntries(Object.entries(timingsMs).map(([k, s]) => [k, Math.round((s.median / forward) * 100) / 100]));
  const fastestForward = forwardStats.min;
  const minRatios = Object.fromEntries(Object.entries(timingsMs).map(([k, s]) => [k, Math.round((s.min / fastestForward) * 100) / 100]));
  return {
    model: name, backend, threads, profiles, params: model.params, runs, lastLayer: last, earlyLayer: early, timingsMs, ratios, minRatios, floors: model.floors,
    methods, skipped, scoreCamCancel, longTasks: tasks.count, longestTaskMs: Math.round(tasks.longest * 10) / 10,
  };
}

/** "wasm, 2 threads" / "wasm, 1 thread" / "webgpu". */
function runName(r: { backend: string; threads: number }): string {
  return r.backend === 'wasm' ? `wasm, ${r.threads} thread${r.threads === 1 ? '' : 's'}` : r.backend;
}

const THREAD_CASES: [string, string][] = [['forward', 'forward'], ['gradcam_last', 'Grad-CAM, last conv'], ['guided_backprop', 'guided backprop'], ['gradcam_last_warm', 'warm Grad-CAM'], ['live_frame', 'live frame']];

/** Each model at each thread count, side by side, as Markdown: median ms (fastest) and the speed-up over 1 thread. */
function threadMarkdown(reports: ModelReport[]): string {
  const models = [...new Set(reports.map((r) => r.model))];
  const counts = [...new Set(reports.map((r) => r.threads))].sort((a, b) => a - b);
  if (counts.length < 2) return '';
  const lines = [`| model | case | ${counts.map((n) => `${n} thread${n === 1 ? '' : 's'}`).join(' | ')} | speed-up (median / fastest) |`, `| --- | --- | ${counts.map(() => '---').join(' | ')} | --- |`];
  for (const m of models) {
    const byCount = counts.map((n) => reports.find((r) => r.model === m && r.threads === n));
    for (const [key, label] of THREAD_CASES) {
      const cells = byCount.map((r) => (r?.timingsMs[key] ? `${r.timingsMs[key]!.median.toFixed(0)} (${r.timingsMs[key]!.min.toFixed(0)})` : '—'));
      const one = byCount[0]?.timingsMs[key];
      const most = byCount[byCount.length - 1]?.timingsMs[key];
      const speedUp = one && most ? `${(one.median / most.median).toFixed(2)}× / ${(one.min / most.min).toFixed(2)}×` : '—';
      lines.push(`| ${m} | ${label} | ${cells.join(' | ')} | ${speedUp} |`);
    }
  }
  return lines.join('\n');
}

/**
 * Where the time goes at each thread count, kernel by kernel (one profiled run per case): the
 * kernels XNNPACK parallelises speed up; the rest, and the time outside kernels, do not.
 */
function kernelMarkdown(reports: ModelReport[]): string {
  const counts = [...new Set(reports.map((r) => r.threads))].sort((a, b) => a - b);
  if (counts.length < 2) return '';
  const out: string[] = [];
  for (const m of [...new Set(reports.map((r) => r.model))]) {
    for (const key of PROFILED_CASES) {
      const profiles = counts.map((n) => reports.find((r) => r.model === m && r.threads === n)?.profiles[key]);
      if (profiles.some((p) => !p)) continue;
      const names = [...new Set(profiles.flatMap((p) => p!.kernels.slice(0, 8).map((k) => k.name)))];
      out.push(`\n${m}, ${key} (one profiled run each; ms inside the kernel, calls):`);
      out.push(`| kernel | ${counts.map((n) => `${n} thread${n === 1 ? '' : 's'}`).join(' | ')} | speed-up |`, `| --- | ${counts.map(() => '---').join(' | ')} | --- |`);
      const ms = (p: KernelProfile | undefined, name: string) => p?.kernels.find((k) => k.name === name);
      for (const name of names) {
        const cells = profiles.map((p) => {
          const k = ms(p, name);
          return k ? `${k.ms.toFixed(1)} (${k.calls})` : '—';
        });
        const a = ms(profiles[0], name)?.ms;
        const b = ms(profiles[profiles.length - 1], name)?.ms;
        out.push(`| ${name} | ${cells.join(' | ')} | ${a && b ? `${(a / b).toFixed(2)}×` : '—'} |`);
      }
      const inKernels = profiles.map((p) => `${p!.kernelMs} of ${p!.wallMs} ms wall (${Math.round((100 * p!.kernelMs) / Math.max(1, p!.wallMs))} %)`);
      out.push(`| all kernels / wall | ${inKernels.join(' | ')} | ${(profiles[0]!.kernelMs / Math.max(1, profiles[profiles.length - 1]!.kernelMs)).toFixed(2)}× |`);
    }
  }
  return out.join('\n');
}

const COLUMNS = ['forward', 'gradcam_last', 'gradcam_early', 'guided_backprop', 'guided_gradcam', 'gradcam_last_warm', 'gradcam_early_warm', 'guided_backprop_warm', 'live_frame'];

function table(reports: ModelReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(`\n${r.model} on ${runName(r)} (${(r.params / 1e6).toFixed(1)} M params, ${r.floors.forwardGMacs} G multiply-adds, ${r.runs} timed runs each; last layer ${r.lastLayer}, early layer ${r.earlyLayer}; main-thread long tasks: ${r.longTasks})`);
    lines.push(['case'.padEnd(22), 'median ms'.padStart(10), 'min ms'.padStart(10), 'max ms'.padStart(10), '× forward'.padStart(10), '× (min/min)'.padStart(13), 'MAC floor'.padStart(11)].join(''));
    for (const c of COLUMNS) {
      const s = r.timingsMs[c];
      if (!s) continue;
      const floor = (r.floors as unknown as Record<string, number | undefined>)[c];
      lines.push([c.padEnd(22), s.median.toFixed(0).padStart(10), s.min.toFixed(0).padStart(10), s.max.toFixed(0).padStart(10), `${r.ratios[c]!.toFixed(2)}×`.padStart(10), `${r.minRatios[c]!.toFixed(2)}×`.padStart(13), (floor ? `${floor.toFixed(2)}×` : '').padStart(11)].join(''));
    }
    const liveFrame = r.timingsMs.live_frame;
    if (liveFrame) lines.push(`live mode: ${(1000 / liveFrame.median).toFixed(1)} fps (the worker's share of a frame: read, Grad-CAM at the last layer, overlay; median)`);
  }
  return lines.join('\n');
}

/** Every method, cold: ms, × forward (median / fastest run), its multiply-add floor, each ratio over the floor. */
function methodTable(reports: ModelReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    if (r.methods.length === 0 && r.skipped.length === 0) continue;
    lines.push(`\n${r.model} on ${runName(r)}: every method, cold, at ${r.lastLayer} (input methods at the input), default settings; target ≤ ${METHOD_TARGET}× the floor by median and by fastest run`);
    const width = Math.max(...r.methods.map((m) => m.label.length), 6) + 2;
    lines.push(['method'.padEnd(width), 'runs'.padStart(5), 'median ms'.padStart(11), 'min ms'.padStart(10), '× forward'.padStart(11), '× (min/min)'.padStart(13), 'MAC floor'.padStart(11), '÷ floor'.padStart(14), '  target'].join(''));
    for (const m of r.methods) {
      const runs = `${m.timingsMs.runs.length}${m.timedBy === 'page' ? '*' : ''}`;
      lines.push([
        m.label.padEnd(width), runs.padStart(5), m.timingsMs.median.toFixed(0).padStart(11), m.timingsMs.min.toFixed(0).padStart(10),
        `${m.ratio.toFixed(2)}×`.padStart(11), `${m.ratioOfFastest.toFixed(2)}×`.padStart(13), `${m.floor}×`.padStart(11),
        `${m.overFloor.toFixed(2)} / ${m.overFloorOfFastest.toFixed(2)}`.padStart(14), m.withinTarget ? '  met' : '  MISSED',
      ].join(''));
    }
    for (const k of r.skipped) lines.push(`  not run: ${k}`);
    if (r.methods.some((m) => m.timedBy === 'page')) lines.push('  * one cold run, timed on the page around the worker call (the worker runs an untimed warm-up before timed runs; here that run is the figure)');
  }
  return lines.join('\n');
}

/** The per-method table as Markdown, one column per model (the README's Performance section). */
function methodMarkdown(reports: ModelReport[]): string {
  const withMethods = reports.filter((r) => r.methods.length > 0);
  if (withMethods.length === 0) return '';
  const ids = METHOD_IDS.filter((id) => withMethods.some((r) => r.methods.some((m) => m.method === id)));
  const lines = [`| method | ${withMethods.map((r) => `${r.model} (${runName(r)})`).join(' | ')} |`, `| --- | ${withMethods.map(() => '---').join(' | ')} |`];
  for (const id of ids) {
    const label = withMethods.flatMap((r) => r.methods).find((m) => m.method === id)!.label;
    const cells = withMethods.map((r) => {
      const m = r.methods.find((x) => x.method === id);
      if (!m) return '—';
      const runs = m.timedBy === 'page' ? ', 1 run' : '';
      return `${m.timingsMs.median.toFixed(0)} ms${runs}: ${m.ratio.toFixed(2)}× / ${m.ratioOfFastest.toFixed(2)}× (≥ ${m.floor}×) → ${m.overFloor.toFixed(2)} / ${m.overFloorOfFastest.toFixed(2)} ${m.withinTarget ? '✓' : '✗'}`;
    });
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The issue's targets (cold figures): Grad-CAM at the last conv ≤ 1.3× forward, guided backprop ≤ 3×. */
function targetCheck(reports: ModelReport[]): string[] {
  const misses: string[] = [];
  for (const r of reports) {
    if (r.backend !== 'wasm') continue;
    // Met only if both the median and the fastest-run ratio are within the target.
    const worst = (c: string) => Math.max(r.ratios[c]!, r.minRatios[c]!);
    if (worst('gradcam_last') > 1.3) misses.push(`${r.model}: Grad-CAM ${worst('gradcam_last')}× forward (target ≤ 1.3×)`);
    if (worst('guided_backprop') > 3) misses.push(`${r.model}: guided backprop ${worst('guided_backprop')}× forward (target ≤ 3×)`);
    for (const m of r.methods) {
      if (!m.withinTarget) misses.push(`${r.model}: ${m.label} ${m.ratio}× / ${m.ratioOfFastest}× forward = ${m.overFloor} / ${m.overFloorOfFastest}× its floor of ${m.floor}× (target ≤ ${METHOD_TARGET}×)`);
    }
  }
  return misses;
}

/** Grad-CAM at an early layer against what its backward pass must do at least (not a target: 1.3× is below its floor). */
function earlyLayerNotes(reports: ModelReport[]): string[] {
  return reports
    .filter((r) => r.backend === 'wasm')
    .map((r) => `${r.model}: Grad-CAM at ${r.earlyLayer} ${r.ratios.gradcam_early}× forward (fastest runs: ${r.minRatios.gradcam_early}×); its multiply-add floor is ${r.floors.gradcam_early}× (the backward through ${Math.round((r.floors.gradcam_early - 1) * 100)} % of the network's multiply-adds)`);
}

/** Live mode on the Teachable Machine fixture (../shared/fixtures, when present): what a webcam user gets. */
interface LiveFixtureReport {
  model: string;
  threads: number;
  timingsMs: Record<string, Stats>;
  fps: number;
}

const TM_FIXTURE = join(FIXTURES, 'models', 'tm-gestures');
const TM_FILES = ['model.json', 'weights.bin', 'metadata.json'];

async function benchLiveFixture(page: Page, threads: number, runs: number): Promise<LiveFixtureReport> {
  // Served by the bench route from the temp folder (never copied into the repository).
  const dir = join(MODEL_DIR, 'tm-gestures');
  mkdirSync(dir, { recursive: true });
  for (const f of TM_FILES) copyFileSync(join(TM_FIXTURE, f), join(dir, f));
  await openBenchModel(page, 'tm-gestures', TM_FILES);
  // No layerPath: the model's default layer, as live mode uses.
  const result = await benchmarkIn(page, {
    runs,
    cases: [
      { label: 'forward', methods: 'forward' },
      { label: 'gradcam_default', methods: ['gradcam'] },
      { label: 'live_frame', methods: 'live-frame' },
    ],
  });
  const timingsMs = Object.fromEntries(result.cases.map((c) => [c.label, stats(c.runs)]));
  return { model: 'Teachable Machine fixture (tm-gestures)', threads, timingsMs, fps: Math.round((1000 / timingsMs.live_frame!.median) * 10) / 10 };
}

async function main(): Promise<void> {
  const models = argument('models', BENCH_MODELS.join(',')).split(',') as BenchModelName[];
  for (const m of models) if (!BENCH_MODELS.includes(m)) throw new Error(`bench: unknown model ${m}; choose from ${BENCH_MODELS.join(', ')}`);
  const runsArg = argument('runs', '');
  const backends = argument('backends', 'wasm').split(',');
  const out = argument('out', 'bench-report.json');
  // --threads 1,2: every model at each thread count (a fresh page each), with kernel profiles;
  // without it, the app's own choice (one thread per core when the page is cross-origin isolated).
  const threadCounts: (number | undefined)[] = argument('threads', '') ? argument('threads', '').split(',').map(Number) : [undefined];
  if (threadCounts.some((n) => n !== undefined && !(n >= 1))) throw new Error('bench: --threads takes counts ≥ 1, e.g. --threads 1,2');
  const compareThreads = threadCounts.length > 1;
  const methodsArg = argument('methods', 'all');
  // 'all', 'classic' (the first table's three) and ids, comma-separated and mixed as wished.
  const expand = (m: string): string[] => (m === 'all' ? [...METHOD_IDS] : m === 'classic' ? [...CLASSIC_METHODS] : [m]);
  const methodIds = [...new Set(methodsArg.split(',').map((m) => m.trim()).filter(Boolean).flatMap(expand))];
  const unknown = methodIds.filter((m) => !isMethodId(m));
  if (unknown.length) throw new Error(`bench: unknown method ${unknown.join(', ')}; --methods all, classic or ids from ${METHOD_IDS.join(', ')}`);
  const settings: MethodSettings = {
    methods: methodIds as MethodId[],
    maxMethodMs: Number(argument('max-method-s', '150')) * 1000,
    cancelAfterMs: Number(argument('cancel-after-ms', '3000')),
  };
  await tf.setBackend('cpu'); // building and saving the models only

  mkdirSync(MODEL_DIR, { recursive: true });
  const imagePath = join(MODEL_DIR, 'image.png');
  writeFileSync(imagePath, benchImage());
  const modelInfo = new Map<string, Awaited<ReturnType<typeof ensureModelFiles>>>();
  for (const m of models) modelInfo.set(m, await ensureModelFiles(m));

  const dist = argument('dist', 'dist');
  const preview = dist === 'dist' ? startPreview(PORT) : startPreviewOf(dist, PORT);
  const wantWebGpu = backends.includes('webgpu');
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...(wantWebGpu ? WEBGPU_SWIFTSHADER_ARGS : [])] });
  const reports: ModelReport[] = [];
  const metricsReports: MetricsReport[] = [];
  const metricsOnly = process.argv.includes('--metrics');
  const metricsSteps = Number(argument('metrics-steps', '20'));
  const notes: string[] = [];
  let browserVersion: string;
  let totalLongTasks = 0;
  const liveFixture: LiveFixtureReport[] = [];
  try {
    await waitForServer(`${ORIGIN}/`, 60_000);
    // A fresh page (and worker) per model: one model's memory never weighs on the next.
    const newPage = async (threads?: number): Promise<Page> => {
      const page = await browser.newPage({ serviceWorkers: 'block' }); // page.route must see every request
      await preparePage(page, threads);
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
      modelRuns: for (const m of models) for (const threadsAsked of backend === 'wasm' ? threadCounts : [undefined]) {
        if (software && m !== 'mobilenet_v2') {
          notes.push(`${backend} ${m}: skipped (software adapter; 25–60× slower than WASM)`);
          continue modelRuns;
        }
        const page = await newPage(threadsAsked);
        try {
          const current = await page.evaluate(() => (window as unknown as { __studio: Studio }).__studio.client.backend!);
          const info = current.name === backend ? current : await page.evaluate((b) => (window as unknown as { __studio: Studio }).__studio.client.init(b as BackendName), backend);
          if (info.name !== backend) {
            notes.push(`${backend}: not available (the worker started ${info.name} instead)`);
            break modelRuns; // the next backend
          }
          console.log(`\n== ${backend} ${m} (${info.reason})`);
          const runs = software ? 1 : runsArg ? Number(runsArg) : DEFAULT_RUNS[m];
          if (metricsOnly) {
            metricsReports.push(await benchMetrics(page, backend, m, runsArg ? runs : 3, metricsSteps));
            continue;
          }
          // A software adapter: only the methods the first table times anyway.
          const report = await benchModel(page, backend, m, runs, software ? { ...settings, methods: settings.methods.filter((id) => BASE_CASE_OF[id]) } : settings, info.threads ?? 1, compareThreads);
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
    // Live mode on the Teachable Machine fixture, at each thread count asked for.
    if (existsSync(TM_FIXTURE) && backends.includes('wasm') && !metricsOnly && !process.argv.includes('--no-fixture')) {
      for (const threadsAsked of threadCounts) {
        const page = await newPage(threadsAsked);
        try {
          const info = await page.evaluate(() => (window as unknown as { __studio: Studio }).__studio.client.backend!);
          const report = await benchLiveFixture(page, info.threads ?? 1, runsArg ? Number(runsArg) : 9);
          liveFixture.push(report);
          console.log(`\n== live mode, ${report.model}, wasm ${report.threads} thread(s): ${report.fps} fps (frame ${report.timingsMs.live_frame!.median} ms; forward ${report.timingsMs.forward!.median} ms, Grad-CAM ${report.timingsMs.gradcam_default!.median} ms)`);
        } catch (e) {
          notes.push(`live fixture: FAILED (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
        } finally {
          await page.close().catch(() => undefined);
        }
      }
    } else if (!existsSync(TM_FIXTURE)) notes.push(`live fixture: not run (${TM_FIXTURE} not found)`);
  } finally {
    // A crashed page can leave close() waiting: give it 30 s.
    await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 30_000))]);
    stopPreview(preview);
  }
  const threadWords = [...new Set(reports.map((r) => r.threads))].map((n) => `${n} thread${n === 1 ? '' : 's'}`).join(' and ') || 'threads as the app chooses';
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, no GPU used (WASM backend, XNNPACK with SIMD, ${threadWords})`;
  console.log(`\nmachine: ${machine}\nbrowser: ${browserVersion}`);
  if (metricsOnly) {
    console.log(`\n| model | forward | deletion + insertion, ${metricsSteps} steps (${2 * (metricsSteps + 1) + 1} images) | × forward (median / fastest) |\n| --- | --- | --- | --- |`);
    for (const r of metricsReports) console.log(`| ${r.model} (${r.backend}) | ${r.forwardMs.median} ms (min ${r.forwardMs.min}) | ${r.curvesMs.median} ms (min ${r.curvesMs.min}) | ${r.ratio}× / ${r.ratioOfFastest}× |`);
    writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), environment: 'browser-worker', browser: browserVersion, machine, metrics: metricsReports, notes }, null, 2) + '\n');
    console.log(`wrote ${out}`);
    return;
  }
  console.log(table(reports));
  console.log(`\nmain-thread long tasks (> ${LONG_TASK_MS} ms) during the runs: ${totalLongTasks}`);
  console.log(methodTable(reports));
  if (liveFixture.length || reports.some((r) => r.timingsMs.live_frame)) {
    console.log('\nlive mode (the worker\'s share of a frame: a 320-px frame read, Grad-CAM at the default / last layer, overlay drawn), as Markdown:');
    console.log('| model | threads | frame ms (fastest) | fps | target |\n| --- | --- | --- | --- | --- |');
    for (const r of liveFixture) console.log(`| ${r.model} | ${r.threads} | ${r.timingsMs.live_frame!.median} (${r.timingsMs.live_frame!.min}) | ${r.fps} | ≥ 15 ${r.fps >= 15 ? '✓' : '✗'} |`);
    for (const r of reports) {
      const f = r.timingsMs.live_frame;
      if (f) console.log(`| ${r.model} bench model, 224×224 | ${r.threads} | ${f.median} (${f.min}) | ${Math.round((10000 / f.median)) / 10} | |`);
    }
  }
  const threadTable = threadMarkdown(reports);
  if (threadTable) console.log(`\nthreads, as Markdown (median ms (fastest); speed-up = 1 thread ÷ the most threads):\n${threadTable}\n${kernelMarkdown(reports)}\n`);
  const markdown = methodMarkdown(reports);
  if (markdown) console.log(`\nas Markdown (median ms: median / fastest-run ratio to the forward pass (≥ its floor) → each over the floor, ✓ within ${METHOD_TARGET}×):\n${markdown}\n`);
  notes.push(
    'methods: registry defaults (SmoothGrad 25 samples, Integrated Gradients 64 steps, batches of 8; Score-CAM batches of 16, Ablation-CAM 128) — the floors count the samples and steps; ' +
      `costly methods run alone after the interleaved rounds: up to ${COSTLY_RUNS} runs when estimated (floor × forward median) at ≤ ${REPEAT_UNDER_MS / 1000} s, else one cold run, and none above --max-method-s ${settings.maxMethodMs / 1000}`,
  );
  for (const n of notes) console.log(`note: ${n}`);
  const misses = targetCheck(reports);
  console.log(
    misses.length
      ? `\nTARGETS MISSED:\n  ${misses.join('\n  ')}`
      : `\nTargets met (WASM, cold, by median and by fastest run): Grad-CAM at the last conv ≤ 1.3× forward, guided backprop ≤ 3× forward, every method run ≤ ${METHOD_TARGET}× its multiply-add floor.`,
  );
  const early = earlyLayerNotes(reports);
  if (early.length) console.log(`\nGrad-CAM at an early layer (no target can be under its floor):\n  ${early.join('\n  ')}`);
  writeFileSync(
    out,
    JSON.stringify({ date: new Date().toISOString(), environment: 'browser-worker', browser: browserVersion, machine, longTaskThresholdMs: LONG_TASK_MS, totalLongTasks, methodTarget: METHOD_TARGET, notes, targetsMissed: misses, earlyLayer: early, reports, liveFixture }, null, 2) + '\n',
  );
  console.log(`wrote ${out}`);
}

// `npm run bench -- gallery`: the gallery's throughput and memory (scripts/bench-gallery.ts) instead.
if (process.argv.slice(2).includes('gallery')) await import('./bench-gallery');
else await main();
process.exit(0); // the browser and the preview are closed; nothing else should hold the process
