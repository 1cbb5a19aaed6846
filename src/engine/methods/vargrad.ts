/**
 * VarGrad (Adebayo et al., 2018, arXiv:1810.03307; Captum NoiseTunnel nt_type 'vargrad'): the
 * variance of the input gradient over n noisy copies (SmoothGrad's seeded draws),
 *   a = (1/n) Σ_i g_i² − ((1/n) Σ_i g_i)²   (the population variance, as Captum),
 * shown as Σ_c a_c (≥ 0). Batched like SmoothGrad.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { channelSumMap, noiseSigma, noisyGradientMoments } from './noise-tunnel';

export const vargrad: MethodImplementation = {
  id: 'vargrad',
  async run(ctx) {
    const sigma = await noiseSigma(ctx, Number(ctx.options.noise ?? 0.15));
    const { mean, meanSquare } = await noisyGradientMoments(ctx, Number(ctx.options.samples ?? 25), sigma);
    try {
      return tf.tidy(() => channelSumMap(tf.relu(tf.sub(meanSquare, tf.square(mean))) as tf.Tensor4D));
    } finally {
      tf.dispose([mean, meanSquare]);
    }
  },
};
