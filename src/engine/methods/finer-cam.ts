/**
 * Finer-CAM (Zhang et al., CVPR 2025, arXiv:2501.11309; as pytorch-grad-cam's FinerCAM over
 * Grad-CAM): Grad-CAM of a score that contrasts the class c with the classes most easily confused
 * with it, the K classes whose logits are nearest to c's (K = 3 by default),
 *   S′ = Σ_{k ∈ K} (S_c − α S_k),
 * so the map keeps what separates c from its neighbours. Its gradient is K·g_c − α Σ_k g_k (one
 * backward pass per compared class); the weights are its spatial mean, map = ReLU(Σ_k w_k A_k).
 * The counterfactual negates S′.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import { camFromChannelWeights, layerActivation, layerGradient } from './cam';
import { gradientAt } from '../executor/gradient';
import { logitFromSlots } from '../executor/forward';
import { materializeSlot } from '../executor/compiled-forward';
import { studioError } from '../../shared/errors';

/** The compared classes: the `count` classes nearest to `target` by logit (ties: lower index first). */
export function nearestClasses(logits: ArrayLike<number>, target: number, count: number): number[] {
  const t = logits[target] ?? 0;
  return Array.from({ length: logits.length }, (_, k) => k)
    .filter((k) => k !== target)
    .sort((a, b) => Math.abs((logits[a] ?? 0) - t) - Math.abs((logits[b] ?? 0) - t) || a - b)
    .slice(0, count);
}

/** The image's logits, from the activation cache. */
async function cachedLogits(ctx: ExplainContext): Promise<Float32Array> {
  const t = tf.tidy(() => logitFromSlots(ctx.program, (s) => {
    const v = materializeSlot(ctx.values, s);
    if (!v) throw studioError('INTERNAL', { reason: `slot ${s} has no value` });
    return v;
  }).reshape([-1]));
  const out = Float32Array.from(await t.data());
  t.dispose();
  return out;
}

export const finerCam: MethodImplementation = {
  id: 'finer-cam',
  async run(ctx) {
    layerActivation(ctx);
    const alpha = Number(ctx.options.alpha ?? 1);
    const compared = nearestClasses(await cachedLogits(ctx), ctx.classIndex, Number(ctx.options.compared ?? 3));
    const weights = tf.tidy(() => {
      let g: tf.Tensor = tf.mul(layerGradient(ctx), compared.length || 1);
      for (const k of compared) g = tf.sub(g, tf.mul(alpha, gradientAt(ctx.program, ctx.values, ctx.slot, k, { path: ctx.path, sign: ctx.sign })));
      return tf.mean(g, [0, 1, 2]);
    });
    try {
      return await camFromChannelWeights(ctx, weights);
    } finally {
      weights.dispose();
    }
  },
};
