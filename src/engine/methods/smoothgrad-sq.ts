/**
 * SmoothGrad² (Captum NoiseTunnel, nt_type 'smoothgrad_sq'; Hooker et al., NeurIPS 2019,
 * arXiv:1806.10758): the mean of the squared input gradient over n noisy copies,
 *   a = (1/n) Σ_i (∂S/∂x (x + ε_i))²,   ε_i ~ N(0, σ²),   σ = noise · (max x − min x),
 * SmoothGrad's seeded draws; shown as Σ_c a_c (≥ 0). Batched like SmoothGrad.
 */
import type { MethodImplementation } from './types';
import { channelSumMap, noiseSigma, noisyGradientMoments } from './noise-tunnel';

export const smoothgradSq: MethodImplementation = {
  id: 'smoothgrad-sq',
  async run(ctx) {
    const sigma = await noiseSigma(ctx, Number(ctx.options.noise ?? 0.15));
    const { mean, meanSquare } = await noisyGradientMoments(ctx, Number(ctx.options.samples ?? 25), sigma);
    mean.dispose();
    try {
      return channelSumMap(meanSquare);
    } finally {
      meanSquare.dispose();
    }
  },
};
