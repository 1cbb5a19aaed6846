/** Map utilities shared by the methods and the explanation: normalise, upsample, flip, visualise. */
import * as tf from '@tensorflow/tfjs';

/** The map divided by its maximum (all zeros stay zeros). */
export function normaliseMap(raw: tf.Tensor2D, rawMax: number): tf.Tensor2D {
  return tf.tidy(() => (rawMax > 0 ? raw.div(rawMax) : tf.zerosLike(raw)) as tf.Tensor2D);
}

/** Bilinear upsampling (half-pixel centres) of a [h, w] map to [H, W], clipped back to [0, 1]. */
export function upsampleMap(map: tf.Tensor2D, size: [number, number]): tf.Tensor2D {
  return tf.tidy(() => {
    const up = tf.image.resizeBilinear(map.expandDims(2) as tf.Tensor3D, size, false, true);
    return up.squeeze([2]).clipByValue(0, 1) as tf.Tensor2D;
  });
}

/** Left–right mirror of a [h, w] map, or of a [1, H, W, c] / [H, W, c] image. */
export function flipWidth<T extends tf.Tensor>(t: T): T {
  return tf.reverse(t, t.rank === 4 ? 2 : 1) as T;
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
