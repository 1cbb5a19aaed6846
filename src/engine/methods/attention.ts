/**
 * What the attention methods share: the model's attention matrices (each block's Softmax over its
 * tokens, found by src/engine/onnx/attention-rollout.ts's findAttention), the head-fusion option, and
 * the map brought from the patch grid to the input's resolution (these methods are not tied to a
 * layer: their map is made at the patch grid, like a CAM at a token layer).
 */
import * as tf from '@tensorflow/tfjs';
import { studioError } from '../../shared/errors';
import { methodLabel, type MethodId } from '../../shared/methods';
import { findAttention, type AttentionSite, type HeadFusion } from '../onnx/attention-rollout';
import type { ExplainContext } from './context';

export interface ModelAttention {
  site: AttentionSite;
  /** Each block's attention for this image, in block order (the context's cache owns them). */
  attentions: tf.Tensor[];
}

/** The image's attention matrices; NO_ATTENTION (naming the method) when the model has none. */
export function modelAttention(ctx: ExplainContext, method: MethodId): ModelAttention {
  const site = findAttention(ctx.program, ctx.values);
  const attentions = site?.slots.map((s) => ctx.values[s]).filter((t): t is tf.Tensor => t !== undefined) ?? [];
  if (!site || attentions.length !== site.slots.length || attentions.length === 0) throw studioError('NO_ATTENTION', { method: methodLabel(method) });
  return { site, attentions };
}

export function headFusionOption(ctx: ExplainContext): HeadFusion {
  const f = ctx.options.fusion;
  return f === 'max' || f === 'min' ? f : 'mean';
}

/**
 * A patch-grid map [h, w] at the input's resolution [H, W] (bilinear, half-pixel centres as the CAMs'
 * upsampling), negatives cut; disposes `map`.
 */
export function toInputResolution(ctx: ExplainContext, map: tf.Tensor2D): tf.Tensor2D {
  const [, height = 1, width = 1] = ctx.input.shape;
  try {
    return tf.tidy(() => tf.relu(tf.image.resizeBilinear(map.expandDims(2) as tf.Tensor3D, [height, width], false, true).squeeze([2])) as tf.Tensor2D);
  } finally {
    map.dispose();
  }
}
