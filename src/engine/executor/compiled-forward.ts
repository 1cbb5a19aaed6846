/**
 * The compiled forward pass (the per-image activation cache on CPU-side backends): each
 * Conv2D / DepthwiseConv2D → BatchNormalization (→ ReLU / ReLU6) chain of the program runs as ONE
 * fused convolution — the BN's scale and offset folded into the kernel and bias (the weights
 * prepareFoldedWeights made at load), the activation fused into the same kernel call. MobileNetV2
 * then runs 35 conv calls instead of 35 convs + 104 elementwise BN ops + 35 clips; on WASM with
 * threads every one of those small ops paid a thread-pool dispatch.
 *
 * What the gradients need is kept: the chain's final output (read by the next layers and by the
 * ReLU's backward pass, which works from its output), and its input. The chain's intermediate slots
 * (the conv's output, and the BN's when an activation follows) are left empty, and made on demand —
 * for a layer explained there, or a reader that needs them — from the chain's input with the layers'
 * own calls, then kept in the cache like any other slot.
 */
import * as tf from '@tensorflow/tfjs';
import { takesFoldedKernel } from './backward';
import { foldPlan, preparedFold, slotReaders } from './folding';
import { activationName, pair, type ConvInternals } from './layer-info';
import { callStep, plainLeafCall } from './leaf';
import type { Program, Step } from './program';

export interface FusedChain {
  conv: Step;
  bn: Step;
  /** The ReLU / ReLU6 after the BN, fused into the same kernel call; null when the BN's output goes elsewhere. */
  act: Step | null;
  activation: 'linear' | 'relu' | 'relu6';
  /** The chain's output slot (the activation's, else the BN's). */
  out: number;
  /** The slots the fused call skips: the conv's output, and the BN's when an activation follows. */
  skipped: number[];
}

/** A program's chains with what every compiled pass looks up: the steps a fused call covers, and each skipped slot's chain. */
interface ChainPlan {
  chains: Map<number, FusedChain>;
  /** BN and activation steps that run inside their chain's fused call. */
  insideChain: Set<number>;
  chainOf: Map<number, FusedChain>;
}

const chainPlans = new WeakMap<Program, ChainPlan>();

/**
 * relu / relu6 for a ReLU or Activation layer that is exactly one of them, else null. Their
 * written-out backward pass reads the mask off the output when the input is not there.
 */
export function fusableActivation(step: Step): 'relu' | 'relu6' | null {
  const className = step.layer.getClassName();
  if (step.inputs.length !== 1 || step.outputs.length !== 1) return null;
  if (className === 'ReLU') {
    const maxValue = (step.layer as unknown as { maxValue?: number | null }).maxValue;
    return maxValue == null ? 'relu' : maxValue === 6 ? 'relu6' : null;
  }
  if (className === 'Activation') {
    const name = activationName(step.layer);
    return name === 'relu' || name === 'relu6' ? name : null;
  }
  return null;
}

/**
 * The program's fusable chains, keyed by the conv's step index: the conv → BN pairs of foldPlan whose
 * folded weights were prepared (CPU-side backends) and whose conv takes a folded kernel, each with the
 * ReLU / ReLU6 that is the BN output's only reader, when there is one.
 */
export function fusedChains(program: Program): Map<number, FusedChain> {
  return chainPlan(program).chains;
}

function chainPlan(program: Program): ChainPlan {
  const known = chainPlans.get(program);
  if (known) return known;
  const readers = slotReaders(program);
  const chains = new Map<number, FusedChain>();
  for (const [convIndex, bnIndex] of foldPlan(program)) {
    const conv = program.steps[convIndex]!;
    const bn = program.steps[bnIndex]!;
    if (!preparedFold(program, convIndex) || !takesFoldedKernel(conv) || conv.inputs.length !== 1 || bn.outputs.length !== 1) continue;
    const bnOut = bn.outputs[0]!;
    const users = readers.get(bnOut) ?? [];
    const next = users.length === 1 && !program.outputSlots.includes(bnOut) ? users[0]! : null;
    const activation = next ? fusableActivation(next) : null;
    const act = activation ? next : null;
    chains.set(convIndex, {
      conv,
      bn,
      act,
      activation: activation ?? 'linear',
      out: act ? act.outputs[0]! : bnOut,
      skipped: act ? [conv.outputs[0]!, bnOut] : [conv.outputs[0]!],
    });
  }
  const insideChain = new Set<number>();
  const chainOf = new Map<number, FusedChain>();
  for (const chain of chains.values()) {
    insideChain.add(chain.bn.index);
    if (chain.act) insideChain.add(chain.act.index);
    for (const s of chain.skipped) chainOf.set(s, chain);
  }
  const plan = { chains, insideChain, chainOf };
  chainPlans.set(program, plan);
  return plan;
}

/** One fused call for a chain: conv with the folded kernel and bias, and the activation. */
export function fusedChainCall(program: Program, chain: FusedChain, input: tf.Tensor): tf.Tensor {
  const folded = preparedFold(program, chain.conv.index)!;
  const l = chain.conv.layer as unknown as ConvInternals;
  const common = {
    x: input as tf.Tensor4D,
    filter: folded.kernel,
    strides: pair(l.strides),
    pad: l.padding === 'same' ? ('same' as const) : ('valid' as const),
    dataFormat: 'NHWC' as const,
    dilations: [1, 1] as [number, number],
    bias: folded.bias,
    activation: chain.activation,
  };
  return chain.conv.layer.getClassName() === 'Conv2D' ? tf.fused.conv2d(common) : tf.fused.depthwiseConv2d(common);
}

/** Values arrays made by a compiled pass: how to fill their skipped slots. */
const skippedSlots = new WeakMap<ReadonlyArray<tf.Tensor | undefined>, Map<number, FusedChain>>();

/**
 * Full forward pass outside any tape with the chains fused (runForward's `compiled` option): every
 * slot's value except the chains' skipped slots, which materializeSlot fills on demand.
 */
export function runCompiledForward(program: Program, input: tf.Tensor, runStep: (step: Step, inputs: tf.Tensor[]) => tf.Tensor[]): tf.Tensor[] {
  const { chains, insideChain, chainOf } = chainPlan(program);
  const values: tf.Tensor[] = new Array(program.slotCount);
  values[program.inputSlot] = input;
  for (const step of program.steps) {
    if (insideChain.has(step.index)) continue;
    const chain = chains.get(step.index);
    if (chain) {
      // A Conv2D / DepthwiseConv2D input is always [batch, h, w, c].
      values[chain.out] = fusedChainCall(program, chain, values[step.inputs[0]!]!);
      continue;
    }
    const outs = runStep(step, step.inputs.map((s) => values[s]!));
    step.outputs.forEach((s, k) => (values[s] = outs[k]!));
  }
  skippedSlots.set(values, chainOf);
  return values;
}

/**
 * The value of `slot` in a values array: a skipped slot of a compiled pass is made now (its whole
 * chain, from the chain's input, with the layers' own calls) and kept in the array — which owns it
 * from then on, like every other slot. Undefined for a slot that has no value and was not skipped.
 */
export function materializeSlot(values: ReadonlyArray<tf.Tensor | undefined>, slot: number): tf.Tensor | undefined {
  const present = values[slot];
  if (present) return present;
  const chain = skippedSlots.get(values)?.get(slot);
  if (!chain) return undefined;
  const writable = values as (tf.Tensor | undefined)[];
  const [convOut, bnOut] = [chain.conv.outputs[0]!, chain.bn.outputs[0]!];
  const needBn = !writable[bnOut];
  tf.tidy(() => {
    const x = writable[chain.conv.inputs[0]!]!;
    const a = callStep(chain.conv, [x])[0]!;
    writable[convOut] = tf.keep(a);
    if (needBn) writable[bnOut] = tf.keep(plainLeafCall(chain.bn.layer, a) ?? callStep(chain.bn, [a])[0]!);
  });
  return writable[slot];
}

/**
 * Elements `slot` holds (or would hold, once made: a chain's inner slots have its output's shape) —
 * for memory estimates that must count what an uncompiled pass over a batch keeps.
 */
export function slotElements(values: ReadonlyArray<tf.Tensor | undefined>, slot: number): number {
  const present = values[slot];
  if (present) return present.size;
  const chain = skippedSlots.get(values)?.get(slot);
  return chain ? (values[chain.out]?.size ?? 0) : 0;
}

/** True when `slot` is a chain-internal slot a compiled pass skipped and has not made yet. */
export function isSkippedSlot(values: ReadonlyArray<tf.Tensor | undefined>, slot: number): boolean {
  return !values[slot] && !!skippedSlots.get(values)?.has(slot);
}
