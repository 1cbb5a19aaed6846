/**
 * ShapleyCAM (Cai, 2025, "CAMs as Shapley value-based explainers", arXiv:2501.06261; as
 * pytorch-grad-cam's ShapleyCAM with its ReST target): channel weights from the gradient and a
 * second-order term, a Taylor estimate of each channel's Shapley value,
 *   w_k = mean_ij (g − ½ H A)_ijk,   map = ReLU(Σ_k w_k A_k),
 * g = ∂T/∂A and H A the Hessian–vector product of T at A along A itself. T is the paper's residual
 * softmax target ReST = 2 z_c − log Σ_j exp z_j = z_c + log softmax_c (the class logit minus the
 * cross-entropy; with the plain logit, a network that is piecewise linear after the layer has H = 0 and
 * ShapleyCAM is Grad-CAM); the counterfactual negates T. H A is the central difference of the gradient
 * along A, (g(A(1 + h)) − g(A(1 − h))) / (2h) with h = 10⁻² (error O(h²)): tfjs cannot take a gradient
 * of these gradients (several ReLU-family gradients use ops without one). Three backward passes on
 * the taped (plain) path.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import { camFromChannelWeights, layerActivation } from './cam';
import { downstreamSteps, logitFromSlots } from '../executor/forward';
import { materializeSlot } from '../executor/compiled-forward';
import { runTapedSteps } from '../executor/folding';
import { studioError } from '../../shared/errors';

/** The relative step of the Hessian–vector product's central difference. */
export const HVP_STEP = 1e-2;

/** T(A) = sign · (2 z_c − logsumexp z) with everything after the layer re-run on the taped path. */
export function restScore(ctx: ExplainContext): (value: tf.Tensor) => tf.Scalar {
  const { program } = ctx;
  const downstream = downstreamSteps(program, ctx.slot);
  return (value) => {
    const local = new Map<number, tf.Tensor>([[ctx.slot, value]]);
    const read = (s: number) => {
      const v = local.get(s) ?? materializeSlot(ctx.values, s);
      if (!v) throw studioError('INTERNAL', { reason: `slot ${s} has no value` });
      return v;
    };
    runTapedSteps(program, downstream, read, (s, v) => local.set(s, v), 'plain', (step) => step.index === program.finalStepIndex && program.logit.kind !== 'none');
    const z = logitFromSlots(program, read).reshape([-1]);
    const zc = z.slice([ctx.classIndex], [1]).sum();
    return tf.mul(ctx.sign, tf.sub(tf.mul(2, zc), tf.logSumExp(z))) as tf.Scalar;
  };
}

/** The channel weights mean_ij (g − ½ H A), [C] (exported for the tests). */
export function shapleyCamWeights(ctx: ExplainContext): tf.Tensor1D {
  const a = layerActivation(ctx);
  const score = restScore(ctx);
  const h = HVP_STEP;
  return tf.tidy(() => {
    const gradient = tf.grad(score);
    const g = gradient(a);
    const hvp = tf.div(tf.sub(gradient(tf.mul(a, 1 + h)), gradient(tf.mul(a, 1 - h))), 2 * h);
    return tf.mean(tf.sub(g, tf.mul(0.5, hvp)), [0, 1, 2]) as tf.Tensor1D;
  });
}

export const shapleyCam: MethodImplementation = {
  id: 'shapley-cam',
  async run(ctx) {
    const weights = shapleyCamWeights(ctx);
    try {
      return await camFromChannelWeights(ctx, weights);
    } finally {
      weights.dispose();
    }
  },
};
