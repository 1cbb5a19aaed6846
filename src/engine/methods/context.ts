/**
 * The one object every method receives: the compiled program, the image's activation cache, the
 * target (slot, class, sign), the gradient path, the method's resolved options, and — for the costly
 * methods — the abort signal and a progress callback. Gradients are memoised per context family
 * (contexts made with `withTarget` share them), so Grad-CAM, Grad-CAM++, HiResCAM… at one layer cost
 * one backward pass together.
 */
import * as tf from '@tensorflow/tfjs';
import { studioError } from '../../shared/errors';
import type { MethodId, MethodOptionValue } from '../../shared/methods';
import type { Concepts, Segments } from '../../shared/types';
import type { Program } from '../executor/program';
import type { GradientPath } from '../executor/leaf';
import { gradientAt, visitGradients } from '../executor/gradient';
import { withGuidedGradients } from '../executor/guided';

export interface ExplainContext {
  readonly program: Program;
  /** The per-image activation cache (runForward): every slot's value for this image, batch 1. */
  readonly values: ReadonlyArray<tf.Tensor | undefined>;
  /** The preprocessed image, [1, H, W, c] (= values[program.inputSlot]). */
  readonly input: tf.Tensor4D;
  /** The target slot: the layer's for layer methods, the input's for input methods. */
  readonly slot: number;
  /** The target layer's path (null for input methods). */
  readonly layerPath: string | null;
  readonly classIndex: number;
  /** -1 explains the negated score (the counterfactual). */
  readonly sign: 1 | -1;
  /** 'fast': the written-out backward pass; 'plain': the tfjs tape through tfjs-layers (the reference). */
  readonly path: GradientPath;
  /** This method's options, resolved (resolveMethodOptions). */
  readonly options: Readonly<Record<string, MethodOptionValue>>;
  /** Eigen-smoothing: the CAM is the first principal component of the weighted activations, not their sum. */
  readonly eigenSmooth: boolean;
  readonly signal?: AbortSignal;
  /** The share of this method done, 0–1 (costly methods call it between batches). */
  readonly onProgress?: (fraction: number) => void;
  /** dScore/dValue at `slot` for this class and sign, [1, …]; memoised, owned by the context: never dispose it. */
  gradient(slot: number): tf.Tensor;
  /** dScore/dValue at each of `slots` from one backward pass (not memoised): `visit` gets each, freed after it returns. */
  visitGradients(slots: readonly number[], visit: (slot: number, gradient: tf.Tensor) => void): void;
  /** Guided backprop's gradient at the input, [1, H, W, c]; memoised, owned by the context (or the image cache). */
  guidedGradient(): tf.Tensor4D;
  /** The preprocessed black image, [1, H, W, c] (Integrated Gradients' default baseline); owned by the context. */
  blackInput(): tf.Tensor4D;
  /** A method's raw result computed earlier in this explanation at this target (guided Grad-CAM reads Grad-CAM's). */
  earlier(id: MethodId): tf.Tensor | undefined;
  /** Where a superpixel method leaves the segmentation it perturbed (shown over its panel); absent: nobody asks. */
  readonly attachSegments?: (segments: Segments) => void;
  /** Where Deep Feature Factorization leaves all its concepts (show = combined); absent: nobody asks. */
  readonly attachConcepts?: (concepts: Concepts) => void;
}

export interface ContextInit {
  program: Program;
  values: ReadonlyArray<tf.Tensor | undefined>;
  classIndex: number;
  sign?: 1 | -1;
  path?: GradientPath;
  slot?: number;
  layerPath?: string | null;
  options?: Readonly<Record<string, MethodOptionValue>>;
  eigenSmooth?: boolean;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  /** Where the guided gradient comes from when the caller keeps it (the image cache); else made and owned here. */
  guidedGradient?: () => tf.Tensor4D;
  /** The black image when the caller keeps it (it knows the preprocessing); else zeros, right for [0, 1] inputs. */
  blackInput?: () => tf.Tensor4D;
}

/** A context and the release of what its family memoised. */
export interface OwnedContext {
  ctx: ExplainContext;
  /** A context for another target or method sharing this one's memo (same image, class and sign). */
  withTarget(changes: Partial<Pick<ExplainContext, 'slot' | 'layerPath' | 'options' | 'onProgress' | 'attachSegments' | 'attachConcepts'>>): ExplainContext;
  /** Remember a method's raw result for later methods at the same slot (the memo owns it from then on). */
  remember(slot: number, id: MethodId, raw: tf.Tensor): void;
  dispose(): void;
}

export function createContext(init: ContextInit): OwnedContext {
  const input = init.values[init.program.inputSlot] as tf.Tensor4D | undefined;
  if (!input || input.rank !== 4) throw studioError('INTERNAL', { reason: 'the activation cache has no image input' });
  const sign = init.sign ?? 1;
  const path = init.path ?? 'fast';
  const gradients = new Map<number, tf.Tensor>();
  const earlier = new Map<string, tf.Tensor>();
  let guided: tf.Tensor4D | null = null;
  let black: tf.Tensor4D | null = null;
  const shared = {
    gradient(slot: number): tf.Tensor {
      let g = gradients.get(slot);
      if (!g) {
        // Kept: a method may first ask inside a tf.tidy, which must not free the memo.
        g = tf.keep(gradientAt(init.program, init.values, slot, init.classIndex, { path, sign }));
        gradients.set(slot, g);
      }
      return g;
    },
    visitGradients(slots: readonly number[], visit: (slot: number, gradient: tf.Tensor) => void): void {
      visitGradients(init.program, init.values, slots, init.classIndex, { path, sign }, visit);
    },
    guidedGradient(): tf.Tensor4D {
      // Kept: the caller's memo may be filled inside a method's tf.tidy.
      if (init.guidedGradient) return tf.keep(init.guidedGradient());
      guided ??= tf.keep(withGuidedGradients(() => gradientAt(init.program, init.values, init.program.inputSlot, init.classIndex, { path, sign })) as tf.Tensor4D);
      return guided;
    },
    blackInput(): tf.Tensor4D {
      if (init.blackInput) return tf.keep(init.blackInput());
      black ??= tf.keep(tf.zerosLike(input));
      return black;
    },
  };
  const make = (slot: number, layerPath: string | null, options: Readonly<Record<string, MethodOptionValue>>, onProgress?: (f: number) => void, attachSegments?: (s: Segments) => void, attachConcepts?: (c: Concepts) => void): ExplainContext => ({
    program: init.program,
    values: init.values,
    input,
    slot,
    layerPath,
    classIndex: init.classIndex,
    sign,
    path,
    options,
    eigenSmooth: init.eigenSmooth ?? false,
    signal: init.signal,
    onProgress,
    gradient: shared.gradient,
    visitGradients: shared.visitGradients,
    guidedGradient: shared.guidedGradient,
    blackInput: shared.blackInput,
    earlier: (id) => earlier.get(`${slot}|${id}`),
    attachSegments,
    attachConcepts,
  });
  const ctx = make(init.slot ?? init.program.inputSlot, init.layerPath ?? null, init.options ?? {}, init.onProgress);
  return {
    ctx,
    withTarget: (c) => make(c.slot ?? ctx.slot, c.layerPath !== undefined ? c.layerPath : ctx.layerPath, c.options ?? ctx.options, c.onProgress ?? ctx.onProgress, c.attachSegments, c.attachConcepts),
    remember(slot, id, raw) {
      const key = `${slot}|${id}`;
      earlier.get(key)?.dispose();
      earlier.set(key, raw);
    },
    dispose() {
      tf.dispose([...gradients.values(), ...earlier.values(), ...(guided ? [guided] : []), ...(black ? [black] : [])]);
      gradients.clear();
      earlier.clear();
      guided = null;
      black = null;
    },
  };
}

/** CANCELLED if the explanation was aborted. */
export function throwIfAborted(ctx: Pick<ExplainContext, 'signal'>): void {
  if (ctx.signal?.aborted) throw studioError('CANCELLED');
}

/**
 * Let pending events run (an abort message reaches a worker only between tasks): costly methods await
 * this between batches, then check the signal.
 */
export function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
