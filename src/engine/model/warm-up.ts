/**
 * The warm-up at load: one forward pass on a blank image compiles the kernels (shaders on GPU
 * backends) so the first explanation is not the slow one; on CPU-side backends the folded conv → BN
 * weights of the fast path are prepared first.
 */
import * as tf from '@tensorflow/tfjs';
import type { LoadProgress } from '../../shared/types';
import type { Program } from '../executor/program';
import type { GradientPath } from '../executor/leaf';
import { runForward, runOutput } from '../executor/forward';
import { disposeFoldedWeights, prepareFoldedWeights } from '../executor/folding';
import { gradientAt } from '../executor/gradient';
import { withGuidedGradients } from '../executor/guided';

/** Backends that compile a shader per kernel and shape on first use. */
const SHADER_BACKENDS = new Set(['webgpu', 'webgl']);

/** Backends whose tensors live in CPU memory: a copy of the folded conv weights costs little there. */
const CPU_SIDE_BACKENDS = new Set(['wasm', 'cpu']);

/** Prepare and warm `program` once; a failure of the forward pass frees the folded weights and throws. */
export async function warmUp(
  program: Program,
  imageSize: [number, number, number],
  defaultLayerPath: string | null,
  gradientPath: GradientPath,
  onProgress?: (p: LoadProgress) => void,
): Promise<void> {
  onProgress?.({ phase: 'warmup', message: 'Warming up the model…' });
  if (gradientPath === 'fast' && CPU_SIDE_BACKENDS.has(tf.getBackend())) prepareFoldedWeights(program);
  try {
    const warm = tf.tidy(() => runOutput(program, tf.zeros([1, ...imageSize])));
    await warm.data();
    warm.dispose();
  } catch (e) {
    disposeFoldedWeights(program);
    throw e;
  }
  if (SHADER_BACKENDS.has(tf.getBackend())) await warmGradientShaders(program, imageSize, defaultLayerPath, onProgress);
}

/**
 * On GPU backends the backward kernels' shaders compile on first use: run one guided backprop and
 * one Grad-CAM at the default layer on a blank image while loading, so the first explanation is not
 * the slow one. Best effort: a failure here shows up (with its coded error) at the first explanation.
 */
async function warmGradientShaders(program: Program, imageSize: [number, number, number], layerPath: string | null, onProgress?: (p: LoadProgress) => void): Promise<void> {
  onProgress?.({ phase: 'warmup', message: 'Compiling the gradient shaders…' });
  try {
    const maps = tf.tidy(() => {
      const values = runForward(program, tf.zeros([1, ...imageSize]));
      const out: tf.Tensor[] = [withGuidedGradients(() => gradientAt(program, values, program.inputSlot, 0))];
      const slot = layerPath === null ? undefined : program.slotsByPath.get(layerPath);
      if (slot !== undefined && values[slot]?.rank === 4) out.push(gradientAt(program, values, slot, 0));
      return out;
    });
    await Promise.all(maps.map((m) => m.data()));
    tf.dispose(maps);
  } catch {
    // Not fatal: the explanation that needs these kernels reports its own error.
  }
}
