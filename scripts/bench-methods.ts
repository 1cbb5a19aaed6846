/**
 * `npm run bench:methods` — the cost of the new methods that are not perturbation methods (those have
 * bench-perturbation.ts): the noise-tunnel gradients, GradientSHAP, KPCA-CAM, Finer-CAM, DFF, DeepLIFT
 * (and -SHAP), Deconvolution, LRP-ε / -αβ, FullGrad and ShapleyCAM, each at its default settings on the
 * bench models (bench-models.ts, WASM with the fast kernels), as a multiple of one single-image forward
 * pass of the same model. Each explanation is cold — the per-image cache cleared first, so it includes
 * the image's own forward pass (1×, which the app shares among the methods chosen for one image) — and
 * timed right after a single-image forward pass, so that load from elsewhere moves both; the multiple is
 * the median of the runs' ratios. One untimed warm-up first, at the default settings, except that the
 * batched noise-tunnel methods warm up with only enough samples for their batch shapes (a full batch
 * and the last partial one), which keeps the whole bench to minutes. VGG16 (1.6 s a forward pass on a
 * 2-core machine) only with --vgg16.
 *
 * Usage: npx tsx scripts/bench-methods.ts [--models mobilenet_v2,resnet50 --vgg16 --methods deeplift,fullgrad --runs 3 --out report.json]
 * (--methods may name any registry method, e.g. gradient-x-input as a reference for the taped ones;
 * --path plain takes every gradient on the taped path, as DeepLIFT, Deconvolution and LRP always do).
 */
import { writeFileSync } from 'node:fs';
import { METHOD_IDS, methodInfo, resolveMethodOptions, type MethodId, type MethodOptionValue } from '../src/shared/methods';
import { argument, benchModelsArgument, flag, median, setUpBenchModel, timeInterleaved, useWasm } from './bench-cost';

/** The new methods of issue 26 that need more than forward passes (or no extra pass at all). */
export const NON_PERTURBATION_METHODS: readonly MethodId[] = [
  'smoothgrad-sq', 'vargrad', 'squaregrad', 'gradient-shap', 'kpca-cam', 'finer-cam', 'dff',
  'deeplift', 'deeplift-shap', 'deconvolution', 'lrp-epsilon', 'fullgrad', 'shapley-cam', 'lrp-alpha-beta',
];

/** The warm-up's options: the defaults, with just enough samples to meet every batch shape. */
function warmUpOptions(options: Record<string, MethodOptionValue>): Record<string, MethodOptionValue> {
  const samples = Number(options.samples);
  if (!Number.isFinite(samples) || samples <= 0) return options;
  const batch = Number(options.batchSize);
  if (!Number.isFinite(batch) || batch <= 0) return { ...options, samples: Math.min(samples, 1) };
  return { ...options, samples: Math.min(samples, batch + (samples % batch || batch)) };
}

/** The default options, for the table. */
function settingsText(options: Record<string, MethodOptionValue>): string {
  return Object.entries(options).map(([k, v]) => `${k} ${String(v)}`).join(', ') || '—';
}

async function main(): Promise<void> {
  const models = benchModelsArgument(flag('vgg16') ? ['mobilenet_v2', 'vgg16', 'resnet50'] : ['mobilenet_v2', 'resnet50']);
  const runs = Number(argument('runs', '3'));
  const only = argument('methods', '');
  const out = argument('out', '');
  const path = argument('path', 'fast') === 'plain' ? 'plain' : 'fast';
  // --methods may name any method (e.g. gradient-x-input: the same backward pass on the fast path).
  const methods = only ? only.split(',') as MethodId[] : NON_PERTURBATION_METHODS;
  for (const m of methods) if (!METHOD_IDS.includes(m)) throw new Error(`bench-methods: no method ${m}`);
  await useWasm();
  const report: Array<{ model: string; method: MethodId; ms: number; timesForward: number }> = [];
  for (const name of models) {
    const { lm, picture, single, timeForward, dispose } = await setUpBenchModel(name, 1, runs, { gradientPath: path });
    console.log(`\n${name}: one forward pass ${single.toFixed(0)} ms (median of ${runs} after a warm-up); each method cold, 1 warm-up + ${runs} runs${path === 'plain' ? '; every gradient on the taped (plain) path' : ''}`);
    console.log('| method | cost class | settings (defaults) | ms | × one forward pass |\n| --- | --- | --- | --- | --- |');
    for (const id of methods) {
      const options = resolveMethodOptions(id, {});
      const explain = (o: Record<string, MethodOptionValue>) => async () => {
        lm.clearCache();
        const started = performance.now();
        await lm.explain(picture, { methods: [id], target: 1, methodOptions: { [id]: o } });
        return performance.now() - started;
      };
      const t = await timeInterleaved(explain(warmUpOptions(options)), explain(options), () => timeForward(1), runs);
      const multiple = median(t.ratios);
      console.log(`| ${id} | ${methodInfo(id).cost} | ${settingsText(options)} | ${t.ms.toFixed(0)} | ${multiple.toFixed(1)} |`);
      report.push({ model: name, method: id, ms: t.ms, timesForward: multiple, ...{ times: t.times, ratios: t.ratios, forwardMs: t.referenceMs, options } });
    }
    dispose();
  }
  if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), runs, rows: report }, null, 2) + '\n');
}

await main();
