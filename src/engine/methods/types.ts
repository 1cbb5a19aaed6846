/**
 * What an engine method is: its id (an entry of src/shared/methods.ts) and one function of the
 * explanation context. The registry (index.ts) maps every MethodId to one of these.
 */
import type * as tf from '@tensorflow/tfjs';
import type { MethodId } from '../../shared/methods';
import type { ExplainContext } from './context';

export interface MethodImplementation {
  readonly id: MethodId;
  /**
   * The method's raw result, which the caller owns (and disposes):
   * - a layer heatmap method: its map at the layer's resolution, [h, w], ≥ 0, not normalised;
   * - an input heatmap method: its map at the input's resolution, [H, W], ≥ 0, not normalised;
   * - an RGB method: its signed attribution image, [H, W, c] (the caller visualises it).
   */
  run(ctx: ExplainContext): Promise<tf.Tensor>;
  /**
   * The gradient CAMs whose map depends on one image's layer activation A and gradient g alone: the
   * formula, batch-native — A and g [B, h, w, C] → the weighted activations W [B, h, w, C], whose
   * map is ReLU(Σ_k W_k) per row (cam.ts). `run` applies it to one image; the gallery's batched pass
   * (batch-explain.ts) to a whole batch, so both give the same maps from this one formula.
   */
  weighted?(a: tf.Tensor4D, g: tf.Tensor4D): tf.Tensor4D;
}
