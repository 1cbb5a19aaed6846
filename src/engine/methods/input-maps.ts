/**
 * How the input-space attributions become heatmaps (one rule per kind, used consistently):
 * - sensitivity maps (vanilla gradient, SmoothGrad): the gradient's sign says which way a pixel
 *   should move, not whether it is evidence, so the map is its magnitude summed over the colour
 *   channels, Σ_c |a_c| (as the SmoothGrad authors' saliency library draws them);
 * - attributions that split the score (gradient × input, Integrated Gradients): the positive part of
 *   the channel sum, ReLU(Σ_c a_c) — the evidence for the class, as ReLU keeps the evidence in a CAM;
 *   the counterfactual (negated score) shows the evidence against it.
 * Guided backprop and guided Grad-CAM stay RGB images (their per-channel sign pattern is the point).
 */
import * as tf from '@tensorflow/tfjs';

/** Σ_c |a_c| of a [1, H, W, c] or [H, W, c] attribution, [H, W]. */
export function magnitudeMap(attribution: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => tf.sum(tf.abs(attribution), -1).reshape(attribution.shape.slice(attribution.rank === 4 ? 1 : 0, -1)) as tf.Tensor2D);
}

/** ReLU(Σ_c a_c) of a [1, H, W, c] or [H, W, c] attribution, [H, W]. */
export function evidenceMap(attribution: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => tf.relu(tf.sum(attribution, -1)).reshape(attribution.shape.slice(attribution.rank === 4 ? 1 : 0, -1)) as tf.Tensor2D);
}
