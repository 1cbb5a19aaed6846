/**
 * `npm run bench:perturbation` — the gradient-free perturbation methods' cost on the bench models
 * (bench-models.ts: MobileNetV2, VGG16 and ResNet50 shapes at 224×224, WASM with the fast kernels),
 * as multiples of one single-image forward pass, and against their own floor: (number of forward
 * passes / batch size) × one batched forward pass of that batch size, measured here. The target is
 * ≤ 1.2× that floor (the masks, segmentation and estimator around the passes cost ≤ 20 %).
 * Small settings (about 64 passes each) keep it short; the ratio does not depend on the count.
 *
 * Usage: npx tsx scripts/bench-perturbation.ts [--models mobilenet_v2,vgg16,resnet50 --methods rise,lime --batch 16 --runs 5 --out report.json]
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerFastWasmGradients } from '../src/engine/kernels/wasm-gradients';
import { loadedModelFromLayersModel } from '../src/engine/model';
import { forwardScores, runForward } from '../src/engine/executor/forward';
import { rowsPerBatch } from '../src/engine/methods/batches';
import { preprocessImage } from '../src/engine/preprocess';
import { slic } from '../src/engine/methods/superpixels';
import { resolveMethodOptions, type MethodId, type MethodOptionValue } from '../src/shared/methods';
import { BENCH_MODELS, buildBenchModel, type BenchModelName } from './bench-models';
import { perturbationPasses } from './bench-floor';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

const SMALL: Partial<Record<MethodId, Record<string, MethodOptionValue>>> = {
  'occlusion': { window: 56, stride: 28 }, // 7 × 7 = 49 positions
  'rise': { samples: 64 },
  'feature-ablation': { segments: 64 },
  'lime': { segments: 50, samples: 64 },
  'kernel-shap': { segments: 50, samples: 64 },
  'shapley-sampling': { segments: 16, permutations: 4 },
  'sobol': { grid: 4, designs: 4 }, // 4 · 18 = 72
  'hsic': { grid: 8, samples: 64 },
};

function image(size: number): { width: number; height: number; data: Uint8ClampedArray } {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const i = (y * size + x) * 4;
    data[i] = 128 + 100 * Math.sin(x / 17);
    data[i + 1] = 128 + 100 * Math.cos(y / 23);
    data[i + 2] = (x * y) % 256;
    data[i + 3] = 255;
  }
  return { width: size, height: size, data };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

/**
 * One method against its floor, interleaved: each run times a batched forward pass of `rows` images
 * right before the method, so that load from elsewhere on the machine moves both alike; the ratio is
 * the median of the runs' ratios. One untimed run first (SLIC, the batch shapes' kernels, the last
 * partial batch's shape).
 */
async function timeMethod(
  lm: Awaited<ReturnType<typeof loadedModelFromLayersModel>>,
  picture: ReturnType<typeof image>,
  id: MethodId,
  options: Record<string, MethodOptionValue>,
  timeBatch: () => Promise<number>,
  runs: number,
): Promise<{ ms: number; batchedMs: number; ratios: number[]; times: number[] }> {
  await lm.explain(picture, { methods: [id], target: 1, methodOptions: { [id]: options } }); // warm-up
  const times: number[] = [];
  const batches: number[] = [];
  for (let r = 0; r < runs; r++) {
    batches.push(await timeBatch());
    const result = await lm.explain(picture, { methods: [id], target: 1, methodOptions: { [id]: options } });
    times.push(result.timings[id] ?? 0);
  }
  return { ms: median(times), batchedMs: median(batches), ratios: times.map((t, r) => t / (batches[r] ?? 1)), times };
}

async function main(): Promise<void> {
  const models = argument('models', BENCH_MODELS.join(',')).split(',').filter((m): m is BenchModelName => (BENCH_MODELS as readonly string[]).includes(m));
  const requested = Number(argument('batch', '16'));
  const runs = Number(argument('runs', '5'));
  const only = argument('methods', '');
  const out = argument('out', '');
  await tf.setBackend('wasm');
  registerFastWasmGradients();
  const report: unknown[] = [];
  for (const name of models) {
    const built = buildBenchModel(name);
    const lm = await loadedModelFromLayersModel(built.model);
    const picture = image(224);
    await lm.explain(picture, { methods: ['gradcam'] }); // the image's activation cache
    const x = preprocessImage(picture, lm.summary.imageSize, { ...lm.summary.preprocess });
    const program = lm.program;
    // The rows a batch really has: the methods lower the requested batch size to fit the memory budget
    // (rowsPerBatch over the image's cache; the full cache computed here holds every slot, so its bound
    // is never looser than the engine's), and the floor is measured at that size.
    const full = tf.tidy(() => runForward(program, x));
    const batch = rowsPerBatch({ values: full }, requested, false);
    tf.dispose(full.filter((v) => v && v !== x));
    const images = { 1: tf.tile(x, [1, 1, 1, 1]), [batch]: tf.tile(x, [batch, 1, 1, 1]) } as Record<number, tf.Tensor4D>;
    const timeForward = async (rows: number) => {
      const started = performance.now();
      const scores = forwardScores(program, program.steps, new Map([[program.inputSlot, images[rows]!]]), [], 0, 1, { fast: true });
      await scores.data();
      scores.dispose();
      return performance.now() - started;
    };
    const medianForward = async (rows: number) => {
      await timeForward(rows); // warms the batch's kernels
      const times: number[] = [];
      for (let r = 0; r < runs; r++) times.push(await timeForward(rows));
      return median(times);
    };
    const single = await medianForward(1);
    const batched = await medianForward(batch);
    console.log(`\n${name}: one forward pass ${single.toFixed(0)} ms; a batch of ${batch}${batch < requested ? ` (${requested} asked; the memory budget allows ${batch})` : ''} ${batched.toFixed(0)} ms (${(batched / batch).toFixed(1)} ms per image); medians of ${runs} runs after a warm-up`);
    console.log(`| method | forward passes | ms | × one forward pass | × (passes / ${batch}) · batched pass |\n| --- | --- | --- | --- | --- |`);
    for (const [id, small] of Object.entries(SMALL) as Array<[MethodId, Record<string, MethodOptionValue>]>) {
      if (only && !only.split(',').includes(id)) continue;
      const options = resolveMethodOptions(id, { ...small, batchSize: batch });
      let passes = perturbationPasses(id, options, 224, 224);
      if (['feature-ablation', 'lime', 'kernel-shap', 'shapley-sampling'].includes(id)) {
        // The segment count SLIC actually made.
        const segments = slic(x.dataSync(), 224, 224, 3, Number(options.segments), Number(options.compactness)).count;
        passes = perturbationPasses(id, { ...options, segments }, 224, 224);
      }
      const t = await timeMethod(lm, picture, id, options, () => timeForward(batch), runs);
      const overFloor = median(t.ratios) / (passes / batch);
      console.log(`| ${id} | ${passes} | ${t.ms.toFixed(0)} | ${(t.ms / single).toFixed(1)} | ${overFloor.toFixed(2)} |`);
      report.push({ model: name, method: id, passes, ms: t.ms, times: t.times, singleForwardMs: single, batchedForwardMs: t.batchedMs, batch, timesForward: t.ms / single, overBatchedFloor: overFloor });
    }
    tf.dispose(Object.values(images));
    x.dispose();
    lm.dispose();
  }
  const over = (report as Array<{ model: string; method: string; overBatchedFloor: number }>).filter((r) => r.overBatchedFloor > 1.2);
  console.log(over.length === 0 ? '\nEvery method within 1.2× of its floor.' : `\nOver 1.2× of the floor: ${over.map((r) => `${r.method} on ${r.model} (${r.overBatchedFloor.toFixed(2)}×)`).join(', ')}`);
  if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), runs, rows: report }, null, 2) + '\n');
}

await main();
