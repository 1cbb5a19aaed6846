/**
 * `npm run explain -- --model DIR/model.json --image photo.jpg [options]`: the same engine as the app,
 * in Node (WASM backend by default). Prints the layer it chose, the top-5 and the class explained;
 * writes an overlay PNG and/or a JSON result. Any failure ends with one line `error [CODE]: message`
 * and exit code 1 (2 for bad arguments).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import '@tensorflow/tfjs-backend-wasm';
import { loadModel, useBackend, NORMALIZATION_PRESETS, RESIZE_MODES, measureFaithfulness, sanityCheck } from '../src/engine';
import { filesFromPaths, decodeImageFile, encodePng } from '../src/engine/node';
import { rgbMapToRgbaPure } from '../src/render/pixels';
import { studioError, toStudioError } from '../src/shared/errors';
import type { ExplainOptions, ExplainResult, Heatmap, NormalizationPreset, PreprocessOptions, ResizeMode } from '../src/shared/types';
import { METHOD_IDS, METHODS, methodOptionProblems, methodSettingsText, type MethodId, type MethodOptionSpec, type MethodOptionValue } from '../src/shared/methods';
import { overlayOnPhoto } from './overlay';
import { runBatch, type BatchOptions } from './batch';
import { checkOutDir } from './batch-files';
import { DEFAULT_FAITHFULNESS, REFERENCE_LABELS, type FaithfulnessBaseline, type FaithfulnessResult, type ReferenceMapId, type SanityMode, type SanityResult } from '../src/shared/metrics';

/** Every method option as a flag, from the registry: batchSize → --batch-size (shared by the methods that have it). */
const OPTION_FLAGS = (() => {
  const flags = new Map<string, { option: string; specs: { method: MethodId; spec: MethodOptionSpec }[] }>();
  for (const m of METHODS) {
    for (const spec of m.options) {
      const flag = spec.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      const entry = flags.get(flag) ?? { option: spec.name, specs: [] };
      entry.specs.push({ method: m.id, spec });
      flags.set(flag, entry);
    }
  }
  return flags;
})();

function optionUsage(): string {
  return [...OPTION_FLAGS.entries()]
    .map(([flag, { specs }]) => {
      const spec = specs[0]!.spec;
      const value = spec.type === 'choice' ? spec.choices.map((c) => c.value).join('|') : spec.type === 'integer' ? 'N' : 'X';
      return `[--${flag} ${value}]`;
    })
    .join(' ');
}

const USAGE = `usage: npm run explain -- --model DIR/model.json (--image photo.jpg | --images DIR [--out-dir OUT] [--csv results.csv] [--shard K/N]) [--layer PATH] [--layers PATH,PATH] [--class N|LABEL]
  [--output K] [--counterfactual] [--method ${METHOD_IDS.join('|')}] [--methods ID,ID,…]
  ${optionUsage()} [--eigen-smooth] [--aug-smooth]
  [--preprocess ${NORMALIZATION_PRESETS.join('|')}] [--resize ${RESIZE_MODES.join('|')}] [--backend wasm|cpu] [--out overlay.png] [--json result.json]
  [--metrics [--metrics-steps N] [--metrics-baseline blur|mean]] [--sanity [--sanity-mode cascading|independent]]`;

export interface CliOptions {
  model: string;
  /** One image… */
  image?: string;
  /** …or every image under a folder (class subfolders = true labels): the batch mode (batch.ts). */
  images?: string;
  outDir?: string;
  csv?: string;
  shard?: { k: number; n: number };
  layer?: string;
  /** Several layers: each CAM method's map is their fused mean. */
  layers?: string[];
  target?: number | string;
  /** Which output of a multi-output model (default: the first classification-shaped one). */
  output?: number;
  counterfactual: boolean;
  methods: MethodId[];
  methodOptions: Partial<Record<MethodId, Record<string, MethodOptionValue>>>;
  eigenSmooth: boolean;
  augSmooth: boolean;
  preprocess: Partial<PreprocessOptions>;
  backend: 'wasm' | 'cpu';
  out?: string;
  json?: string;
  /** Faithfulness scores (deletion / insertion, ROAD, confidence change) of each method's map. */
  metrics?: { steps: number; baseline: FaithfulnessBaseline };
  /** The randomisation sanity check. */
  sanity?: { mode: SanityMode };
}

/** `K/N` with 1 ≤ K ≤ N: this machine's part of N. */
function parseShard(raw: string): { k: number; n: number } {
  const m = /^(\d+)\/(\d+)$/.exec(raw);
  const [k, n] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!m || n < 1 || k < 1 || k > n) throw studioError('BAD_ARGUMENT', { reason: `--shard takes K/N with 1 ≤ K ≤ N (e.g. 2/8), not "${raw}"` });
  return { k, n };
}

function outputIndex(raw: string): number {
  if (!/^\d+$/.test(raw)) throw studioError('BAD_ARGUMENT', { reason: `--output takes an output number (0, 1, …), not "${raw}"` });
  return Number(raw);
}

export function parseCliArgs(argv: string[]): CliOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        model: { type: 'string' },
        image: { type: 'string' },
        images: { type: 'string' },
        'out-dir': { type: 'string' },
        csv: { type: 'string' },
        shard: { type: 'string' },
        layer: { type: 'string' },
        layers: { type: 'string' },
        class: { type: 'string' },
        counterfactual: { type: 'boolean', default: false },
        output: { type: 'string' },
        method: { type: 'string' },
        methods: { type: 'string' },
        'eigen-smooth': { type: 'boolean', default: false },
        'aug-smooth': { type: 'boolean', default: false },
        ...Object.fromEntries([...OPTION_FLAGS.keys()].map((flag) => [flag, { type: 'string' as const }])),
        preprocess: { type: 'string' },
        resize: { type: 'string' },
        backend: { type: 'string', default: 'wasm' },
        out: { type: 'string' },
        json: { type: 'string' },
        metrics: { type: 'boolean', default: false },
        'metrics-steps': { type: 'string' },
        'metrics-baseline': { type: 'string' },
        sanity: { type: 'boolean', default: false },
        'sanity-mode': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    throw studioError('BAD_ARGUMENT', { reason: e instanceof Error ? e.message : String(e) });
  }
  const flags = values as Record<string, string | boolean | undefined>;
  if (values.help) return 'help';
  if (!values.model) throw studioError('BAD_ARGUMENT', { reason: '--model is required (a model.json, a folder or a .zip)' });
  if (!values.image === !values.images) throw studioError('BAD_ARGUMENT', { reason: 'give --image (one photo) or --images (a folder), one of the two' });
  if (!values.images && (values['out-dir'] || values.csv || values.shard)) throw studioError('BAD_ARGUMENT', { reason: '--out-dir, --csv and --shard go with --images' });
  if (values.images && (values.out || values.json)) throw studioError('BAD_ARGUMENT', { reason: 'with --images, write with --out-dir and --csv (not --out / --json)' });
  if (values.images && !values['out-dir'] && !values.csv) throw studioError('BAD_ARGUMENT', { reason: '--images needs --out-dir (overlays and results.csv) or --csv' });
  const oneOf = <T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined => {
    if (value === undefined) return undefined;
    if (!allowed.includes(value as T)) throw studioError('BAD_ARGUMENT', { reason: `--${name} must be one of ${allowed.join(', ')} (got "${value}")` });
    return value as T;
  };
  if (values.method !== undefined && values.methods !== undefined) throw studioError('BAD_ARGUMENT', { reason: 'give --method or --methods, not both' });
  const methodList = values.methods !== undefined ? values.methods.split(',').map((m) => m.trim()).filter(Boolean) : [values.method ?? 'gradcam'];
  const methods = methodList.map((m) => oneOf(values.methods !== undefined ? 'methods' : 'method', m, METHOD_IDS)!);
  if (methods.length === 0) throw studioError('BAD_ARGUMENT', { reason: '--methods needs at least one method id' });
  // Each option flag goes to every chosen method that has that option, checked against its range.
  const methodOptions: CliOptions['methodOptions'] = {};
  for (const [flag, { option, specs }] of OPTION_FLAGS) {
    const raw = flags[flag];
    if (typeof raw !== 'string') continue;
    const targets = specs.filter((s) => methods.includes(s.method));
    if (targets.length === 0) throw studioError('BAD_ARGUMENT', { reason: `--${flag} applies to ${specs.map((s) => s.method).join(', ')}, none of which is chosen` });
    for (const { method, spec } of targets) {
      const value: MethodOptionValue = spec.type === 'choice' ? raw : Number(raw);
      const problems = methodOptionProblems(method, { [option]: value });
      if (problems.length) throw studioError('BAD_ARGUMENT', { reason: `--${flag}: ${problems.join('; ')}` });
      methodOptions[method] = { ...(methodOptions[method] ?? {}), [option]: value };
    }
  }
  const metricsSteps = flags['metrics-steps'] === undefined ? DEFAULT_FAITHFULNESS.steps : Number(flags['metrics-steps']);
  if (!Number.isInteger(metricsSteps) || metricsSteps < 2 || metricsSteps > 1000) throw studioError('BAD_ARGUMENT', { reason: `--metrics-steps must be an integer from 2 to 1000 (got "${String(flags['metrics-steps'])}")` });
  const metricsBaseline = oneOf<FaithfulnessBaseline>('metrics-baseline', flags['metrics-baseline'] as string | undefined, ['blur', 'mean']) ?? DEFAULT_FAITHFULNESS.baseline;
  const sanityMode = oneOf<SanityMode>('sanity-mode', flags['sanity-mode'] as string | undefined, ['cascading', 'independent']) ?? 'cascading';
  const classArg = values.class;
  const layers = values.layers?.split(',').map((l) => l.trim()).filter(Boolean);
  return {
    model: values.model,
    ...(values.image ? { image: values.image } : {}),
    ...(values.images ? { images: values.images } : {}),
    ...(values['out-dir'] ? { outDir: values['out-dir'] } : {}),
    ...(values.csv ? { csv: values.csv } : {}),
    ...(values.shard !== undefined ? { shard: parseShard(values.shard) } : {}),
    layer: values.layer,
    ...(layers && layers.length ? { layers } : {}),
    target: classArg === undefined ? undefined : /^\d+$/.test(classArg) ? Number(classArg) : classArg,
    ...(values.output !== undefined ? { output: outputIndex(values.output) } : {}),
    counterfactual: values.counterfactual ?? false,
    methods,
    methodOptions,
    eigenSmooth: Boolean(flags['eigen-smooth']),
    augSmooth: Boolean(flags['aug-smooth']),
    preprocess: {
      ...(values.preprocess ? { normalization: oneOf<NormalizationPreset>('preprocess', values.preprocess, NORMALIZATION_PRESETS) } : {}),
      ...(values.resize ? { resize: oneOf<ResizeMode>('resize', values.resize, RESIZE_MODES) } : {}),
    },
    backend: oneOf('backend', values.backend, ['wasm', 'cpu'] as const) ?? 'wasm',
    out: values.out,
    json: values.json,
    ...(flags.metrics ? { metrics: { steps: metricsSteps, baseline: metricsBaseline } } : {}),
    ...(flags.sanity ? { sanity: { mode: sanityMode } } : {}),
  };
}

/** The cam (model input size) laid over the crop box of the photo, as a full-photo map (0 outside the box). */
function nested(map: Heatmap): number[][] {
  return Array.from({ length: map.height }, (_, y) => Array.from(map.data.subarray(y * map.width, (y + 1) * map.width)));
}

/** One method: `--out` as given; several: the method's id before the extension (overlay-gradcam.png). */
export function outPath(out: string, method: MethodId, count: number): string {
  if (count <= 1) return out;
  const dot = out.lastIndexOf('.');
  return dot > out.lastIndexOf('/') ? `${out.slice(0, dot)}-${method}${out.slice(dot)}` : `${out}-${method}.png`;
}

export async function runCli(argv: string[], log: (line: string) => void = console.log): Promise<ExplainResult | null> {
  const options = parseCliArgs(argv);
  if (options === 'help') {
    log(USAGE);
    return null;
  }
  try {
    await useBackend(options.backend);
  } catch (e) {
    throw studioError('BACKEND_FAILED', { backend: options.backend, reason: e instanceof Error ? e.message : String(e) });
  }

  // A bad --out-dir refuses before the model loads, let alone before any row.
  if (options.outDir) await checkOutDir(options.outDir);
  const lm = await loadModel(await filesFromPaths([options.model]));
  try {
    const explainOptions: ExplainOptions = {
      layerPath: options.layer ?? null,
      ...(options.layers ? { layerPaths: options.layers } : {}),
      target: options.target ?? null,
      output: options.output ?? null,
      counterfactual: options.counterfactual,
      methods: options.methods,
      methodOptions: options.methodOptions,
      eigenSmooth: options.eigenSmooth,
      augSmooth: options.augSmooth,
      preprocess: options.preprocess,
    };
    if (options.images) {
      const batch: BatchOptions = { images: options.images, outDir: options.outDir, csv: options.csv, shard: options.shard, explain: explainOptions };
      log(`model: ${lm.summary.name} (${lm.summary.format}), input ${lm.summary.imageSize.join('×')}`);
      await runBatch(lm, batch, log, (line) => process.stderr.write(`${line}\n`));
      return null;
    }
    const image = await decodeImageFile(options.image!);
    const result = await lm.explain(image, explainOptions);
    const preprocess = { ...lm.summary.preprocess, ...options.preprocess };
    log(`model: ${lm.summary.name} (${lm.summary.format}), input ${lm.summary.imageSize.join('×')}, preprocessing ${preprocess.normalization} + ${preprocess.resize} (${options.preprocess.normalization || options.preprocess.resize ? 'command line' : preprocess.source})`);
    // What the app shows in its status region when the model loads (NaN weights, a broken metadata.json…).
    for (const w of lm.summary.warnings) log(`warning [${w.code}]: ${w.message}`);
    const layerPaths = result.layerPaths.length ? result.layerPaths : result.layerPath ? [result.layerPath] : [];
    log(`layer: ${layerPaths.length ? layerPaths.join(' + ') : '(input methods only)'}${options.layer || options.layers ? '' : ' (default)'}`);
    log('top-5:');
    for (const p of result.predictions.slice(0, 5)) log(`  ${(p.probability * 100).toFixed(2).padStart(6)}%  ${p.index}  ${p.label}`);
    for (const id of options.methods) {
      const map = result.maps[id];
      const raw = map?.kind === 'heatmap' ? `, raw max ${map.rawMax.toPrecision(4)}` : '';
      log(`explained: ${result.classIndex} ${result.classLabel}${result.counterfactual ? ' (counterfactual)' : ''}, method ${map ? methodSettingsText(id, map.settings) : id}${raw}`);
    }
    for (const w of result.warnings) log(`warning [${w.code}]: ${w.message}`);

    let faithfulness: FaithfulnessResult | null = null;
    if (options.metrics) {
      const maps: Partial<Record<MethodId, Heatmap>> = {};
      for (const id of options.methods) {
        const map = result.maps[id];
        if (map) maps[id] = map.kind === 'heatmap' ? map.upsampled : map.saliency;
      }
      faithfulness = await measureFaithfulness(lm, { image, preprocess: options.preprocess, classIndex: result.classIndex, maps, options: options.metrics });
      log(`faithfulness (${faithfulness.settings.steps} steps, ${faithfulness.settings.baseline} baseline, ${faithfulness.forwardPasses} forward passes): deletion AUC ↓ · insertion AUC ↑ · ROAD ↑ · confidence change ↑`);
      const rows: Array<[string, FaithfulnessResult['references']['random']]> = [
        ...options.methods.flatMap((id) => (faithfulness!.methods[id] ? [[methodSettingsText(id, result.maps[id]!.settings), faithfulness!.methods[id]!] as [string, FaithfulnessResult['references']['random']]] : [])),
        ...(Object.entries(faithfulness.references) as Array<[ReferenceMapId, FaithfulnessResult['references']['random']]>).map(([id, s]) => [`${REFERENCE_LABELS[id]} (reference)`, s] as [string, FaithfulnessResult['references']['random']]),
      ];
      for (const caveat of faithfulness.caveats ?? []) log(`warning [${caveat.code}]: ${caveat.message}`);
      for (const [label, s] of rows) {
        log(`  ${label}: deletion ${s.deletion.auc.toFixed(3)} · insertion ${s.insertion.auc.toFixed(3)} · ROAD ${s.road.combined.toFixed(3)} · confidence change ${s.confidenceChange >= 0 ? '+' : ''}${s.confidenceChange.toFixed(3)}`);
      }
    }
    let sanity: SanityResult | null = null;
    if (options.sanity) {
      const explained = options.methods.filter((id) => result.maps[id]);
      sanity = await sanityCheck({
        loaded: lm, image, classIndex: result.classIndex, mode: options.sanity.mode,
        explain: { layerPath: options.layer ?? null, ...(options.layers ? { layerPaths: options.layers } : {}), methods: explained, methodOptions: options.methodOptions, eigenSmooth: options.eigenSmooth, augSmooth: options.augSmooth, preprocess: options.preprocess },
      });
      log(`sanity check (${sanity.mode}, head first): Spearman ρ / SSIM with the original map per step`);
      sanity.steps.forEach((step, k) => {
        const cells = explained.map((id) => `${id} ${sanity!.methods[id]!.spearman[k]!.toFixed(3)} / ${sanity!.methods[id]!.ssim[k]!.toFixed(3)}`);
        log(`  ${k} ${k === 0 ? 'original' : `${step.label} (${step.randomised.length} random)`}: ${cells.join(' · ')}`);
      });
      for (const id of explained) {
        if (sanity.methods[id]!.flagged) log(`warning: ${id} survives randomisation — its map does not depend on what the model learned`);
      }
    }

    if (options.out) {
      for (const id of options.methods) {
        const map = result.maps[id];
        if (!map) continue;
        let png: Uint8Array;
        if (map.kind === 'heatmap') {
          // A heatmap over the photo, at the photo's size.
          png = encodePng({ width: image.width, height: image.height, data: overlayOnPhoto(image, map.upsampled, preprocess.resize) });
        } else {
          png = encodePng({ width: map.map.width, height: map.map.height, data: rgbMapToRgbaPure(map.map.data, map.map.width, map.map.height) });
        }
        const path = outPath(options.out, id, options.methods.length);
        await writeFile(path, png);
        log(`wrote ${path}`);
      }
    }
    if (options.json) {
      const gradcam = result.maps.gradcam;
      const json = {
        model: lm.summary.name,
        image: options.image,
        method: options.methods[0],
        methods: options.methods,
        layerPath: result.layerPath,
        layerPaths,
        class: { index: result.classIndex, label: result.classLabel, probability: result.probability, score: result.score },
        counterfactual: result.counterfactual,
        output: { index: result.output, name: lm.summary.outputs[result.output]?.name },
        top5: result.predictions.slice(0, 5).map((p) => ({ index: p.index, label: p.label, probability: p.probability })),
        preprocess: { normalization: preprocess.normalization, resize: preprocess.resize },
        // One map per method, keyed by id, with its settings: heatmaps at their own resolution in [0, 1].
        maps: Object.fromEntries(
          options.methods.flatMap((id) => {
            const map = result.maps[id];
            if (!map) return [];
            const entry = map.kind === 'heatmap'
              ? { kind: 'heatmap', layerPaths: map.layerPaths, settings: map.settings, rawMax: map.rawMax, width: map.map.width, height: map.map.height, map: nested(map.map) }
              : { kind: 'rgb', layerPaths: map.layerPaths, settings: map.settings, width: map.map.width, height: map.map.height };
            const scores = faithfulness?.methods[id];
            return [[id, scores ? { ...entry, faithfulness: scores } : entry]];
          }),
        ),
        ...(gradcam?.kind === 'heatmap' ? { cam: nested(gradcam.map), camRawMax: gradcam.rawMax } : {}),
        ...(faithfulness
          ? { faithfulness: { probability: faithfulness.probability, settings: faithfulness.settings, forwardPasses: faithfulness.forwardPasses, references: faithfulness.references } }
          : {}),
        ...(sanity ? { sanity } : {}),
        warnings: [...lm.summary.warnings, ...result.warnings],
        timings: result.timings,
      };
      await writeFile(options.json, JSON.stringify(json, null, 1));
      log(`wrote ${options.json}`);
    }
    return result;
  } finally {
    lm.dispose();
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  runCli(process.argv.slice(2)).then(
    () => process.exit(0),
    (e: unknown) => {
      const err = toStudioError(e);
      console.error(`error [${err.code}]: ${err.message}`);
      if (err.code === 'BAD_ARGUMENT') console.error(USAGE);
      if (process.env.DEBUG) console.error(e);
      process.exit(err.code === 'BAD_ARGUMENT' ? 2 : 1);
    },
  );
}
