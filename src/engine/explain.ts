/**
 * Explanation methods over a compiled program: Grad-CAM at any slot, guided backprop (gradient at the
 * input with ReLU/ReLU6/LeakyReLU passing only positive gradients), guided Grad-CAM, and their
 * standard visualisations. All functions take the per-image activation cache (`cached`, from
 * `runForward`) so that only the steps downstream of the target run under the tape.
 */
import * as tf from '@tensorflow/tfjs';
import { downstreamSteps, gradientAt, logitFromSlots, runForward, runTapedSteps, type GradientPath, type Program } from './executor';
import { studioError } from '../shared/errors';
import { GUIDED_RELU_GRAD, type GuidedReluGradAttrs } from './kernels/wasm-gradients';

// ---------------------------------------------------------------------------------------------
// Guided backprop: a gradient override active while the taped forward pass records

/** Kernels whose gradient is "guided": pass only positive gradients, only where the input was positive. */
export const GUIDED_KERNELS = ['Relu', 'Relu6', 'LeakyRelu'] as const;

/** On WASM, one fused kernel (wasm-gradients.ts) instead of 4–6 elementwise kernels per ReLU. */
function fusedGuidedGrad(dy: tf.Tensor, x: tf.Tensor, cap: number | null, alpha: number): tf.Tensor | null {
  if (tf.getBackend() !== 'wasm' || !tf.getKernel(GUIDED_RELU_GRAD, 'wasm') || dy.dtype !== 'float32' || x.dtype !== 'float32') return null;
  const attrs: GuidedReluGradAttrs = { cap, alpha };
  return tf.engine().runKernel(GUIDED_RELU_GRAD, { dy, x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

function guidedConfigs(): tf.GradConfig[] {
  return [
    {
      kernelName: 'Relu',
      inputsToSave: ['x'],
      gradFunc: (dy, saved) => {
        const [x] = saved;
        return { x: () => fusedGuidedGrad(dy as tf.Tensor, x, null, 0) ?? tf.mul(tf.relu(dy as tf.Tensor), tf.step(x)) };
      },
    },
    {
      kernelName: 'Relu6',
      inputsToSave: ['x'],
      gradFunc: (dy, saved) => {
        const [x] = saved;
        return {
          x: () => fusedGuidedGrad(dy as tf.Tensor, x, 6, 0) ?? tf.mul(tf.relu(dy as tf.Tensor), tf.mul(tf.lessEqual(x, 6).toFloat(), tf.step(x))),
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
        return { x: () => fusedGuidedGrad(dy as tf.Tensor, x, null, alpha) ?? tf.mul(tf.relu(dy as tf.Tensor), tf.step(x, alpha)) };
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
  try {
    return fn();
  } finally {
    for (const [name, original] of originals) swap(original, name);
  }
}

// ---------------------------------------------------------------------------------------------
// Grad-CAM

export interface GradCamTensors {
  /** ReLU(sum_k w_k A_k), [h, w], before normalisation. */
  raw: tf.Tensor2D;
  rawMax: number;
}

/** ReLU(sum_k w_k A_k) at `slot` for `classIndex`, [h, w], not normalised (no read-back: fine on GPU backends). */
export function gradCamMap(
  program: Program,
  cached: ReadonlyArray<tf.Tensor | undefined>,
  slot: number,
  classIndex: number,
  options: { path?: GradientPath; sign?: number } = {},
): tf.Tensor2D {
  const activation = cached[slot];
  if (!activation || activation.rank !== 4) throw studioError('LAYER_NOT_SPATIAL', { path: String(slot) });
  return tf.tidy(() => gradCamFromGradient(activation, gradientAt(program, cached, slot, classIndex, options)));
}

/** ReLU(sum_k w_k A_k) from an activation [1, h, w, C] and the score's gradient there. */
export function gradCamFromGradient(activation: tf.Tensor, gradient: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const weights = gradient.mean([1, 2], true); // [1, 1, 1, C]
    const cam = tf.relu(activation.mul(weights).sum(3)); // [1, h, w]
    return cam.squeeze([0]) as tf.Tensor2D;
  });
}

/** Grad-CAM at `slot` for `classIndex` with its raw maximum (read synchronously). `sign` = -1 gives the counterfactual map. */
export function gradCam(
  program: Program,
  cached: ReadonlyArray<tf.Tensor | undefined>,
  slot: number,
  classIndex: number,
  options: { path?: GradientPath; sign?: number } = {},
): GradCamTensors {
  const raw = gradCamMap(program, cached, slot, classIndex, options);
  const rawMax = tf.tidy(() => raw.max().dataSync()[0]) || 0;
  return { raw, rawMax };
}

/** The map divided by its maximum (all zeros stay zeros). */
export function normaliseMap(raw: tf.Tensor2D, rawMax: number): tf.Tensor2D {
  return tf.tidy(() => (rawMax > 0 ? raw.div(rawMax) : tf.zerosLike(raw)) as tf.Tensor2D);
}

/** Bilinear upsampling of a [h, w] map to [H, W], clipped back to [0, 1]. */
export function upsampleMap(map: tf.Tensor2D, size: [number, number]): tf.Tensor2D {
  return tf.tidy(() => {
    const up = tf.image.resizeBilinear(map.expandDims(2) as tf.Tensor3D, size, false, true);
    return up.squeeze([2]).clipByValue(0, 1) as tf.Tensor2D;
  });
}

// ---------------------------------------------------------------------------------------------
// Guided backprop and guided Grad-CAM

/** dScore/dInput with guided ReLUs; [h, w, c] for the single image. */
export function guidedBackprop(
  program: Program,
  cached: ReadonlyArray<tf.Tensor | undefined>,
  classIndex: number,
  options: { path?: GradientPath; sign?: number } = {},
): tf.Tensor3D {
  return withGuidedGradients(() =>
    tf.tidy(() => gradientAt(program, cached, program.inputSlot, classIndex, options).squeeze([0]) as tf.Tensor3D),
  );
}

export interface GradientWithForward {
  /** Every slot's activation (kept: the caller owns them); slots a folded conv skipped stay unset. */
  values: tf.Tensor[];
  /** dScore/d(value at the slot), batch dimension kept. */
  gradient: tf.Tensor;
  classIndex: number;
  /** [classes] logits of output 0. */
  logits: Float32Array;
}

/**
 * A gradient at `slot` for an image with no cached activations, in ONE pass: the steps upstream of
 * the slot run outside the tape (fast fused kernels), the steps downstream of it run under the tape,
 * and every value becomes the image's activation cache. A new image then costs one forward pass and
 * the backward, instead of a plain forward first and a taped re-run of the downstream steps (for an
 * early layer that re-run is most of the network). The class is picked from the logits inside the
 * pass (`pickClass`), read synchronously — use on CPU-side backends (WASM, CPU), where that read is
 * cheap. Values equal `runForward`'s up to float rounding (plain-op leaf calls under the tape).
 */
export function gradientWithForward(
  program: Program,
  input: tf.Tensor,
  slot: number,
  pickClass: (logits: Float32Array) => number,
  options: { sign?: number; guided?: boolean } = {},
): GradientWithForward {
  const sign = options.sign ?? 1;
  const downstream = downstreamSteps(program, slot);
  const head = tf.tidy(() => runForward(program, input, { fast: true, exclude: new Set(downstream.map((s) => s.index)) }));
  const start = head[slot];
  const own = (values: tf.Tensor[]) => tf.dispose(values.filter((v) => v && v !== input));
  if (!start) {
    own(head);
    throw studioError('INTERNAL', { reason: `slot ${slot} has no value` });
  }
  let values: tf.Tensor[] = head;
  let classIndex = -1;
  let logits = new Float32Array(0);
  const taped = () =>
    tf.tidy(() => {
      const score = (x: tf.Tensor): tf.Scalar => {
        const slots = head.slice();
        slots[slot] = x;
        runTapedSteps(program, downstream, (s) => slots[s]!, (s, v) => (slots[s] = v), 'fast');
        const flat = logitFromSlots(program, (s) => slots[s]!).reshape([1, -1]);
        logits = Float32Array.from(flat.dataSync());
        classIndex = pickClass(logits);
        values = slots.map((v, s) => (v && v !== head[s] ? tf.keep(v) : v));
        const picked = flat.slice([0, classIndex], [1, 1]).sum() as tf.Scalar;
        return (sign === 1 ? picked : picked.mul(sign)) as tf.Scalar;
      };
      return tf.grad(score)(start);
    });
  try {
    const gradient = options.guided ? withGuidedGradients(taped) : taped();
    return { values, gradient, classIndex, logits };
  } catch (e) {
    own(values === head ? head : [...new Set([...head, ...values])]);
    throw e;
  }
}

export interface GuidedWithForward extends Omit<GradientWithForward, 'gradient'> {
  /** [h, w, c] guided gradient at the input. */
  gradient: tf.Tensor3D;
}

/** Guided backprop for a new image in one taped pass from the input (see gradientWithForward). */
export function guidedBackpropWithForward(
  program: Program,
  input: tf.Tensor,
  pickClass: (logits: Float32Array) => number,
  options: { sign?: number } = {},
): GuidedWithForward {
  const done = gradientWithForward(program, input, program.inputSlot, pickClass, { ...options, guided: true });
  const gradient = tf.tidy(() => done.gradient.squeeze([0]) as tf.Tensor3D);
  done.gradient.dispose();
  return { ...done, gradient };
}

/** Standard gradient visualisation: zero-centre, scale by 0.1/std, shift to 0.5, clip to [0, 1]; grey → RGB. */
export function visualiseGradient(gradient: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const centred = gradient.sub(gradient.mean());
    const std = tf.sqrt(centred.square().mean());
    const vis = centred.div(std.add(1e-5)).mul(0.1).add(0.5).clipByValue(0, 1) as tf.Tensor3D;
    return (vis.shape[2] === 1 ? tf.tile(vis, [1, 1, 3]) : vis) as tf.Tensor3D;
  });
}

/** Guided backprop × upsampled Grad-CAM (per pixel, all channels). */
export function guidedGradCam(guided: tf.Tensor3D, camUpsampled: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => guided.mul(camUpsampled.expandDims(2)) as tf.Tensor3D);
}
