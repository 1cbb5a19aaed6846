/**
 * Gradient-weighted attention rollout (Chefer et al. 2021, "Generic attention-model explainability"):
 * in every block Ā = mean over heads of ReLU(∇A ⊙ A), with ∇A the gradient of the class score at that
 * block's attention; R ← R + Ā·R from R = I; the class token's row over the patches is the map.
 * One backward pass per block (each from the score to that block's attention, memoised by the context).
 */
import type * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { gradientRollout } from '../onnx/attention-rollout';
import { modelAttention, toInputResolution } from './attention';
import { throwIfAborted, yieldToEvents } from './context';

export const gradientRolloutMethod: MethodImplementation = {
  id: 'gradient-rollout',
  async run(ctx) {
    const { site, attentions } = modelAttention(ctx, 'gradient-rollout');
    const gradients: tf.Tensor[] = [];
    for (const [i, slot] of site.slots.entries()) {
      if (i > 0) await yieldToEvents();
      throwIfAborted(ctx);
      gradients.push(ctx.gradient(slot));
      ctx.onProgress?.((i + 1) / site.slots.length);
    }
    return toInputResolution(ctx, gradientRollout(attentions, gradients, site));
  },
};
