/**
 * DeepLIFT with the rescale rule (Shrikumar et al., ICML 2017, arXiv:1704.02685; as Captum's
 * DeepLift): a = (x − x′) ⊙ m, m the input "gradient" with every elementwise nonlinearity's derivative
 * replaced by its secant between the input and the baseline (rescale.ts). Σ a = S(x) − S(x′) for
 * networks of linear ops and those nonlinearities (the tests check 1 %). x′: the option baseline (as
 * Integrated Gradients'). Shown as ReLU(Σ_c a_c). One forward and one backward pass over the batch
 * [x, x′], on the plain (taped) path — the written-out backward pass does not know the rule.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import { inputGradients } from './batches';
import { evidenceMap } from './input-maps';
import { integratedGradientsBaseline } from './integrated-gradients';
import { withRescaleGradients } from './rescale';

/** DeepLIFT-rescale's attributions against `baseline` ([1, H, W, c], the caller's), [1, H, W, c]. */
export function deepLiftAttributions(ctx: ExplainContext, baseline: tf.Tensor4D): tf.Tensor4D {
  const pair = tf.concat([ctx.input, baseline], 0) as tf.Tensor4D;
  try {
    const g = withRescaleGradients(() => inputGradients({ ...ctx, path: 'plain' }, pair, false));
    try {
      return tf.tidy(() => tf.mul(tf.sub(ctx.input, baseline), tf.slice(g, [0, 0, 0, 0], [1, ...ctx.input.shape.slice(1)])) as tf.Tensor4D);
    } finally {
      g.dispose();
    }
  } finally {
    pair.dispose();
  }
}

export const deepLift: MethodImplementation = {
  id: 'deeplift',
  async run(ctx) {
    const baseline = integratedGradientsBaseline(ctx);
    try {
      const a = deepLiftAttributions(ctx, baseline);
      try {
        return evidenceMap(a);
      } finally {
        a.dispose();
      }
    } finally {
      baseline.dispose();
    }
  },
};
