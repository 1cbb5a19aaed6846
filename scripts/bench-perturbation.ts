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
import { slic } from '../src/engine/methods/superpixels';
import { resolveMethodOptions, type MethodId, type MethodOptionValue } from '../src/shared/methods';
import { perturbationPasses } from './bench-floor';
import { argument, benchModelsArgument, median, setUpBenchModel, timeInterleaved, useWasm } from './bench-cost';

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

async function main(): Promise<void> {
  const models = benchModelsArgument();
  const requested = Number(argument('batch', '16'));
  const runs = Number(argument('runs', '5'));
  const only = argument('methods', '');
  const out = argument('out', '');
  await useWasm();
  const report: unknown[] = [];
  for (const name of models) {
    const { lm, picture, x, batch, single, batched, timeForward, dispose } = await setUpBenchModel(name, requested, runs);
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
      // One untimed run first (SLIC, the batch shapes' kernels, the last partial batch's shape); each
      // timed run right after a batched forward pass; the ratio is the median of the runs' ratios.
      const explain = () => lm.explain(picture, { methods: [id], target: 1, methodOptions: { [id]: options } });
      const t = await timeInterleaved(explain, async () => (await explain()).timings[id] ?? 0, () => timeForward(batch), runs);
      const overFloor = median(t.ratios) / (passes / batch);
      console.log(`| ${id} | ${passes} | ${t.ms.toFixed(0)} | ${(t.ms / single).toFixed(1)} | ${overFloor.toFixed(2)} |`);
      report.push({ model: name, method: id, passes, ms: t.ms, times: t.times, singleForwardMs: single, batchedForwardMs: t.referenceMs, batch, timesForward: t.ms / single, overBatchedFloor: overFloor });
    }
    dispose();
  }
  const over = (report as Array<{ model: string; method: string; overBatchedFloor: number }>).filter((r) => r.overBatchedFloor > 1.2);
  console.log(over.length === 0 ? '\nEvery method within 1.2× of its floor.' : `\nOver 1.2× of the floor: ${over.map((r) => `${r.method} on ${r.model} (${r.overBatchedFloor.toFixed(2)}×)`).join(', ')}`);
  if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), runs, rows: report }, null, 2) + '\n');
}

await main();
