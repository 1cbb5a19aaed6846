/**
 * DeepLIFT's rescale rule as a tfjs gradient override (Shrikumar et al., ICML 2017,
 * arXiv:1704.02685): through an elementwise nonlinearity y = f(x), the multiplier is
 *   m = (f(x) − f(x′)) / (x − x′)   (f′(x) where x ≈ x′),
 * with x′ the unit's value on the baseline. The input and the baseline run as one batch of two rows
 * [x, x′] under a tfjs tape (the plain path: tfjs-layers' calls; under a tape tfjs runs fused
 * activations as separate ops, so these overrides reach them); each overridden kernel reads both
 * rows, forms m, and passes dy · m back to both. Linear ops keep their gradient, so the input
 * "gradient" of row 0 times (x − x′) is DeepLIFT-rescale's attribution, whose sum is S(x) − S(x′)
 * exactly for networks of linear ops and these nonlinearities (summation-to-delta). Max pooling keeps
 * its gradient (as Captum's DeepLift does), which makes the sum approximate.
 */
import * as tf from '@tensorflow/tfjs';

type Unary = (x: tf.Tensor, attrs: Record<string, unknown>) => tf.Tensor;

/** The elementwise nonlinearities the rule covers, as forward functions of their input. */
const NONLINEAR: Record<string, Unary> = {
  Relu: (x) => tf.relu(x),
  Relu6: (x) => tf.relu6(x),
  LeakyRelu: (x, a) => tf.leakyRelu(x, Number(a.alpha ?? 0.2)),
  Elu: (x) => tf.elu(x),
  Selu: (x) => tf.selu(x),
  Sigmoid: (x) => tf.sigmoid(x),
  Tanh: (x) => tf.tanh(x),
  Softplus: (x) => tf.softplus(x),
  ClipByValue: (x, a) => tf.clipByValue(x, Number(a.clipValueMin ?? -Infinity), Number(a.clipValueMax ?? Infinity)),
};

/** The rescale multiplier of a [2, …] input (rows x, x′), the same for both rows. */
function multiplier(f: Unary, x: tf.Tensor, attrs: Record<string, unknown>): tf.Tensor {
  return tf.tidy(() => {
    const [a, b] = tf.split(x, 2, 0) as [tf.Tensor, tf.Tensor];
    const delta = tf.sub(a, b);
    const secant = tf.div(tf.sub(f(a, attrs), f(b, attrs)), tf.where(tf.greater(tf.abs(delta), 1e-6), delta, tf.onesLike(delta)));
    // Where x ≈ x′: the derivative at x by a central difference.
    const h = 1e-3;
    const derivative = tf.div(tf.sub(f(tf.add(a, h), attrs), f(tf.sub(a, h), attrs)), 2 * h);
    const m = tf.where(tf.greater(tf.abs(delta), 1e-6), secant, derivative);
    return tf.concat([m, m], 0);
  });
}

function rescaleConfigs(): tf.GradConfig[] {
  return Object.entries(NONLINEAR).map(([kernelName, f]) => ({
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: tf.NamedAttrMap) => {
      const [x] = saved;
      return { x: () => tf.mul(dy as tf.Tensor, multiplier(f, x as tf.Tensor, (attrs ?? {}) as Record<string, unknown>)) };
    },
  }));
}

/** Run `fn` (which records and runs a taped pass over a batch [x, x′]) with the rescale rule registered. */
export function withRescaleGradients<T>(fn: () => T): T {
  const configs = rescaleConfigs();
  const originals = configs.map((c) => [c.kernelName, tf.getGradient(c.kernelName)] as const);
  const swap = (config: tf.GradConfig | undefined, name: string) => {
    if (tf.getGradient(name)) tf.unregisterGradient(name);
    if (config) tf.registerGradient(config);
  };
  for (const config of configs) swap(config, config.kernelName);
  try {
    return fn();
  } finally {
    for (const [name, original] of originals) swap(original, name);
  }
}
