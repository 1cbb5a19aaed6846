/**
 * Attention rollout (Abnar & Zuidema 2020), as jacobgil/vit-explain writes it: in every block the
 * heads' attention fused (mean / max / min), the lowest `discard` share set to 0 (never the class
 * token's own entry), (A + I) / 2 for the residual with rows renormalised, multiplied through the
 * blocks; the class token's row over the patch tokens is the map. No gradient: the same for every class.
 */
import type { MethodImplementation } from './types';
import { attentionRollout } from '../onnx/attention-rollout';
import { headFusionOption, modelAttention, toInputResolution } from './attention';

export const attentionRolloutMethod: MethodImplementation = {
  id: 'attention-rollout',
  async run(ctx) {
    const { site, attentions } = modelAttention(ctx, 'attention-rollout');
    const discard = Number(ctx.options.discard ?? 0);
    return toInputResolution(ctx, attentionRollout(attentions, site, headFusionOption(ctx), Number.isFinite(discard) ? discard : 0));
  },
};
