/**
 * `npm run bench:perturbation` — the gradient-free perturbation methods' cost on the bench models
 * (bench-models.ts: MobileNetV2, VGG16 and ResNet50 shapes at 224×224, WASM with the fast kernels),
 * as multiples of one single-image forward pass, and against their own floor: (number of forward
 * passes / batch size) × one batched forward pass of that batch size, measured here. The target is
 * ≤ 1.2× that floor (the masks, segmentation and estimator around the passes cost ≤ 20 %).
 * Small settings (about 64 passes each) keep it short; the ratio does not depend on the count.
 *
 * Usage: npx tsx scripts/bench-perturbation.ts [--models mobilenet_v2,vgg16,resnet50 --batch 16 --runs 2 --out report.json]
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerFastWasmGradients } from '../src/engine/kernels/wasm-gradients';
import { loadedModelFromLayersModel } from '../src/engine/model';
import { forwardScores } from '../src/engine/executor/forward';
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

async function main(): Promise<void> {
  const models = argument('models', 'mobilenet_v2').split(',').filter((m): m is BenchModelName => (BENCH_MODELS as readonly string[]).includes(m));
  const batch = Number(argument('batch', '16'));
  const runs = Number(argument('runs', '2'));
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
    const timeForward = async (rows: number) => {
      const times: number[] = [];
      for (let r = 0; r < runs + 1; r++) {
        const images = tf.tile(x, [rows, 1, 1, 1]);
        const started = performance.now();
        const scores = forwardScores(program, program.steps, new Map([[program.inputSlot, images]]), [], 0, 1, { fast: true });
        await scores.data();
        if (r > 0) times.push(performance.now() - started); // the first run warms the batch's kernels
        tf.dispose([images, scores]);
      }
      return median(times);
    };
    const single = await timeForward(1);
    const batched = await timeForward(batch);
    console.log(`\n${name}: one forward pass ${single.toFixed(0)} ms; a batch of ${batch} ${batched.toFixed(0)} ms (${(batched / batch).toFixed(1)} ms per image)`);
    console.log(`| method | forward passes | ms | × one forward pass | × (passes / ${batch}) · batched pass |\n| --- | --- | --- | --- | --- |`);
    for (const [id, small] of Object.entries(SMALL) as Array<[MethodId, Record<string, MethodOptionValue>]>) {
      const options = resolveMethodOptions(id, { ...small, batchSize: batch });
      let passes = perturbationPasses(id, options, 224, 224);
      if (['feature-ablation', 'lime', 'kernel-shap', 'shapley-sampling'].includes(id)) {
        // The segment count SLIC actually made.
        const segments = slic(x.dataSync(), 224, 224, 3, Number(options.segments), Number(options.compactness)).count;
        passes = perturbationPasses(id, { ...options, segments }, 224, 224);
      }
      const times: number[] = [];
      for (let r = 0; r < runs; r++) {
        const result = await lm.explain(picture, { methods: [id], target: 1, methodOptions: { [id]: options } });
        times.push(result.timings[id] ?? 0);
      }
      const ms = median(times);
      const floor = (passes / batch) * batched;
      console.log(`| ${id} | ${passes} | ${ms.toFixed(0)} | ${(ms / single).toFixed(1)} | ${(ms / floor).toFixed(2)} |`);
      report.push({ model: name, method: id, passes, ms, singleForwardMs: single, batchedForwardMs: batched, batch, timesForward: ms / single, overBatchedFloor: ms / floor });
    }
    x.dispose();
    lm.dispose();
  }
  if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), rows: report }, null, 2) + '\n');
}

await main();
