/**
 * Deconvolution (Zeiler & Fergus, ECCV 2014, arXiv:1311.2901; as Captum's Deconvolution): the input
 * "gradient" of the class score with every ReLU's backward pass replaced by a ReLU of the incoming
 * gradient, whatever the unit's input (guided backprop also masks by the input; deconvolution does
 * not): ∂/∂z ← ReLU(∂/∂ReLU(z)). Linear ops keep their gradient. An RGB attribution image, as guided
 * backprop, with its |·|-summed saliency. One forward and one backward pass on the plain (taped)
 * path — the written-out backward pass does not know the rule.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { inputGradients } from './batches';

/** ReLU's and ReLU6's gradients replaced by ReLU(dy) while `fn` records and runs a taped pass. */
export function withDeconvolutionGradients<T>(fn: () => T): T {
  const kernels = ['Relu', 'Relu6'];
  const originals = kernels.map((name) => [name, tf.getGradient(name)] as const);
  const swap = (config: tf.GradConfig | undefined, name: string) => {
    if (tf.getGradient(name)) tf.unregisterGradient(name);
    if (config) tf.registerGradient(config);
  };
  for (const kernelName of kernels) swap({ kernelName, inputsToSave: ['x'], gradFunc: (dy) => ({ x: () => tf.relu(dy as tf.Tensor) }) }, kernelName);
  try {
    return fn();
  } finally {
    for (const [name, original] of originals) swap(original, name);
  }
}

export const deconvolution: MethodImplementation = {
  id: 'deconvolution',
  async run(ctx) {
    const g = withDeconvolutionGradients(() => inputGradients({ ...ctx, path: 'plain' }, ctx.input, false));
    try {
      return tf.squeeze(g, [0]);
    } finally {
      g.dispose();
    }
  },
};
