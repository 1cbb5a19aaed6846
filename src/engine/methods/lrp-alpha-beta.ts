/**
 * LRP with the αβ rule (Bach et al., PLOS ONE 2015; Montavon et al. 2019; Captum's Alpha1_Beta0 /
 * Alpha2_Beta1), as a tfjs gradient override of the linear kernels (Conv2D, DepthwiseConv2dNative,
 * BatchMatMul) on a taped pass. For y = W a with relevance R_j = y_j c_j at its output (c the
 * incoming "gradient"), the positive and negative contributions are split,
 *   z⁺_j = Σ_i (a_i w_ij)⁺,   z⁻_j = Σ_i (a_i w_ij)⁻,
 *   R_i = Σ_j (α (a_i w_ij)⁺ / z⁺_j − β (a_i w_ij)⁻ / z⁻_j) R_j,   α − β = 1,
 * and passed down as c_i = R_i / a_i, so the input's relevance is x ⊙ c. Each split is the kernel
 * itself on a⁺/a⁻ and W⁺/W⁻ (the same attributes), and each back-projection the kernel's own gradient
 * with W⁺ or W⁻ in place of W. Elementwise layers keep their gradient (ReLU passes the relevance of
 * active units); biases take no relevance here (R_j is formed from the weights' output). With zero
 * biases the rule conserves relevance, Σ R_input = S, wherever z⁺ and z⁻ are non-zero (the tests check
 * α = 1, β = 0 on a ReLU network). Shown as ReLU(Σ_c R_c).
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import { runForward } from '../executor/forward';
import { scoreFunction } from '../executor/gradient';
import { evidenceMap } from './input-maps';

/** The linear kernels and the names of their (input, weight) inputs. */
const LINEAR_KERNELS: ReadonlyArray<[string, string, string]> = [
  ['Conv2D', 'x', 'filter'],
  ['DepthwiseConv2dNative', 'x', 'filter'],
  ['BatchMatMul', 'a', 'b'],
];

function alphaBetaConfig(kernelName: string, inputName: string, weightName: string, original: tf.GradConfig, alpha: number, beta: number): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: [inputName, weightName],
    gradFunc: (dy, saved, attrs) => {
      const [x, w] = saved as [tf.Tensor, tf.Tensor];
      const run = (a: tf.Tensor, b: tf.Tensor) => tf.engine().runKernel(kernelName, { [inputName]: a, [weightName]: b }, (attrs ?? {}) as tf.NamedAttrMap) as tf.Tensor;
      const back = (b: tf.Tensor, s: tf.Tensor) => {
        const g = original.gradFunc(s, [x, b], attrs ?? {}) as Record<string, () => tf.Tensor>;
        const f = g[inputName];
        if (!f) throw new Error(`no input gradient for ${kernelName}`);
        return f();
      };
      return {
        [inputName]: () => tf.tidy(() => {
          const [xp, xn] = [tf.relu(x), tf.neg(tf.relu(tf.neg(x)))];
          const [wp, wn] = [tf.relu(w), tf.neg(tf.relu(tf.neg(w)))];
          const zp = tf.add(run(xp, wp), run(xn, wn));
          const zn = tf.add(run(xp, wn), run(xn, wp));
          const relevance = tf.mul(tf.add(zp, zn), dy as tf.Tensor);
          const safeDiv = (r: tf.Tensor, z: tf.Tensor) => tf.where(tf.equal(z, 0), tf.zerosLike(r), tf.div(r, tf.where(tf.equal(z, 0), tf.onesLike(z), z)));
          const sp = safeDiv(relevance, zp);
          const sn = safeDiv(relevance, zn);
          const whereInputPositive = tf.sub(tf.mul(alpha, back(wp, sp)), tf.mul(beta, back(wn, sn)));
          const whereInputNegative = tf.sub(tf.mul(alpha, back(wn, sp)), tf.mul(beta, back(wp, sn)));
          return tf.where(tf.greaterEqual(x, 0), whereInputPositive, whereInputNegative);
        }),
        [weightName]: () => tf.zerosLike(w),
      };
    },
  };
}

/** Run `fn` (a taped pass) with the αβ rule in the linear kernels' gradients. */
export function withAlphaBetaRule<T>(alpha: number, beta: number, fn: () => T): T {
  const originals = LINEAR_KERNELS.map(([name]) => [name, tf.getGradient(name)] as const);
  const swap = (config: tf.GradConfig | undefined, name: string) => {
    if (tf.getGradient(name)) tf.unregisterGradient(name);
    if (config) tf.registerGradient(config);
  };
  LINEAR_KERNELS.forEach(([name, input, weight], i) => {
    const original = originals[i]?.[1];
    if (original) swap(alphaBetaConfig(name, input, weight, original, alpha, beta), name);
  });
  try {
    return fn();
  } finally {
    for (const [name, original] of originals) swap(original, name);
  }
}

/**
 * The relevance at the input, x ⊙ c, [1, H, W, c] (exported for the tests). The tape runs the fast
 * path's leaf calls (plainLeafCall: convolutions and dense layers as plain Conv2D / BatchMatMul
 * kernels, batch norm folded into the convolution before it where it can be), because tfjs-layers
 * runs a linear-activation layer under a tape as a fused op with its own gradient, which no override
 * reaches.
 */
export function lrpAlphaBeta(ctx: ExplainContext, alpha: number, beta: number): tf.Tensor4D {
  const { program } = ctx;
  const values = tf.tidy(() => runForward(program, ctx.input, { fast: true }));
  try {
    const score = scoreFunction(program, values, program.inputSlot, ctx.classIndex, { path: 'fast', sign: ctx.sign });
    const c = withAlphaBetaRule(alpha, beta, () => tf.grad(score)(ctx.input));
    try {
      return tf.mul(ctx.input, c) as tf.Tensor4D;
    } finally {
      c.dispose();
    }
  } finally {
    tf.dispose(values.filter((v) => v !== ctx.input));
  }
}

export const lrpAlphaBetaMethod: MethodImplementation = {
  id: 'lrp-alpha-beta',
  async run(ctx) {
    const [alpha, beta] = ctx.options.rule === 'a2b1' ? [2, 1] : [1, 0];
    const r = lrpAlphaBeta(ctx, alpha, beta);
    try {
      return evidenceMap(r);
    } finally {
      r.dispose();
    }
  },
};
