/**
 * Running the requested methods over one image's activation cache: each method's raw result
 * (methods/, one file per method) made into what a person sees — a heatmap normalised to [0, 1] at the
 * layer's resolution and upsampled to the input's, or an RGB gradient image — with the CAM options of
 * pytorch-grad-cam:
 * - eigen-smoothing: the first principal component of the weighted activations replaces their sum
 *   (inside each CAM method, methods/cam.ts);
 * - flip smoothing (augSmooth): the mean of the normalised map and the mirrored map of the mirrored
 *   image, renormalised;
 * - multi-layer fusion: the mean of the normalised maps of several layers at the input's resolution,
 *   renormalised.
 * Methods run in registry order, dependencies first (guided Grad-CAM reads Grad-CAM's map); all of
 * them share one context family, so the gradient at a layer is computed once per explanation.
 */
import * as tf from '@tensorflow/tfjs';
import { METHODS, methodInfo, resolveMethodOptions, type MethodId, type MethodOptionValue, type MethodSettings } from '../shared/methods';
import type { Concepts, ExplainProgress, Segments } from '../shared/types';
import type { GradientPath } from './executor/leaf';
import type { Program } from './executor/program';
import { METHOD_IMPLEMENTATIONS } from './methods/index';
import { createContext, throwIfAborted, yieldToEvents, type OwnedContext } from './methods/context';
import { flipWidth, normaliseMap, upsampleMap, visualiseGradient } from './methods/maps';
import { magnitudeMap } from './methods/input-maps';

export { flipWidth, normaliseMap, upsampleMap, visualiseGradient } from './methods/maps';

/**
 * What the methods read of one image (model/image-cache.ts's ImageCache): its activations, and what
 * the cache keeps across explanations — the mirrored image's activations, guided backprop's gradient,
 * the black baseline.
 */
export interface ImageActivations {
  /** The image's activation cache (runForward). */
  readonly values: ReadonlyArray<tf.Tensor | undefined>;
  /** The mirrored image's activations, for augSmooth (the cache owns them). */
  flippedValues(): ReadonlyArray<tf.Tensor | undefined>;
  /** Guided backprop's input gradient for this output, unit and sign (the cache owns it). */
  guidedGradient(output: number, unit: number, sign: 1 | -1): tf.Tensor4D;
  /** The preprocessed black image (Integrated Gradients' default baseline; the cache owns it). */
  blackInput(): tf.Tensor4D;
}

export interface MethodRunPlan {
  /** The program scoring `output`. */
  program: Program;
  cache: ImageActivations;
  output: number;
  /** The output unit scored. */
  classIndex: number;
  sign: 1 | -1;
  path: GradientPath;
  /** Requested methods; their dependencies (METHODS[].uses) are run too. */
  methods: readonly MethodId[];
  /** The target layers of the layer methods (several: fusion); may be empty when no layer method is requested. */
  layers: ReadonlyArray<{ path: string; slot: number }>;
  methodOptions?: Partial<Record<MethodId, Record<string, MethodOptionValue>>>;
  eigenSmooth?: boolean;
  augSmooth?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: ExplainProgress) => void;
  /** Filled with each method's time in ms, by method id. */
  timings?: Record<string, number>;
}

/** One method's result as tensors (the caller reads them back and disposes them). */
export type MethodTensors =
  | { kind: 'heatmap'; map: tf.Tensor2D; upsampled: tf.Tensor2D; rawMax: number; layerPaths: string[]; settings: MethodSettings; segments?: Segments; concepts?: Concepts }
  | { kind: 'rgb'; visual: tf.Tensor3D; saliency: tf.Tensor2D; saliencyMax: number; layerPaths: string[]; settings: MethodSettings };

/** The requested methods and everything they use, in registry order. */
export function methodsWithDependencies(methods: readonly MethodId[]): MethodId[] {
  const wanted = new Set<MethodId>();
  const add = (id: MethodId) => {
    if (wanted.has(id)) return;
    wanted.add(id);
    for (const used of methodInfo(id).uses ?? []) add(used);
  };
  methods.forEach(add);
  return METHODS.map((m) => m.id).filter((id) => wanted.has(id));
}

export function disposeMethodTensors(results: Iterable<MethodTensors>): void {
  for (const r of results) tf.dispose(r.kind === 'heatmap' ? [r.map, r.upsampled] : [r.visual, r.saliency]);
}

async function maxOf(t: tf.Tensor): Promise<number> {
  const m = tf.max(t);
  try {
    return (await m.data())[0] || 0;
  } finally {
    m.dispose();
  }
}

/** `t` divided by its maximum; disposes `t`. */
async function renormalised(t: tf.Tensor2D): Promise<tf.Tensor2D> {
  const max = await maxOf(t);
  const out = normaliseMap(t, max);
  t.dispose();
  return out;
}

/** The mean of normalised maps, renormalised; disposes them. */
async function meanMap(maps: tf.Tensor2D[]): Promise<tf.Tensor2D> {
  if (maps.length === 1) return maps[0]!;
  const mean = tf.tidy(() => tf.div(tf.addN(maps), maps.length) as tf.Tensor2D);
  tf.dispose(maps);
  return renormalised(mean);
}

export async function runMethods(plan: MethodRunPlan): Promise<Map<MethodId, MethodTensors>> {
  const { program, cache } = plan;
  const [, height, width] = (cache.values[program.inputSlot] as tf.Tensor4D).shape;
  const family = createContext({
    program, values: cache.values, classIndex: plan.classIndex, sign: plan.sign, path: plan.path,
    eigenSmooth: plan.eigenSmooth, signal: plan.signal,
    guidedGradient: () => cache.guidedGradient(plan.output, plan.classIndex, plan.sign),
    blackInput: () => cache.blackInput(),
  });
  let flipped: OwnedContext | null = null;
  const mirrored = (): OwnedContext => {
    flipped ??= createContext({
      program, values: cache.flippedValues(), classIndex: plan.classIndex, sign: plan.sign, path: plan.path,
      eigenSmooth: plan.eigenSmooth, signal: plan.signal,
    });
    return flipped;
  };
  const out = new Map<MethodId, MethodTensors>();
  const order = methodsWithDependencies(plan.methods);
  const layerPaths = plan.layers.map((l) => l.path);
  try {
    for (const [done, id] of order.entries()) {
      // Let the worker's messages in between methods (the watchdog's ping, a newer request that cancels this one).
      if (done > 0) await yieldToEvents();
      throwIfAborted(plan);
      const started = performance.now();
      const info = methodInfo(id);
      const implementation = METHOD_IMPLEMENTATIONS[id];
      const options = resolveMethodOptions(id, plan.methodOptions?.[id]);
      const report = (fraction: number) => plan.onProgress?.({ method: id, fraction: Math.min(1, fraction), done, total: order.length });
      report(0);
      if (info.needs === 'layer' && plan.layers.length === 0) throw new Error(`${id} needs a layer`);
      if (info.output === 'heatmap' && info.needs === 'layer') {
        const augs = plan.augSmooth ? 2 : 1;
        const passes = plan.layers.length * augs;
        const perLayer: tf.Tensor2D[] = [];
        let rawMax = 0;
        let concepts: Concepts | undefined;
        try {
          for (const [li, layer] of plan.layers.entries()) {
            const maps: tf.Tensor2D[] = [];
            try {
              for (let a = 0; a < augs; a++) {
                const pass = li * augs + a;
                const ctx = (a === 0 ? family : mirrored()).withTarget({
                  slot: layer.slot, layerPath: layer.path, options, onProgress: (f) => report((pass + f) / passes),
                  attachConcepts: pass === 0 ? (c) => (concepts = c) : undefined,
                });
                const raw = (await implementation.run(ctx)) as tf.Tensor2D;
                const max = await maxOf(raw);
                if (pass === 0) rawMax = max;
                const normalised = normaliseMap(raw, max);
                raw.dispose();
                maps.push(a === 0 ? normalised : flipWidth(normalised));
                if (a !== 0) normalised.dispose();
              }
            } catch (e) {
              tf.dispose(maps);
              throw e;
            }
            perLayer.push(await meanMap(maps));
          }
        } catch (e) {
          tf.dispose(perLayer);
          throw e;
        }
        let map: tf.Tensor2D;
        let upsampled: tf.Tensor2D;
        if (perLayer.length === 1) {
          map = perLayer[0]!;
          upsampled = upsampleMap(map, [height, width]);
        } else {
          const ups = perLayer.map((m) => upsampleMap(m, [height, width]));
          tf.dispose(perLayer);
          map = await meanMap(ups);
          upsampled = tf.clone(map);
        }
        const settings: MethodSettings = { ...options, eigenSmooth: Boolean(plan.eigenSmooth), augSmooth: Boolean(plan.augSmooth), fusedLayers: plan.layers.length };
        out.set(id, { kind: 'heatmap', map, upsampled, rawMax, layerPaths, settings, ...(concepts ? { concepts } : {}) });
        if (id === 'gradcam') family.remember(plan.layers[0]!.slot, 'gradcam', tf.clone(upsampled));
      } else {
        const layer = info.needs === 'layer' ? plan.layers[0]! : null;
        let segments: Segments | undefined;
        const ctx = family.withTarget({ slot: layer?.slot ?? program.inputSlot, layerPath: layer?.path ?? null, options, onProgress: report, attachSegments: (s) => (segments = s) });
        const raw = await implementation.run(ctx);
        if (info.output === 'heatmap') {
          const rawMax = await maxOf(raw);
          const map = normaliseMap(raw as tf.Tensor2D, rawMax);
          raw.dispose();
          out.set(id, { kind: 'heatmap', map, upsampled: tf.clone(map), rawMax, layerPaths: [], settings: { ...options }, ...(segments ? { segments } : {}) });
        } else {
          const visual = visualiseGradient(raw as tf.Tensor3D);
          const magnitude = magnitudeMap(raw);
          raw.dispose();
          const saliencyMax = await maxOf(magnitude);
          const saliency = normaliseMap(magnitude, saliencyMax);
          magnitude.dispose();
          out.set(id, { kind: 'rgb', visual, saliency, saliencyMax, layerPaths: layer ? layerPaths : [], settings: { ...options } });
        }
      }
      if (plan.timings) plan.timings[id] = performance.now() - started;
      report(1);
    }
    return out;
  } catch (e) {
    disposeMethodTensors(out.values());
    throw e;
  } finally {
    family.dispose();
    (flipped as OwnedContext | null)?.dispose();
  }
}
