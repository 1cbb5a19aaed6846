/**
 * Whether a model's class score can be differentiated at all: one forward and one backward pass on a
 * black image at load time (after the warm-up; on a MobileNetV2 about twice the warm-up's forward
 * pass). An op without a gradient on the backend (a graph or ONNX op tfjs has no gradient for) makes
 * the model "gradient-free": the gradient methods are disabled with the reason, the perturbation
 * methods (forward passes only) still explain it.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError } from '../shared/errors';
import type { GradientSupport } from '../shared/types';
import { methodNeedsGradient, type MethodId } from '../shared/methods';
import { runForward } from './executor/forward';
import { gradientAt } from './executor/gradient';
import type { GradientPath } from './executor/leaf';
import type { Program } from './executor/program';

export async function probeGradientSupport(program: Program, imageSize: readonly [number, number, number], path: GradientPath): Promise<GradientSupport> {
  let values: tf.Tensor[] = [];
  try {
    values = tf.tidy(() => runForward(program, tf.zeros([1, ...imageSize])));
    const g = gradientAt(program, values, program.inputSlot, 0, { path });
    await g.data();
    g.dispose();
    return { supported: true };
  } catch (e) {
    if (e instanceof StudioError && e.code === 'GRADIENT_UNSUPPORTED') {
      const op = String((e.detail as { op?: unknown } | undefined)?.op ?? 'an op');
      return { supported: false, op, message: e.message };
    }
    // Anything else is not about gradients: the explanation that meets it reports it.
    return { supported: true };
  } finally {
    tf.dispose(values);
  }
}

/**
 * The requested methods a gradient-free model can run (none of them, nor anything they use, needs a
 * gradient), and those it cannot. Unchanged when the model's gradient is supported (or not probed).
 */
export function methodsWithoutGradients(methods: readonly MethodId[], support: GradientSupport | undefined): { runnable: MethodId[]; skipped: MethodId[] } {
  if (!support || support.supported) return { runnable: [...methods], skipped: [] };
  return { runnable: methods.filter((m) => !methodNeedsGradient(m)), skipped: methods.filter(methodNeedsGradient) };
}
