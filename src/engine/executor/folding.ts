/**
 * Conv → BatchNormalization folding (fast path only), and the taped run of a list of steps that uses it.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormOffset, batchNormScale, isLastAxisBatchNorm } from './batch-norm';
import { activationName, linearCallSupported, pair, type ConvInternals } from './layer-info';
import { atrous, callStep, type GradientPath } from './leaf';
import type { Program, Step } from './program';

interface FoldedWeights {
  kernel: tf.Tensor4D;
  bias: tf.Tensor1D;
}

/** Slot → the steps that read it, in program order. */
export function slotReaders(program: Program): Map<number, Step[]> {
  const readers = new Map<number, Step[]>();
  for (const step of program.steps) for (const s of step.inputs) readers.set(s, [...(readers.get(s) ?? []), step]);
  return readers;
}

const foldPlans = new WeakMap<Program, Map<number, number>>();
const foldedWeightCache = new WeakMap<Program, Map<number, FoldedWeights>>();

/**
 * Conv2D / DepthwiseConv2D steps (linear activation, NHWC) whose only consumer is an inference
 * BatchNormalization over the last axis: conv step index → BN step index. Under the tape such a pair
 * runs as ONE convolution with the BN's scale folded into the kernel and its offset into the bias —
 * two elementwise ops fewer forward and backward per pair (MobileNetV2: 52, ResNet50: 53).
 */
export function foldPlan(program: Program): Map<number, number> {
  const known = foldPlans.get(program);
  if (known) return known;
  const consumers = slotReaders(program);
  const plan = new Map<number, number>();
  for (const step of program.steps) {
    const className = step.layer.getClassName();
    if (className !== 'Conv2D' && className !== 'DepthwiseConv2D') continue;
    if (!linearCallSupported(step.layer) || step.outputs.length !== 1 || program.outputSlots.includes(step.outputs[0])) continue;
    const act = activationName(step.layer);
    if (act !== null && act !== 'linear') continue;
    const users = consumers.get(step.outputs[0]) ?? [];
    if (users.length !== 1 || users[0].layer.getClassName() !== 'BatchNormalization' || users[0].inputs.length !== 1) continue;
    if (!isLastAxisBatchNorm(users[0].layer, step.outputShape.length)) continue;
    if (className === 'Conv2D' && !(step.layer as unknown as ConvInternals).kernel) continue;
    if (className === 'DepthwiseConv2D' && !(step.layer as unknown as ConvInternals).depthwiseKernel) continue;
    plan.set(step.index, users[0].index);
  }
  foldPlans.set(program, plan);
  return plan;
}

/**
 * The folded kernel and bias of a conv → BN pair, made once per program (at load on CPU-side
 * backends, for the backward pass; elsewhere on first use by a taped fast pass) and kept until
 * disposeFoldedWeights.
 */
function foldedWeights(program: Program, conv: Step, bnStep: Step): FoldedWeights {
  let cache = foldedWeightCache.get(program);
  if (!cache) {
    cache = new Map();
    foldedWeightCache.set(program, cache);
  }
  const hit = cache.get(conv.index);
  if (hit) return hit;
  const made = tf.tidy(() => {
    const l = conv.layer as unknown as ConvInternals;
    const scale = batchNormScale(bnStep.layer);
    const offset = batchNormOffset(bnStep.layer, scale);
    const depthwise = conv.layer.getClassName() === 'DepthwiseConv2D';
    const w = (depthwise ? l.depthwiseKernel! : l.kernel!).read() as tf.Tensor4D;
    // Depthwise output channel c·M + m is scaled by scale[c·M + m]: reshape to [1, 1, C, M].
    const kernel = tf.mul(w, depthwise ? scale.reshape([1, 1, w.shape[2], w.shape[3]]) : scale) as tf.Tensor4D;
    const bias = (l.useBias && l.bias ? tf.add(tf.mul(l.bias.read(), scale), offset) : offset) as tf.Tensor1D;
    return { kernel: tf.keep(kernel), bias: tf.keep(bias) };
  });
  cache.set(conv.index, made);
  return made;
}

/**
 * Make every folded kernel and bias now (at load, so explanations and tensor counts see no new ones
 * later). Done on CPU-side backends, where the written-out backward pass then saves one elementwise
 * op per conv → BN pair; elsewhere they are made only if a taped fast pass runs.
 */
export function prepareFoldedWeights(program: Program): void {
  for (const [convIndex, bnIndex] of foldPlan(program)) foldedWeights(program, program.steps[convIndex], program.steps[bnIndex]);
  preparedPrograms.add(program);
}

const preparedPrograms = new WeakSet<Program>();

/** The folded weights of a conv step if prepareFoldedWeights made them (never makes any). */
export function preparedFold(program: Program, convIndex: number): FoldedWeights | undefined {
  return preparedPrograms.has(program) ? foldedWeightCache.get(program)?.get(convIndex) : undefined;
}

/** Free the folded weights made for `program` (the model's dispose). */
export function disposeFoldedWeights(program: Program): void {
  const cache = foldedWeightCache.get(program);
  preparedPrograms.delete(program);
  if (!cache) return;
  for (const w of cache.values()) tf.dispose([w.kernel, w.bias]);
  foldedWeightCache.delete(program);
}

function foldedCall(program: Program, conv: Step, bnStep: Step, input: tf.Tensor): tf.Tensor | null {
  if (input.rank !== 4) return null;
  const l = conv.layer as unknown as ConvInternals;
  const { kernel, bias } = foldedWeights(program, conv, bnStep);
  const padding = l.padding === 'same' ? 'same' : 'valid';
  const x = input as tf.Tensor4D;
  const y = conv.layer.getClassName() === 'Conv2D'
    ? atrous(x, pair(l.dilationRate), padding, kernel.shape, (v, p, d) => tf.conv2d(v, kernel, pair(l.strides), p, 'NHWC', d))
    : tf.depthwiseConv2d(x, kernel, pair(l.strides), padding, 'NHWC'); // as tfjs-layers: no dilation
  return tf.add(y, bias);
}

/**
 * Run `steps` (in order) for a taped computation: conv → BN pairs of `foldPlan` as one folded conv
 * on the fast path (the conv's own output slot then stays unset), everything else via callStep.
 */
export function runTapedSteps(
  program: Program,
  steps: readonly Step[],
  read: (slot: number) => tf.Tensor,
  write: (slot: number, value: tf.Tensor) => void,
  path: GradientPath,
  skip?: (step: Step) => boolean,
): void {
  const plan = path === 'fast' ? foldPlan(program) : null;
  const included = new Set(steps.map((s) => s.index));
  const foldedInto = new Set<number>();
  for (const step of steps) {
    if (skip?.(step) || foldedInto.has(step.index)) continue;
    const bnIndex = plan?.get(step.index);
    if (bnIndex !== undefined && included.has(bnIndex)) {
      const bnStep = program.steps[bnIndex];
      const y = foldedCall(program, step, bnStep, read(step.inputs[0]));
      if (y) {
        write(bnStep.outputs[0], y);
        foldedInto.add(bnIndex);
        continue;
      }
    }
    const outs = callStep(step, step.inputs.map(read), path);
    step.outputs.forEach((s, i) => write(s, outs[i]));
  }
}
