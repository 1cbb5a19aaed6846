/**
 * Guided backprop's gradient rule: through ReLU, ReLU6 and LeakyReLU only positive gradients pass,
 * and only where the unit was active. Used two ways: as a tfjs gradient override while a taped pass
 * records and runs (withGuidedGradients), and by the hand-written backward pass (backward.ts), which
 * asks guidedActive() and applies the rule itself (fusedReluGrad on WASM).
 */
import * as tf from '@tensorflow/tfjs';
import { RELU_GRAD, type ReluGradAttrs } from '../kernels/wasm-gradients';

/** Kernels whose gradient is "guided": pass only positive gradients, only where the input was positive. */
export const GUIDED_KERNELS = ['Relu', 'Relu6', 'LeakyRelu'] as const;

/**
 * On WASM, a ReLU-family gradient (guided, or plain with `guided` false) as one fused kernel
 * (wasm-gradients.ts) instead of 2–6 elementwise kernels; null elsewhere.
 */
export function fusedReluGrad(dy: tf.Tensor, x: tf.Tensor, cap: number | null, alpha: number, guided = true): tf.Tensor | null {
  if (tf.getBackend() !== 'wasm' || !tf.getKernel(RELU_GRAD, 'wasm') || dy.dtype !== 'float32' || x.dtype !== 'float32') return null;
  const attrs: ReluGradAttrs = { cap, alpha, guided };
  return tf.engine().runKernel(RELU_GRAD, { dy, x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

function guidedConfigs(): tf.GradConfig[] {
  return [
    {
      kernelName: 'Relu',
      inputsToSave: ['x'],
      gradFunc: (dy, saved) => {
        const [x] = saved;
        return { x: () => fusedReluGrad(dy as tf.Tensor, x, null, 0) ?? tf.mul(tf.relu(dy as tf.Tensor), tf.step(x)) };
      },
    },
    {
      kernelName: 'Relu6',
      inputsToSave: ['x'],
      gradFunc: (dy, saved) => {
        const [x] = saved;
        return {
          x: () => fusedReluGrad(dy as tf.Tensor, x, 6, 0) ?? tf.mul(tf.relu(dy as tf.Tensor), tf.mul(tf.lessEqual(x, 6).toFloat(), tf.step(x))),
        };
      },
    },
    {
      kernelName: 'LeakyRelu',
      inputsToSave: ['x'],
      gradFunc: (dy, saved, attrs) => {
        const [x] = saved;
        const alpha = (attrs as { alpha?: number } | undefined)?.alpha ?? 0.2;
        // step(x, alpha) = 1 where x > 0, alpha elsewhere: LeakyReLU's derivative in one kernel.
        return { x: () => fusedReluGrad(dy as tf.Tensor, x, null, alpha) ?? tf.mul(tf.relu(dy as tf.Tensor), tf.step(x, alpha)) };
      },
    },
  ];
}

/**
 * Run `fn` with the guided gradients registered. tfjs captures a kernel's gradient function when the
 * forward op is recorded, so the taped forward AND its backward must both run inside `fn`.
 * The originals are restored in `finally`, even when `fn` throws. Unregister-then-register avoids
 * tfjs's "overriding gradient" console warning.
 */
export function withGuidedGradients<T>(fn: () => T): T {
  const originals = GUIDED_KERNELS.map((name) => [name, tf.getGradient(name)] as const);
  const swap = (config: tf.GradConfig | undefined, name: string) => {
    if (tf.getGradient(name)) tf.unregisterGradient(name);
    if (config) tf.registerGradient(config);
  };
  for (const config of guidedConfigs()) swap(config, config.kernelName);
  guidedDepth++;
  try {
    return fn();
  } finally {
    guidedDepth--;
    for (const [name, original] of originals) swap(original, name);
  }
}

let guidedDepth = 0;

/** True inside withGuidedGradients: gradients computed now must follow the guided rule. */
export function guidedActive(): boolean {
  return guidedDepth > 0;
}

