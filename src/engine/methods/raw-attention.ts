/**
 * Raw attention, the baseline of Abnar & Zuidema (2020): the last block's attention, heads fused
 * (mean / max / min), the class token's row over the patch tokens. No gradient, no rollout.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { headFusionOption, modelAttention, toInputResolution } from './attention';

export const rawAttention: MethodImplementation = {
  id: 'raw-attention',
  async run(ctx) {
    const { site, attentions } = modelAttention(ctx, 'raw-attention');
    const fusion = headFusionOption(ctx);
    const map = tf.tidy(() => {
      const last = attentions[attentions.length - 1] ?? tf.zeros([1, 1, 1]);
      const n = last.shape[last.rank - 1] ?? 1;
      // The first image's heads: [B·heads, N, N] and [B, heads, N, N] alike.
      const heads = last.rank === 4 ? tf.reshape(tf.slice(last, [0, 0, 0, 0], [1, -1, -1, -1]), [-1, n, n]) : tf.reshape(last, [-1, n, n]);
      const classRow = tf.slice(heads, [0, 0, site.extra], [-1, 1, -1]).reshape([-1, n - site.extra]);
      const fused = fusion === 'max' ? tf.max(classRow, 0) : fusion === 'min' ? tf.min(classRow, 0) : tf.mean(classRow, 0);
      return tf.reshape(fused, site.grid) as tf.Tensor2D;
    });
    return toInputResolution(ctx, map);
  },
};
