/**
 * FullGrad (Srinivas & Fleuret, NeurIPS 2019, arXiv:1905.00780; as pytorch-grad-cam's FullGrad): the
 * input-gradient term and every spatial layer's bias-gradient term,
 *   map = ψ(|x ⊙ ∂S/∂x|) + Σ_layers ψ(|b ⊙ ∂S/∂z|),
 * z a convolution's or batch norm's output before its activation (through a fused ReLU / ReLU6 the
 * gradient is masked where the unit is off), b its bias (batch norm: β − γ μ / √(σ² + ε)), and ψ
 * pytorch-grad-cam's post-processing: each channel min–max scaled to [0, 1], upsampled bilinearly to
 * the input, summed over channels. For a ReLU network the terms are complete (the paper's identity):
 *   S(x) = Σ x ⊙ ∂S/∂x + Σ_layers Σ b ⊙ ∂S/∂z   (dense layers' biases included; the tests check it).
 * Cost: one backward pass from the score to each biased spatial layer (the context memoises them);
 * layers with another fused activation are left out (their pre-activation gradient is not at hand).
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import type { Step } from '../executor/program';
import { materializeSlot } from '../executor/compiled-forward';
import { activationName, type ConvInternals } from '../executor/layer-info';
import { batchNormOffset, batchNormScale, isLastAxisBatchNorm } from '../executor/batch-norm';

const BIASED = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense', 'BatchNormalization']);

/** The bias of a step (null when it has none or is not covered) and the derivative mask of its fused activation. */
function biasOf(step: Step): tf.Tensor | null {
  const layer = step.layer as unknown as tf.layers.Layer;
  const className = layer.getClassName();
  if (!BIASED.has(className) || step.outputs.length !== 1) return null;
  if (className === 'BatchNormalization') {
    if (!isLastAxisBatchNorm(layer, step.outputShape.length)) return null;
    return tf.tidy(() => batchNormOffset(layer, batchNormScale(layer)));
  }
  const l = layer as unknown as ConvInternals;
  return l.useBias && l.bias ? tf.clone(l.bias.read()) : null;
}

function activationMask(step: Step, out: tf.Tensor): tf.Tensor | null | 'unsupported' {
  const className = (step.layer as unknown as tf.layers.Layer).getClassName();
  const name = className === 'BatchNormalization' ? null : activationName(step.layer as unknown as tf.layers.Layer);
  if (name === null || name === 'linear') return null;
  if (name === 'relu') return tf.step(out);
  if (name === 'relu6') return tf.tidy(() => tf.mul(tf.step(out), tf.less(out, 6).toFloat()));
  return 'unsupported';
}

/**
 * b ⊙ ∂S/∂z for every biased layer the rule covers, [1, …, C] each, with whether it is spatial
 * (exported for the tests' completeness check). The caller disposes the tensors.
 */
export function fullGradBiasTerms(ctx: ExplainContext): Array<{ term: tf.Tensor; spatial: boolean; path: string }> {
  const out: Array<{ term: tf.Tensor; spatial: boolean; path: string }> = [];
  for (const step of ctx.program.steps) {
    const slot = step.outputs[0];
    if (slot === undefined) continue;
    const bias = biasOf(step);
    if (!bias) continue;
    try {
      const value = materializeSlot(ctx.values, slot);
      if (!value) continue;
      const mask = activationMask(step, value);
      if (mask === 'unsupported') continue;
      const term = tf.tidy(() => {
        const g = ctx.gradient(slot);
        return tf.mul(mask ? tf.mul(g, mask) : g, bias);
      });
      mask?.dispose();
      out.push({ term, spatial: value.rank === 4, path: step.path });
    } finally {
      bias.dispose();
    }
  }
  return out;
}

/** ψ: |t| per channel min–max scaled to [0, 1], upsampled to [H, W], summed over channels. */
function postProcessed(t: tf.Tensor4D, size: [number, number]): tf.Tensor2D {
  return tf.tidy(() => {
    const a = tf.abs(t);
    const low = tf.min(a, [1, 2], true);
    const high = tf.max(a, [1, 2], true);
    const scaled = tf.div(tf.sub(a, low), tf.add(tf.sub(high, low), 1e-7)) as tf.Tensor4D;
    const up = tf.image.resizeBilinear(scaled, size, false, true);
    return tf.sum(up, [0, 3]) as tf.Tensor2D;
  });
}

export const fullGrad: MethodImplementation = {
  id: 'fullgrad',
  async run(ctx) {
    const [, height, width] = ctx.input.shape;
    const size: [number, number] = [height, width];
    let total = tf.tidy(() => postProcessed(tf.mul(ctx.input, ctx.gradient(ctx.program.inputSlot)) as tf.Tensor4D, size));
    const terms = fullGradBiasTerms(ctx);
    try {
      for (const { term, spatial } of terms) {
        if (!spatial) continue;
        const next = tf.tidy(() => tf.add(total, postProcessed(term as tf.Tensor4D, size)) as tf.Tensor2D);
        total.dispose();
        total = next;
      }
      return total;
    } finally {
      tf.dispose(terms.map((t) => t.term));
    }
  },
};
