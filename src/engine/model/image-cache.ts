/**
 * The per-image activation cache. The first request for an image (+ preprocessing) runs one full
 * forward pass outside any tape and keeps every slot's activation. A new class, the counterfactual or
 * another layer then runs only a backward pass over those activations, from the score back to the
 * target layer (executor/backward.ts); the last guided backprop gradient (which does not depend on
 * the layer) is kept too, so a new layer costs only its Grad-CAM. Flip smoothing adds the mirrored
 * image's activations (one more forward pass, once per image); Integrated Gradients' black baseline
 * is made once. The methods receive this object (explain.ts), not callbacks into the model.
 */
import * as tf from '@tensorflow/tfjs';
import type { RawImage } from '../files';
import type { OutputSummary, PreprocessOptions } from '../../shared/types';
import { studioError } from '../../shared/errors';
import type { Program } from '../executor/program';
import type { GradientPath } from '../executor/leaf';
import { materializeSlot } from '../executor/compiled-forward';
import { logitFromSlots, runForward } from '../executor/forward';
import { gradientAt } from '../executor/gradient';
import { withGuidedGradients } from '../executor/guided';
import { preprocessImage } from '../preprocess';
import { flipWidth } from '../methods/maps';
import type { OutputValues } from './summary';

/** What the cache needs of its model. */
export interface CachedModel {
  readonly program: Program;
  readonly imageSize: [number, number, number];
  readonly outputs: readonly OutputSummary[];
  readonly gradientPath: GradientPath;
  /** The program that scores output `k` (the same steps and slots). */
  programFor(k: number): Program;
}

/** The cache key of a preprocessing: a new one means a new forward pass. */
export function preprocessKey(preprocess: PreprocessOptions): string {
  return `${preprocess.normalization}|${preprocess.resize}`;
}

/** Asynchronous read-back (readSync is slow or unavailable on GPU backends); disposes `t`. */
export async function readFloats(t: tf.Tensor): Promise<Float32Array> {
  try {
    return Float32Array.from(await t.data());
  } finally {
    t.dispose();
  }
}

export class ImageCache {
  /** Each explained output's [classes] logits and probabilities, read back once. */
  private readonly heads = new Map<number, OutputValues>();
  private guided: { key: string; gradient: tf.Tensor4D } | null = null;
  private flipped: tf.Tensor[] | null = null;
  private black: tf.Tensor4D | null = null;

  private constructor(
    readonly image: RawImage,
    readonly key: string,
    /** Every slot's activation for this image (slots inside a fused chain are made on demand: `materialize`). */
    readonly values: tf.Tensor[],
    private readonly model: CachedModel,
    private readonly preprocess: PreprocessOptions,
  ) {}

  /** One forward pass over `image` (compiled — conv → BN → ReLU chains fused — on the fast path). */
  static forImage(model: CachedModel, image: RawImage, preprocess: PreprocessOptions): ImageCache {
    const fast = model.gradientPath === 'fast';
    const values = tf.tidy(() => runForward(model.program, preprocessImage(image, model.imageSize, preprocess), { fast, compiled: fast }));
    return new ImageCache(image, preprocessKey(preprocess), values, model, preprocess);
  }

  /** Whether this cache holds `image` under `preprocess`. */
  holds(image: RawImage, preprocess: PreprocessOptions): boolean {
    return this.image === image && this.key === preprocessKey(preprocess);
  }

  /** The activation of `slot` (a layer inside a fused chain: made now and kept). */
  materialize(slot: number): tf.Tensor | undefined {
    return materializeSlot(this.values, slot);
  }

  /** Output `k`'s logits and probabilities (read back on first use). */
  async outputValues(k: number): Promise<OutputValues> {
    const known = this.heads.get(k);
    if (known) return known;
    const out = this.model.outputs[k];
    if (!out) throw studioError('OUTPUT_NOT_FOUND', { output: String(k), count: this.model.outputs.length });
    const program = this.model.programFor(k);
    const [logitsT, probabilitiesT] = tf.tidy(() => {
      const l = logitFromSlots(program, (s) => {
        const value = materializeSlot(this.values, s);
        if (!value) throw studioError('INTERNAL', { reason: `slot ${s} has no value` });
        return value;
      }).reshape([-1]);
      // A linear output is read as logits: probabilities for display are its softmax.
      const p = out.outputActivation === 'sigmoid' || l.size === 1 ? tf.sigmoid(l) : tf.softmax(l);
      return [l, p];
    });
    const [logits, probabilities] = await Promise.all([readFloats(logitsT), readFloats(probabilitiesT)]);
    const values = { logits, probabilities };
    this.heads.set(k, values);
    return values;
  }

  /** The mirrored image's activations (flip smoothing), made on first use. */
  flippedValues(): ReadonlyArray<tf.Tensor | undefined> {
    const { program, gradientPath } = this.model;
    this.flipped ??= tf.tidy(() => runForward(program, flipWidth(this.values[program.inputSlot] as tf.Tensor4D), { fast: gradientPath === 'fast' }));
    return this.flipped;
  }

  /** Guided backprop's input gradient for output `output`, unit and sign (it does not depend on the layer: the last one is kept). */
  guidedGradient(output: number, unit: number, sign: 1 | -1): tf.Tensor4D {
    const key = `${output}|${unit}|${sign}`;
    if (this.guided?.key !== key) {
      this.guided?.gradient.dispose();
      this.guided = null;
      const program = this.model.programFor(output);
      const gradient = withGuidedGradients(() => gradientAt(program, this.values, program.inputSlot, unit, { path: this.model.gradientPath, sign })) as tf.Tensor4D;
      this.guided = { key, gradient };
    }
    return this.guided.gradient;
  }

  /** A black image through the model's preprocessing, [1, H, W, c] (Integrated Gradients' baseline), made on first use. */
  blackInput(): tf.Tensor4D {
    if (!this.black) {
      const [height, width] = this.model.imageSize;
      const data = new Uint8ClampedArray(width * height * 4);
      for (let i = 3; i < data.length; i += 4) data[i] = 255;
      this.black = preprocessImage({ width, height, data }, this.model.imageSize, this.preprocess);
    }
    return this.black;
  }

  dispose(): void {
    // The mirrored pass's input is its own tensor; everything else in it too.
    tf.dispose([...this.values, ...(this.guided ? [this.guided.gradient] : []), ...(this.flipped ?? []), ...(this.black ? [this.black] : [])]);
    this.guided = null;
    this.flipped = null;
    this.black = null;
  }
}
