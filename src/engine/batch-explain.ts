/**
 * Many images at once (the gallery, the batch command line): one forward pass and one backward pass
 * for a whole batch, each row scored at its own class. The gradient CAMs whose weights come from one
 * image's own activation and gradient (Grad-CAM, XGrad-CAM, HiResCAM, LayerCAM, Grad-CAM
 * element-wise) are computed here on the [batch, h, w, C] tensors; every other method explains the
 * images one by one through `LoadedModel.explain` (the single-image path), so any method works.
 *
 * What comes back is small: the top-5 and one map per image, resampled to `mapSize`² (the gallery's
 * fixed resolution: thumbnails, map statistics and per-class means are all made from it). Nothing
 * of the batch is kept: its activations are freed before the function returns.
 */
import * as tf from '@tensorflow/tfjs';
import { studioError } from '../shared/errors';
import { methodInfo, type MethodId } from '../shared/methods';
import type { Heatmap, Prediction, PreprocessOptions } from '../shared/types';
import type { RawImage } from './files';
import { downstreamSteps, logitFromSlots, runForward } from './executor/forward';
import { gradientAt } from './executor/gradient';
import { predictionsOf, type LoadedModel } from './model';
import { preprocessImage, resolvePreprocess } from './preprocess';
import { programForOutput } from './executor/program';
import { resolveLayerPath } from './tree';

/** The methods computed on a whole batch here; the others run image by image. */
export const BATCHED_METHODS: ReadonlySet<MethodId> = new Set<MethodId>(['gradcam', 'xgradcam', 'hirescam', 'layercam', 'gradcam-elementwise']);

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

/** The layer's path and slot, checked as the single-image path checks it. */
function targetSlot(loaded: LoadedModel, layerPath: string | null | undefined): { path: string; slot: number } {
  const wanted = layerPath ?? loaded.summary.defaultLayerPath;
  if (wanted === null) throw studioError('NO_SPATIAL_LAYER');
  const node = resolveLayerPath(loaded.summary.tree, wanted);
  if (!node) throw studioError('LAYER_NOT_FOUND', { path: wanted });
  if (!node.explainable) throw studioError('LAYER_NOT_SPATIAL', { path: node.path });
  const slot = loaded.program.slotsByPath.get(node.path);
  if (slot === undefined) throw studioError('LAYER_NOT_FOUND', { path: node.path });
  return { path: node.path, slot };
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

/** The batched CAM of `method` from A and g ([B, h, w, C]): [B, h, w], before normalisation. */
function batchedCam(method: MethodId, a: tf.Tensor4D, g: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => {
    switch (method) {
      case 'gradcam':
        return tf.relu(tf.mul(a, g.mean([1, 2], true)).sum(3)) as tf.Tensor3D;
      case 'xgradcam': {
        const w = tf.div(tf.sum(tf.mul(g, a), [1, 2], true), tf.add(tf.sum(a, [1, 2], true), 1e-7));
        return tf.relu(tf.mul(a, w).sum(3)) as tf.Tensor3D;
      }
      case 'hirescam':
        return tf.relu(tf.mul(g, a).sum(3)) as tf.Tensor3D;
      case 'layercam':
        return tf.relu(tf.mul(tf.relu(g), a).sum(3)) as tf.Tensor3D;
      case 'gradcam-elementwise':
        return tf.relu(tf.relu(tf.mul(g, a)).sum(3)) as tf.Tensor3D;
      default:
        throw studioError('INTERNAL', { reason: `${method} is not computed on a batch` });
    }
  });
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
  if (!BATCHED_METHODS.has(options.method)) return explainEach(loaded, images, options, targets, size, signal);

  const { summary } = loaded;
  const { slot } = targetSlot(loaded, options.layerPath);
  const preprocess = resolvePreprocess(summary.preprocess, options.preprocess);
  const outputIndex = summary.defaultOutput;
  const out = summary.outputs[outputIndex]!;
  const program = programForOutput(loaded.program, outputIndex);
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
      const l = logitFromSlots(program, (s) => values[s]!);
      const rows = l.reshape([images.length, -1]);
      return [rows, out.outputActivation === 'sigmoid' || rows.shape[1] === 1 ? tf.sigmoid(rows) : tf.softmax(rows)];
    });
    const [logits, probabilities] = await Promise.all([logitsT.data(), probabilitiesT.data()]).finally(() => tf.dispose([logitsT, probabilitiesT]));
    throwIfAborted(signal);
    const units = logits.length / images.length;
    const rows = images.map((_, r) => {
      const predictions = predictionsOf({ logits: Float32Array.from(logits.subarray(r * units, (r + 1) * units)), probabilities: Float32Array.from(probabilities.subarray(r * units, (r + 1) * units)) }, out);
      const wanted = targets[r];
      const classIndex = wanted === null || wanted === undefined || wanted < 0 || wanted >= out.labels.length ? predictions[0]!.index : wanted;
      // A binary head's second class is its unit's negation (as in the single-image path).
      const unit = out.head === 'binary' ? 0 : classIndex;
      const sign = out.head === 'binary' && classIndex === 1 ? -1 : 1;
      return { predictions, classIndex, unit, sign };
    });
    const a = values[slot] as tf.Tensor4D | undefined;
    if (!a || a.rank !== 4) throw studioError('LAYER_NOT_SPATIAL', { path: options.layerPath ?? String(slot) });
    const g = gradientAt(program, values, slot, rows.map((r) => r.unit), { sign: rows.map((r) => r.sign) }) as tf.Tensor4D;
    let cams: tf.Tensor3D;
    try {
      cams = batchedCam(options.method, a, g);
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
