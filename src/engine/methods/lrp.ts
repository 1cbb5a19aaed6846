/**
 * LRP with the ε rule (Bach et al., PLOS ONE 2015; Montavon et al., "Layer-wise relevance
 * propagation: an overview", 2019), in its gradient × input form: relevance R_j = z_j c_j at a unit
 * with pre-activation z_j, and through a linear map z = W a + b,
 *   R_i = a_i Σ_j w_ij R_j / (z_j + ε sign z_j).
 * So c is backpropagated like the gradient, scaled by z / (z + ε sign z) at every unit that feeds a
 * ReLU-family nonlinearity (the override of its gradient, on the taped path) and at the logit (the
 * relevance S / (S + ε sign S) that starts it); R = x ⊙ c at the input. With ε → 0 this is
 * gradient × input (the tests check it on a bias-free ReLU network). Linear maps not followed by a
 * ReLU (pooling, the classifier) keep the plain gradient: the ε there only rescales their outputs'
 * relevance. Shown as the evidence, ReLU(Σ_c R_c). (The αβ rule needs each layer's positive and
 * negative weights apart and is not done yet.)
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import { inputGradients } from './batches';
import { evidenceMap } from './input-maps';
import { imageScore } from './perturbation';

/** z / (z + ε sign z), 1 where z = 0. */
function stabiliser(z: tf.Tensor, epsilon: number): tf.Tensor {
  return tf.tidy(() => {
    const denominator = tf.add(z, tf.mul(epsilon, tf.sign(z)));
    return tf.where(tf.equal(denominator, 0), tf.onesLike(z), tf.div(z, tf.where(tf.equal(denominator, 0), tf.onesLike(z), denominator)));
  });
}

/** Run `fn` (a taped pass) with ReLU's and ReLU6's gradients scaled by the ε stabiliser of their input. */
export function withEpsilonRule<T>(epsilon: number, fn: () => T): T {
  const kernels: Array<[string, (x: tf.Tensor) => tf.Tensor]> = [
    ['Relu', (x) => tf.step(x)],
    ['Relu6', (x) => tf.mul(tf.step(x), tf.lessEqual(x, 6).toFloat())],
  ];
  const originals = kernels.map(([name]) => [name, tf.getGradient(name)] as const);
  const swap = (config: tf.GradConfig | undefined, name: string) => {
    if (tf.getGradient(name)) tf.unregisterGradient(name);
    if (config) tf.registerGradient(config);
  };
  for (const [kernelName, derivative] of kernels) {
    swap({ kernelName, inputsToSave: ['x'], gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as tf.Tensor, tf.mul(derivative(saved[0] as tf.Tensor), stabiliser(saved[0] as tf.Tensor, epsilon))) }) }, kernelName);
  }
  try {
    return fn();
  } finally {
    for (const [name, original] of originals) swap(original, name);
  }
}

/** The relevance at the input, R = x ⊙ c, [1, H, W, c] (exported for the tests). */
export async function lrpEpsilon(ctx: ExplainContext, epsilon: number): Promise<tf.Tensor4D> {
  const score = await imageScore(ctx);
  const top = score + epsilon * Math.sign(score) === 0 ? 1 : score / (score + epsilon * Math.sign(score));
  const c = withEpsilonRule(epsilon, () => inputGradients({ ...ctx, path: 'plain' }, ctx.input, false));
  try {
    return tf.tidy(() => tf.mul(tf.mul(ctx.input, c), top) as tf.Tensor4D);
  } finally {
    c.dispose();
  }
}

export const lrpEpsilonMethod: MethodImplementation = {
  id: 'lrp-epsilon',
  async run(ctx) {
    const r = await lrpEpsilon(ctx, Number(ctx.options.epsilon ?? 0.01));
    try {
      return evidenceMap(r);
    } finally {
      r.dispose();
    }
  },
};
