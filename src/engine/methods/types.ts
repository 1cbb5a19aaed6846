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
}
