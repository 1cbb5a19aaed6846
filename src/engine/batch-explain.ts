/**
 * Many images at once (the gallery, the batch command line): one forward pass and one backward pass
 * for a whole batch, each row scored at its own class. The gradient CAMs whose map comes from one
 * image's own activation and gradient (those with a batch-native formula, MethodImplementation.weighted:
 * Grad-CAM, Grad-CAM++, XGrad-CAM, HiResCAM, LayerCAM, Grad-CAM element-wise) run that formula — the
 * one the single-image path runs — on the [batch, h, w, C] tensors; every other method explains the
 * images one by one through `LoadedModel.explain` (the single-image path), so any method works.
 * The request's rules (layer, class, unit and binary sign) are request.ts's, as for one image.
 *
 * What comes back is small: the top-5 and one map per image, resampled to `mapSize`² (the gallery's
 * fixed resolution: thumbnails, map statistics and per-class means are all made from it). Nothing
 * of the batch is kept: its activations are freed before the function returns.
 */
import * as tf from '@tensorflow/tfjs';
import { studioError } from '../shared/errors';
import { METHOD_IDS, methodInfo, type MethodId } from '../shared/methods';
import type { Heatmap, Prediction, PreprocessOptions } from '../shared/types';
import type { RawImage } from './files';
import { downstreamSteps, logitFromSlots, runForward } from './executor/forward';
import { gradientAt } from './executor/gradient';
import { predictionsOf, type LoadedModel } from './model';
import { preprocessImage, resolvePreprocess } from './preprocess';
import { programForOutput } from './executor/program';
import { METHOD_IMPLEMENTATIONS } from './methods/index';
import { camsOf } from './methods/cam';
import { resolveRequest, resolveTarget } from './request';

/** The methods computed on a whole batch here (those with a batch-native formula); the others run image by image. */
export const BATCHED_METHODS: ReadonlySet<MethodId> = new Set<MethodId>(METHOD_IDS.filter((id) => METHOD_IMPLEMENTATIONS[id].weighted));

/** The gallery's map resolution: small enough to keep thousands, fine enough for the centre/border statistics. */
export const GALLERY_MAP_SIZE = 32;

export interface BatchExplainOptions {
  /** The layer (a path or a unique name); default: the model's default layer. */
  layerPath?: string | null;
  method: MethodId;
  /** Per image: the class to explain (index), or null for its top-1. Absent: every image's top-1. */
  targets?: ReadonlyArray<number | null>;
  preprocess?: Partial<PreprocessOptions>;
  /** Side of the square map returned (default GALLERY_MAP_SIZE). */
  mapSize?: number;
}

export interface BatchItemResult {
  /** The top-5 (or fewer) classes. */
  top5: Prediction[];
  /** The class explained. */
  classIndex: number;
  /** The map at mapSize × mapSize over the model's view of the image, normalised to [0, 1] (all zero: no evidence). */
  map: Heatmap;
  /** The map's largest value before normalisation. */
  rawMax: number;
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw studioError('CANCELLED');
}

/** [B, h, w] maps → [B, size, size] (bilinear, half-pixel centres), each row then divided by its own maximum; the raw maxima are those before resampling. */
async function resampled(maps: tf.Tensor3D, size: number): Promise<{ maps: Heatmap[]; rawMax: number[] }> {
  const [normalised, maxima] = tf.tidy(() => {
    const scaled = (tf.image.resizeBilinear(maps.expandDims(3) as tf.Tensor4D, [size, size], false, true).squeeze([3]) as tf.Tensor3D).relu();
    const max = scaled.max([1, 2]);
    const safe = tf.where(tf.greater(max, 0), max, tf.onesLike(max)).reshape([-1, 1, 1]);
    return [scaled.div(safe).clipByValue(0, 1), maps.max([1, 2])];
  });
  try {
    const [data, raw] = await Promise.all([normalised.data(), maxima.data()]);
    const rows = normalised.shape[0];
    const per = size * size;
    return {
      maps: Array.from({ length: rows }, (_, r) => ({ width: size, height: size, data: Float32Array.from(data.subarray(r * per, (r + 1) * per)) })),
      rawMax: Array.from(raw),
    };
  } finally {
    tf.dispose([normalised, maxima]);
  }
}

/**
 * Explain `images` (one batch: the caller bounds its size) with one method at one layer. A batched
 * method costs one forward and one backward pass for the whole batch; any other runs the
 * single-image path per image.
 */
export async function explainBatch(loaded: LoadedModel, images: readonly RawImage[], options: BatchExplainOptions, signal?: AbortSignal): Promise<BatchItemResult[]> {
  throwIfAborted(signal);
  if (images.length === 0) return [];
  const size = options.mapSize ?? GALLERY_MAP_SIZE;
  const targets = options.targets ?? images.map(() => null);
  const weighted = METHOD_IMPLEMENTATIONS[options.method].weighted;
  if (!weighted) return explainEach(loaded, images, options, targets, size, signal);

  const { summary } = loaded;
  const request = resolveRequest(summary, loaded.program, { methods: [options.method], layerPath: options.layerPath ?? null });
  const [layer] = request.layers;
  if (!layer) throw studioError('NO_SPATIAL_LAYER');
  const { slot } = layer;
  const { output, out } = request;
  const preprocess = resolvePreprocess(summary.preprocess, options.preprocess);
  const program = programForOutput(loaded.program, output);
  // Kept for the backward pass: the layer's activation and every slot its downstream steps read or write.
  const keep = new Set<number>([slot, ...program.outputSlots]);
  for (const step of downstreamSteps(program, slot)) for (const s of [...step.inputs, ...step.outputs]) keep.add(s);
  const values = tf.tidy(() => {
    const x = tf.concat(images.map((im) => preprocessImage(im, summary.imageSize, preprocess)));
    return runForward(loaded.program, x, { fast: true, keep });
  });
  try {
    // Every row's logits and probabilities, read back once.
    const [logitsT, probabilitiesT] = tf.tidy(() => {
      const l = logitFromSlots(program, (s) => {
        const value = values[s];
        if (!value) throw studioError('INTERNAL', { reason: `slot ${s} has no value` });
        return value;
      });
      const rows = l.reshape([images.length, -1]);
      return [rows, out.outputActivation === 'sigmoid' || rows.shape[1] === 1 ? tf.sigmoid(rows) : tf.softmax(rows)];
    });
    const [logits, probabilities] = await Promise.all([logitsT.data(), probabilitiesT.data()]).finally(() => tf.dispose([logitsT, probabilitiesT]));
    throwIfAborted(signal);
    const units = logits.length / images.length;
    const rows = images.map((_, r) => {
      const predictions = predictionsOf({ logits: Float32Array.from(logits.subarray(r * units, (r + 1) * units)), probabilities: Float32Array.from(probabilities.subarray(r * units, (r + 1) * units)) }, out);
      const wanted = targets[r];
      // A class outside the output's labels explains the row's top-1 (the gallery's rule).
      const target = wanted === null || wanted === undefined || wanted < 0 || wanted >= out.labels.length ? null : wanted;
      return { predictions, ...resolveTarget(out, predictions, target) };
    });
    const a = values[slot] as tf.Tensor4D | undefined;
    if (!a || a.rank !== 4) throw studioError('LAYER_NOT_SPATIAL', { path: options.layerPath ?? String(slot) });
    const g = gradientAt(program, values, slot, rows.map((r) => r.unit), { sign: rows.map((r) => r.sign) }) as tf.Tensor4D;
    let cams: tf.Tensor3D;
    try {
      cams = tf.tidy(() => camsOf(weighted(a, g)));
    } finally {
      g.dispose();
    }
    const { maps, rawMax } = await resampled(cams, size).finally(() => cams.dispose());
    return rows.map((r, i) => ({ top5: r.predictions.slice(0, 5), classIndex: r.classIndex, map: maps[i]!, rawMax: rawMax[i]! }));
  } finally {
    tf.dispose(values.filter(Boolean));
  }
}

/** Any method, image by image through the single-image path (the reference the batched path is tested against; its cache is cleared at the end). */
export async function explainEach(
  loaded: LoadedModel,
  images: readonly RawImage[],
  options: BatchExplainOptions,
  targets: ReadonlyArray<number | null>,
  size: number,
  signal?: AbortSignal,
): Promise<BatchItemResult[]> {
  const results: BatchItemResult[] = [];
  const layerMethod = methodInfo(options.method).needs === 'layer';
  try {
    for (const [i, image] of images.entries()) {
      throwIfAborted(signal);
      const result = await loaded.explain(
        image,
        { methods: [options.method], layerPath: layerMethod ? options.layerPath : undefined, target: targets[i] ?? null, preprocess: options.preprocess },
        signal,
      );
      const m = result.maps[options.method];
      if (!m) throw studioError('INTERNAL', { reason: `${options.method} gave no map` });
      const source = m.kind === 'heatmap' ? m.map : m.saliency;
      const t = tf.tensor3d(source.data, [1, source.height, source.width]);
      const { maps } = await resampled(t, size).finally(() => t.dispose());
      results.push({ top5: result.predictions.slice(0, 5), classIndex: result.classIndex, map: maps[0]!, rawMax: m.kind === 'heatmap' ? m.rawMax : 1 });
    }
  } finally {
    loaded.clearCache();
  }
  return results;
}
