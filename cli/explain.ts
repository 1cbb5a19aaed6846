/**
 * `npm run explain -- --model DIR/model.json --image photo.jpg [options]`: the same engine as the app,
 * in Node (WASM backend by default). Prints the layer it chose, the top-5 and the class explained;
 * writes an overlay PNG and/or a JSON result. Any failure ends with one line `error [CODE]: message`
 * and exit code 1 (2 for bad arguments).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadModel } from '../src/engine/model';
import { filesFromPaths } from '../src/engine/node/files';
import { decodeImageFile, encodePng } from '../src/engine/node/image';
import { registerFastWasmGradients } from '../src/engine/kernels/wasm-gradients';
import { cropBox, NORMALIZATION_PRESETS, RESIZE_MODES } from '../src/engine/preprocess';
import { colormapLut } from '../src/render/colormaps';
import { blendOverlayPure, rgbMapToRgbaPure } from '../src/render/pixels';
import { studioError, toStudioError } from '../src/shared/errors';
import type { ExplainMethod, ExplainResult, Heatmap, NormalizationPreset, PreprocessOptions, ResizeMode } from '../src/shared/types';
import type { RawImage } from '../src/engine/files';

const USAGE = `usage: npm run explain -- --model DIR/model.json --image photo.jpg [--layer PATH] [--class N|LABEL]
  [--counterfactual] [--method gradcam|guided-backprop|guided-gradcam] [--preprocess ${NORMALIZATION_PRESETS.join('|')}]
  [--resize ${RESIZE_MODES.join('|')}] [--backend wasm|cpu] [--out overlay.png] [--json result.json]`;

const METHODS: readonly ExplainMethod[] = ['gradcam', 'guided-backprop', 'guided-gradcam'];

export interface CliOptions {
  model: string;
  image: string;
  layer?: string;
  target?: number | string;
  counterfactual: boolean;
  method: ExplainMethod;
  preprocess: Partial<PreprocessOptions>;
  backend: 'wasm' | 'cpu';
  out?: string;
  json?: string;
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
        layer: { type: 'string' },
        class: { type: 'string' },
        counterfactual: { type: 'boolean', default: false },
        method: { type: 'string', default: 'gradcam' },
        preprocess: { type: 'string' },
        resize: { type: 'string' },
        backend: { type: 'string', default: 'wasm' },
        out: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    throw studioError('BAD_ARGUMENT', { reason: e instanceof Error ? e.message : String(e) });
  }
  if (values.help) return 'help';
  if (!values.model) throw studioError('BAD_ARGUMENT', { reason: '--model is required (a model.json, a folder or a .zip)' });
  if (!values.image) throw studioError('BAD_ARGUMENT', { reason: '--image is required' });
  const oneOf = <T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined => {
    if (value === undefined) return undefined;
    if (!allowed.includes(value as T)) throw studioError('BAD_ARGUMENT', { reason: `--${name} must be one of ${allowed.join(', ')} (got "${value}")` });
    return value as T;
  };
  const classArg = values.class;
  return {
    model: values.model,
    image: values.image,
    layer: values.layer,
    target: classArg === undefined ? undefined : /^\d+$/.test(classArg) ? Number(classArg) : classArg,
    counterfactual: values.counterfactual ?? false,
    method: oneOf('method', values.method, METHODS) ?? 'gradcam',
    preprocess: {
      ...(values.preprocess ? { normalization: oneOf<NormalizationPreset>('preprocess', values.preprocess, NORMALIZATION_PRESETS) } : {}),
      ...(values.resize ? { resize: oneOf<ResizeMode>('resize', values.resize, RESIZE_MODES) } : {}),
    },
    backend: oneOf('backend', values.backend, ['wasm', 'cpu'] as const) ?? 'wasm',
    out: values.out,
    json: values.json,
  };
}

/** The cam (model input size) laid over the crop box of the photo, as a full-photo map (0 outside the box). */
function mapOverPhoto(cam: Heatmap, image: RawImage, resize: ResizeMode): Float32Array {
  const box = cropBox(image, [cam.height, cam.width], resize);
  const resized = tf.tidy(() =>
    tf.image.resizeBilinear(tf.tensor3d(cam.data, [cam.height, cam.width, 1]), [box.height, box.width], false, true).dataSync() as Float32Array,
  );
  const out = new Float32Array(image.width * image.height);
  for (let y = 0; y < box.height; y++) out.set(resized.subarray(y * box.width, (y + 1) * box.width), (box.y + y) * image.width + box.x);
  return out;
}

function nested(map: Heatmap): number[][] {
  return Array.from({ length: map.height }, (_, y) => Array.from(map.data.subarray(y * map.width, (y + 1) * map.width)));
}

function rgbaOf(image: RawImage): Uint8ClampedArray {
  return image.data instanceof Uint8ClampedArray ? image.data : new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength);
}

export async function runCli(argv: string[], log: (line: string) => void = console.log): Promise<ExplainResult | null> {
  const options = parseCliArgs(argv);
  if (options === 'help') {
    log(USAGE);
    return null;
  }
  try {
    await tf.setBackend(options.backend);
    await tf.ready();
  } catch (e) {
    throw studioError('BACKEND_FAILED', { backend: options.backend, reason: e instanceof Error ? e.message : String(e) });
  }
  if (options.backend === 'wasm') registerFastWasmGradients();

  const lm = await loadModel(await filesFromPaths([options.model]));
  try {
    const image = await decodeImageFile(options.image);
    const result = await lm.explain(image, {
      layerPath: options.layer ?? null,
      target: options.target ?? null,
      counterfactual: options.counterfactual,
      methods: [options.method],
      preprocess: options.preprocess,
    });
    const preprocess = { ...lm.summary.preprocess, ...options.preprocess };
    log(`model: ${lm.summary.name} (${lm.summary.format}), input ${lm.summary.imageSize.join('×')}, preprocessing ${preprocess.normalization} + ${preprocess.resize} (${options.preprocess.normalization || options.preprocess.resize ? 'command line' : preprocess.source})`);
    // What the app shows in its status region when the model loads (NaN weights, a broken metadata.json…).
    for (const w of lm.summary.warnings) log(`warning [${w.code}]: ${w.message}`);
    log(`layer: ${result.layerPath ?? '(input: guided backprop)'}${options.layer ? '' : ' (default)'}`);
    log('top-5:');
    for (const p of result.predictions.slice(0, 5)) log(`  ${(p.probability * 100).toFixed(2).padStart(6)}%  ${p.index}  ${p.label}`);
    log(`explained: ${result.classIndex} ${result.classLabel}${result.counterfactual ? ' (counterfactual)' : ''}, method ${options.method}${result.camRawMax !== undefined ? `, raw max ${result.camRawMax.toPrecision(4)}` : ''}`);
    for (const w of result.warnings) log(`warning [${w.code}]: ${w.message}`);

    if (options.out) {
      let png: Uint8Array;
      if (options.method === 'gradcam') {
        const map = mapOverPhoto(result.camUpsampled!, image, preprocess.resize);
        const blended = blendOverlayPure(rgbaOf(image), map, image.width, image.height, colormapLut('jet'), { colormap: 'jet', opacity: 0.5, threshold: 0 });
        png = encodePng({ width: image.width, height: image.height, data: blended });
      } else {
        const rgb = (options.method === 'guided-backprop' ? result.guidedBackprop : result.guidedGradcam)!;
        png = encodePng({ width: rgb.width, height: rgb.height, data: rgbMapToRgbaPure(rgb.data, rgb.width, rgb.height) });
      }
      await writeFile(options.out, png);
      log(`wrote ${options.out}`);
    }
    if (options.json) {
      const json = {
        model: lm.summary.name,
        image: options.image,
        method: options.method,
        layerPath: result.layerPath,
        class: { index: result.classIndex, label: result.classLabel, probability: result.probability, score: result.score },
        counterfactual: result.counterfactual,
        top5: result.predictions.slice(0, 5).map((p) => ({ index: p.index, label: p.label, probability: p.probability })),
        preprocess: { normalization: preprocess.normalization, resize: preprocess.resize },
        ...(result.cam ? { cam: nested(result.cam), camRawMax: result.camRawMax } : {}),
        warnings: [...lm.summary.warnings, ...result.warnings],
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
