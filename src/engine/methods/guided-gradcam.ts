/**
 * Guided Grad-CAM (Selvaraju et al. 2017): guided backprop multiplied, pixel by pixel and in every
 * channel, by the Grad-CAM map upsampled to the input:  a = G ⊙ up(Grad-CAM). The Grad-CAM map is
 * the one this explanation computed (with its smoothing and fusion), else Grad-CAM at the context's
 * layer, normalised and upsampled here.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import { gradcam } from './gradcam';
import { normaliseMap, upsampleMap } from './maps';

export const guidedGradcam: MethodImplementation = {
  id: 'guided-gradcam',
  async run(ctx) {
    let cam = ctx.earlier('gradcam');
    let owned: tf.Tensor | null = null;
    if (!cam) {
      const raw = await gradcam.run(ctx);
      const [, height, width] = ctx.input.shape;
      const maxT = raw.max();
      const max = (await maxT.data())[0]!;
      maxT.dispose();
      owned = tf.tidy(() => upsampleMap(normaliseMap(raw as tf.Tensor2D, max), [height, width]));
      raw.dispose();
      cam = owned;
    }
    const up = cam;
    try {
      return tf.tidy(() => tf.mul(ctx.guidedGradient().squeeze([0]), up.expandDims(2)));
    } finally {
      owned?.dispose();
    }
  },
};
