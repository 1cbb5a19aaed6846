/**
 * Forward passes over a compiled program: the full pass that keeps every slot (the per-image
 * activation cache), the output alone, the logit read-out, and the steps downstream of a slot.
 */
import * as tf from '@tensorflow/tfjs';
import { studioError } from '../shared/errors';
import { callStep, plainLeafCall } from './leaf';
import type { Program, Step } from './program';

/** The logit tensor of output 0 given the slot values (the final step's inputs and output are present). */
export function logitFromSlots(program: Program, read: (slot: number) => tf.Tensor): tf.Tensor {
  const final = program.steps[program.finalStepIndex];
  switch (program.logit.kind) {
    case 'activation-input':
      return read(final.inputs[0]);
    case 'linear-of-layer': {
      const y = plainLeafCall(final.layer, read(final.inputs[0]), true);
      if (!y) throw studioError('INTERNAL', { reason: `cannot take the logit of ${final.path}` });
      return y;
    }
    default:
      return read(program.outputSlots[0]);
  }
}

/**
 * Leaf calls that beat tfjs-layers outside a tape too: inference BatchNormalization as one
 * multiply-add (tfjs's FusedBatchNorm kernel is the slowest op of a MobileNetV2 forward pass on WASM).
 * Convolutions keep the fused conv + bias + activation kernel, which is faster than separate ops.
 */
const FAST_FORWARD_CLASSES = new Set(['BatchNormalization']);

function forwardStep(step: Step, inputs: tf.Tensor[], fast: boolean): tf.Tensor[] {
  if (fast && inputs.length === 1 && FAST_FORWARD_CLASSES.has(step.layer.getClassName())) {
    const y = plainLeafCall(step.layer, inputs[0]);
    if (y) return [y];
  }
  return callStep(step, inputs);
}

/**
 * Full forward pass outside any tape; returns every slot's value (the per-image activation cache).
 * `fast`: the faster leaf calls of FAST_FORWARD_CLASSES (equal up to float rounding).
 */
export function runForward(program: Program, input: tf.Tensor, options: { fast?: boolean } = {}): tf.Tensor[] {
  const values: tf.Tensor[] = new Array(program.slotCount);
  values[program.inputSlot] = input;
  for (const step of program.steps) {
    const outs = forwardStep(step, step.inputs.map((s) => values[s]), options.fast === true);
    step.outputs.forEach((s, i) => (values[s] = outs[i]));
  }
  return values;
}

/** Forward pass that keeps only the model's output 0 (what `predict` returns). */
export function runOutput(program: Program, input: tf.Tensor): tf.Tensor {
  return tf.tidy(() => runForward(program, input)[program.outputSlots[0]]);
}

/** Steps whose result depends on `slot`, in execution order. */
export function downstreamSteps(program: Program, slot: number): Step[] {
  const live = new Set<number>([slot]);
  const out: Step[] = [];
  for (const step of program.steps) {
    if (step.inputs.some((s) => live.has(s))) {
      out.push(step);
      step.outputs.forEach((s) => live.add(s));
    }
  }
  return out;
}
