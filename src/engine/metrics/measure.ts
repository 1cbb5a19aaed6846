/**
 * Faithfulness of a loaded model's maps for one image and class: the seam between the metrics
 * (faithfulness.ts, which only needs "the class probability of a batch") and the model (its compiled
 * program, forward passes that keep nothing they no longer need), with the reference maps scored
 * alongside.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodId } from '../../shared/methods';
import { DEFAULT_FAITHFULNESS, type FaithfulnessOptions, type FaithfulnessResult, type MapFaithfulness, type ReferenceMapId } from '../../shared/metrics';
import type { Heatmap, PreprocessOptions } from '../../shared/types';
import type { RawImage } from '../files';
import { forwardLogits } from '../executor/forward';
import type { LoadedModel } from '../model';
import { preprocessImage, resolvePreprocess } from '../preprocess';
import { scoreFaithfulness, type BatchProbability } from './faithfulness';
import { centreGaussianMap, randomMap } from './reference-maps';
import { studioError } from '../../shared/errors';

/** The class probability of each image of a batch: softmax of the logits (sigmoid for a sigmoid or one-unit head). */
export function classProbability(loaded: Pick<LoadedModel, 'program' | 'summary'>, classIndex: number): BatchProbability {
  const { program, summary } = loaded;
  return async (batch) => {
    const logits = forwardLogits(program, program.steps, new Map([[program.inputSlot, batch]]), [], { fast: true });
    const p = tf.tidy(() => {
      const probabilities = summary.outputActivation === 'sigmoid' || logits.shape[1] === 1 ? tf.sigmoid(logits) : tf.softmax(logits);
      return probabilities.slice([0, classIndex], [logits.shape[0], 1]).reshape([-1]);
    });
    logits.dispose();
    try {
      return Float32Array.from(await p.data());
    } finally {
      p.dispose();
    }
  };
}

export interface FaithfulnessRequest {
  image: RawImage;
  preprocess?: Partial<PreprocessOptions>;
  classIndex: number;
  /** Each method's map at the model's input resolution (a heatmap's `upsampled`, an RGB method's `saliency`). */
  maps: Partial<Record<MethodId, Heatmap>>;
  options?: FaithfulnessOptions;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

/**
 * A map with one value everywhere (a 1×1 layer's Grad-CAM, upsampled) orders no pixel before another:
 * its deletion and insertion curves follow the tie-breaking order, not the map, so its scores are
 * said to mean nothing rather than shown as if they did.
 */
export function constantMapCaveats(maps: Array<[MethodId, Heatmap]>): { code: 'FAITHFULNESS_CONSTANT_MAP'; message: string }[] {
  return maps.flatMap(([id, map]) => {
    let min = Infinity;
    let max = -Infinity;
    for (const v of map.data) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (max - min > 1e-6) return [];
    const error = studioError('FAITHFULNESS_CONSTANT_MAP', { method: id });
    return [{ code: 'FAITHFULNESS_CONSTANT_MAP' as const, message: error.message }];
  });
}

export async function measureFaithfulness(loaded: Pick<LoadedModel, 'program' | 'summary'>, request: FaithfulnessRequest): Promise<FaithfulnessResult> {
  const options = { ...DEFAULT_FAITHFULNESS, ...request.options };
  const [height, width] = loaded.summary.imageSize;
  const input = preprocessImage(request.image, loaded.summary.imageSize, resolvePreprocess(loaded.summary.preprocess, request.preprocess));
  const references: Record<ReferenceMapId, Float32Array> = { random: randomMap(width, height, options.seed), centre: centreGaussianMap(width, height) };
  const methodMaps = Object.entries(request.maps) as Array<[MethodId, Heatmap]>;
  try {
    const { probability, scores, forwardPasses } = await scoreFaithfulness({
      input,
      probability: classProbability(loaded, request.classIndex),
      maps: [
        ...methodMaps.map(([id, map]) => ({ id, map: map.data })),
        ...(Object.entries(references) as Array<[ReferenceMapId, Float32Array]>).map(([id, map]) => ({ id: `reference:${id}`, map })),
      ],
      options,
      signal: request.signal,
      onProgress: request.onProgress,
    });
    return {
      classIndex: request.classIndex,
      classLabel: loaded.summary.labels[request.classIndex] ?? `class ${request.classIndex}`,
      probability,
      settings: { steps: options.steps, baseline: options.baseline },
      methods: Object.fromEntries(methodMaps.map(([id]) => [id, scores.get(id)!])) as Partial<Record<MethodId, MapFaithfulness>>,
      references: { random: scores.get('reference:random')!, centre: scores.get('reference:centre')! },
      forwardPasses,
      caveats: constantMapCaveats(methodMaps),
    };
  } finally {
    input.dispose();
  }
}
