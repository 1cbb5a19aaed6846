/**
 * SquareGrad (Xplique; Hooker et al., NeurIPS 2019, arXiv:1806.10758): the mean of the squared input
 * gradient over noisy copies, the estimator of SmoothGrad² with Xplique's defaults (50 samples,
 * noise 20 % of the input range). Shown as Σ_c (1/n) Σ_i g_ic². Batched like SmoothGrad.
 */
import type { MethodImplementation } from './types';
import { channelSumMap, noiseSigma, noisyGradientMoments } from './noise-tunnel';

export const squaregrad: MethodImplementation = {
  id: 'squaregrad',
  async run(ctx) {
    const sigma = await noiseSigma(ctx, Number(ctx.options.noise ?? 0.2));
    const { mean, meanSquare } = await noisyGradientMoments(ctx, Number(ctx.options.samples ?? 50), sigma);
    mean.dispose();
    try {
      return channelSumMap(meanSquare);
    } finally {
      meanSquare.dispose();
    }
  },
};
