/**
 * FullGrad (Srinivas & Fleuret, NeurIPS 2019, arXiv:1905.00780; as pytorch-grad-cam's FullGrad): the
 * input-gradient term and every spatial layer's bias-gradient term,
 *   map = ψ(|x ⊙ ∂S/∂x|) + Σ_layers ψ(|b ⊙ ∂S/∂z|),
 * z a convolution's or batch norm's output before its activation (through a fused ReLU / ReLU6 the
 * gradient is masked where the unit is off), b its bias (batch norm: β − γ μ / √(σ² + ε)), and ψ
 * pytorch-grad-cam's post-processing: each channel min–max scaled to [0, 1], upsampled bilinearly to
 * the input, summed over channels. For a ReLU network the terms are complete (the paper's identity):
 *   S(x) = Σ x ⊙ ∂S/∂x + Σ_layers Σ b ⊙ ∂S/∂z   (dense layers' biases included; the tests check it).
 * Cost: one backward pass for all the layers' gradients (visitGradients: each term is taken and
 * post-processed as the pass goes by its layer, so the gradients are never all held at once); layers
 * with another fused activation are left out (their pre-activation gradient is not at hand).
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

/** A biased layer the rule covers: its output slot, bias and fused activation. */
interface BiasedLayer {
  slot: number;
  path: string;
  bias: tf.Tensor;
  /** The derivative mask of its fused activation (null: linear). */
  mask: tf.Tensor | null;
  spatial: boolean;
}

function biasedLayers(ctx: ExplainContext): BiasedLayer[] {
  const out: BiasedLayer[] = [];
  for (const step of ctx.program.steps) {
    const slot = step.outputs[0];
    if (slot === undefined) continue;
    const value = materializeSlot(ctx.values, slot);
    if (!value) continue;
    const bias = biasOf(step);
    if (!bias) continue;
    const mask = activationMask(step, value);
    if (mask === 'unsupported') {
      bias.dispose();
      continue;
    }
    out.push({ slot, path: step.path, bias, mask, spatial: value.rank === 4 });
  }
  return out;
}

/**
 * Every bias term b ⊙ ∂S/∂z the rule covers, and x ⊙ ∂S/∂x, from ONE backward pass: `onTerm` gets
 * each term (freed after it returns), `onInput` the input term. Exported for the tests' completeness check.
 */
export function visitFullGradTerms(ctx: ExplainContext, onInput: (inputTerm: tf.Tensor) => void, onTerm: (term: tf.Tensor, layer: { spatial: boolean; path: string }) => void): void {
  const layers = biasedLayers(ctx);
  const bySlot = new Map(layers.map((l) => [l.slot, l]));
  try {
    ctx.visitGradients([ctx.program.inputSlot, ...layers.map((l) => l.slot)], (slot, g) => {
      if (slot === ctx.program.inputSlot) return onInput(tf.mul(ctx.input, g));
      const layer = bySlot.get(slot);
      if (!layer) return;
      onTerm(tf.mul(layer.mask ? tf.mul(g, layer.mask) : g, layer.bias), layer);
    });
  } finally {
    tf.dispose(layers.flatMap((l) => (l.mask ? [l.bias, l.mask] : [l.bias])));
  }
}

/** b ⊙ ∂S/∂z for every biased layer the rule covers, [1, …, C] each (for the tests; the caller disposes them). */
export function fullGradBiasTerms(ctx: ExplainContext): Array<{ term: tf.Tensor; spatial: boolean; path: string }> {
  const out: Array<{ term: tf.Tensor; spatial: boolean; path: string }> = [];
  visitFullGradTerms(ctx, () => undefined, (term, layer) => out.push({ term: tf.keep(term.clone()), ...layer }));
  return out;
}

/**
 * ψ: |t| per channel min–max scaled to [0, 1], upsampled to [H, W], summed over channels. Summed
 * before upsampling — the same numbers, as bilinear resizing is linear and weighs every channel
 * alike — which spares one H × W picture per channel (ResNet50's 7 × 7 × 2048 layers each made
 * 224 × 224 × 2048 values: FullGrad took 23× a forward pass in one backward pass, most of it here).
 */
function postProcessed(t: tf.Tensor4D, size: [number, number]): tf.Tensor2D {
  return tf.tidy(() => {
    const a = tf.abs(t);
    const low = tf.min(a, [1, 2], true);
    const high = tf.max(a, [1, 2], true);
    const scaled = tf.div(tf.sub(a, low), tf.add(tf.sub(high, low), 1e-7)) as tf.Tensor4D;
    const summed = tf.sum(scaled, 3, true) as tf.Tensor4D;
    return tf.image.resizeBilinear(summed, size, false, true).reshape(size) as tf.Tensor2D;
  });
}

export const fullGrad: MethodImplementation = {
  id: 'fullgrad',
  async run(ctx) {
    const [, height, width] = ctx.input.shape;
    const size: [number, number] = [height, width];
    let total = tf.keep(tf.zeros([height, width]) as tf.Tensor2D);
    const add = (t: tf.Tensor) => {
      const next = tf.keep(tf.add(total, postProcessed(t as tf.Tensor4D, size)) as tf.Tensor2D);
      total.dispose();
      total = next;
    };
    try {
      visitFullGradTerms(ctx, add, (term, { spatial }) => spatial && add(term));
      return total;
    } catch (e) {
      total.dispose();
      throw e;
    }
  },
};
