/**
 * `npm run bench:faithfulness` — the faithfulness metrics and the randomisation sanity check on the
 * demo model (public/demo) over two-shape scenes of the demo's synthetic data, from the pointing
 * game's seed (scripts/pointing.ts: a seed the training never used), each scene's top class:
 * - deletion / insertion AUC (20 steps, blurred baseline by default), ROAD combined and the image × map
 *   confidence change of Grad-CAM and guided backprop against the random and centre-Gaussian maps:
 *   the means and how often Grad-CAM beats the random map;
 * - the cascading sanity check on the first --sanity-scenes scenes: the mean Spearman ρ and SSIM of
 *   each method's map with the original, per step.
 *
 * Usage: npm run bench:faithfulness [-- --scenes 50 --sanity-scenes 20 --steps 20 --baseline blur|mean --methods gradcam,occlusion,… --out report.json]
 * (--methods: any registry ids, Grad-CAM and guided backprop by default; Grad-CAM is always included.)
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import '@tensorflow/tfjs-backend-wasm';
import { useBackend, loadModel, measureFaithfulness, sanityCheck } from '../src/engine';
import { filesFromPaths } from '../src/engine/node';
import type { FaithfulnessBaseline, MapFaithfulness } from '../src/shared/metrics';
import { isMethodId, type MethodId } from '../src/shared/methods';
import type { Heatmap } from '../src/shared/types';
import { renderScene } from './demo-data';
import { pointingScenes, POINTING_SEED } from './pointing';

const RENDER_SIZE = 256;

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1]! : fallback;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const f3 = (x: number) => x.toFixed(3);

async function main(): Promise<void> {
  const requested = argument('methods', 'gradcam,guided-backprop').split(',').filter(isMethodId);
  const METHODS: MethodId[] = ['gradcam', ...requested.filter((m) => m !== 'gradcam')];
  const sceneCount = Number(argument('scenes', '50'));
  const sanityScenes = Number(argument('sanity-scenes', '20'));
  const steps = Number(argument('steps', '20'));
  const baseline = argument('baseline', 'blur') as FaithfulnessBaseline;
  const out = argument('out', '');
  await useBackend('wasm');
  const lm = await loadModel(await filesFromPaths([argument('model', resolve(process.cwd(), 'public/demo'))]));
  const layerPath = lm.summary.defaultLayerPath ?? undefined;
  const started = performance.now();
  const rows = new Map<string, MapFaithfulness[]>();
  const add = (id: string, s: MapFaithfulness) => rows.set(id, [...(rows.get(id) ?? []), s]);
  let deletionWins = 0;
  let insertionWins = 0;
  let bothWins = 0;
  const sanity = new Map<MethodId, { spearman: number[][]; ssim: number[][] }>(METHODS.map((m) => [m, { spearman: [], ssim: [] }]));
  let stepLabels: string[] = [];
  let layerCount = 0;
  console.log(`faithfulness: ${sceneCount} two-shape scenes (seed ${POINTING_SEED}), top class each; ${steps} steps, ${baseline} baseline; model ${lm.summary.name}, layer ${layerPath}`);
  for (const [i, scene] of pointingScenes(sceneCount).entries()) {
    const image = { width: RENDER_SIZE, height: RENDER_SIZE, data: renderScene(scene, RENDER_SIZE) };
    const explained = await lm.explain(image, { methods: METHODS, layerPath });
    const maps: Partial<Record<MethodId, Heatmap>> = {};
    for (const id of METHODS) {
      const m = explained.maps[id]!;
      maps[id] = m.kind === 'heatmap' ? m.upsampled : m.saliency;
    }
    const result = await measureFaithfulness(lm, { image, classIndex: explained.classIndex, maps, options: { steps, baseline, seed: i + 1 } });
    for (const id of METHODS) add(id, result.methods[id]!);
    add('random', result.references.random);
    add('centre', result.references.centre);
    const g = result.methods.gradcam!;
    const r = result.references.random;
    if (g.deletion.auc < r.deletion.auc) deletionWins++;
    if (g.insertion.auc > r.insertion.auc) insertionWins++;
    if (g.deletion.auc < r.deletion.auc && g.insertion.auc > r.insertion.auc) bothWins++;
    if (i < sanityScenes) {
      const check = await sanityCheck({ loaded: lm, image, explain: { methods: METHODS, layerPath }, classIndex: explained.classIndex });
      stepLabels = check.steps.map((s) => s.label);
      layerCount = check.steps.at(-1)!.randomised.length;
      for (const id of METHODS) {
        sanity.get(id)!.spearman.push(check.methods[id]!.spearman);
        sanity.get(id)!.ssim.push(check.methods[id]!.ssim);
      }
    }
    if ((i + 1) % 10 === 0) console.log(`  ${i + 1}/${sceneCount} scenes, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  const summary = [...rows].map(([id, list]) => ({
    id,
    deletionAuc: mean(list.map((s) => s.deletion.auc)),
    insertionAuc: mean(list.map((s) => s.insertion.auc)),
    roadCombined: mean(list.map((s) => s.road.combined)),
    confidenceChange: mean(list.map((s) => s.confidenceChange)),
  }));
  console.log(`\n| map | deletion AUC ↓ | insertion AUC ↑ | ROAD combined ↑ | confidence change (image × map) ↑ |\n| --- | --- | --- | --- | --- |`);
  for (const s of summary) console.log(`| ${s.id} | ${f3(s.deletionAuc)} | ${f3(s.insertionAuc)} | ${f3(s.roadCombined)} | ${f3(s.confidenceChange)} |`);
  console.log(`\nGrad-CAM vs the random map, ${sceneCount} scenes: deletion AUC lower in ${deletionWins}, insertion AUC higher in ${insertionWins}, both in ${bothWins}`);
  const perStep = (id: MethodId, key: 'spearman' | 'ssim') => stepLabels.map((_, k) => mean(sanity.get(id)![key].map((row) => row[k]!)));
  if (stepLabels.length > 0) {
    console.log(`\nSanity check (cascading, ${Math.min(sanityScenes, sceneCount)} scenes; ${layerCount} layers, head first): mean Spearman ρ / SSIM with the original map\n| step | layers random | ${METHODS.join(' | ')} |\n| --- | --- | ${METHODS.map(() => '---').join(' | ')} |`);
    stepLabels.forEach((label, k) => {
      console.log(`| ${label} | ${k} | ${METHODS.map((id) => `${f3(perStep(id, 'spearman')[k]!)} / ${f3(perStep(id, 'ssim')[k]!)}`).join(' | ')} |`);
    });
  }
  console.log(`(${((performance.now() - started) / 1000).toFixed(0)} s)`);
  if (out) {
    writeFileSync(out, JSON.stringify({
      date: new Date().toISOString(), seed: POINTING_SEED, scenes: sceneCount, steps, baseline, model: lm.summary.name, layerPath, summary,
      gradcamVsRandom: { deletionWins, insertionWins, bothWins },
      sanity: { scenes: Math.min(sanityScenes, sceneCount), steps: stepLabels, ...Object.fromEntries(METHODS.map((id) => [id, { spearman: perStep(id, 'spearman'), ssim: perStep(id, 'ssim') }])) },
    }, null, 2) + '\n');
    console.log(`wrote ${out}`);
  }
  lm.dispose();
}

await main();
