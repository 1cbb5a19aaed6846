/**
 * Forward passes over a compiled program: the full pass that keeps every slot (the per-image
 * activation cache), the output alone, the logit read-out, and the steps downstream of a slot.
 */
import * as tf from '@tensorflow/tfjs';
import { studioError } from '../../shared/errors';
import { materializeSlot, runCompiledForward } from './compiled-forward';
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
  // Graph and ONNX convolutions: conv + bias (+ relu) as one fused kernel (graph-ops.ts fastApply).
  const fused = (step.layer as { fastApply?: (x: tf.Tensor) => tf.Tensor }).fastApply;
  if (fast && fused && inputs.length === 1 && inputs[0]) return [fused(inputs[0])];
  return callStep(step, inputs);
}

/**
 * Full forward pass outside any tape; returns every slot's value (the per-image activation cache).
 * `fast`: the faster leaf calls of FAST_FORWARD_CLASSES (equal up to float rounding).
 * `compiled`: conv → BN (→ ReLU) chains as one fused call each (compiled-forward.ts); their inner
 * slots are then empty until materializeSlot makes them.
 */
export function runForward(program: Program, input: tf.Tensor, options: { fast?: boolean; keep?: ReadonlySet<number>; compiled?: boolean } = {}): tf.Tensor[] {
  if (options.compiled && !options.keep) return runCompiledForward(program, input, (step, inputs) => forwardStep(step, inputs, options.fast === true));
  const values: tf.Tensor[] = new Array(program.slotCount);
  values[program.inputSlot] = input;
  // `keep` (a batch of images: the gallery): only these slots are returned; any other is freed once
  // the last step reading it has run, so the batch never holds every layer's activations at once.
  const lastUse = new Map<number, number>();
  if (options.keep) program.steps.forEach((step, i) => step.inputs.forEach((s) => lastUse.set(s, i)));
  program.steps.forEach((step, i) => {
    const inputs = step.inputs.map((s) => values[s]);
    const outs = forwardStep(step, inputs, options.fast === true);
    step.outputs.forEach((s, k) => (values[s] = outs[k]));
    if (!options.keep) return;
    for (const s of new Set([...step.inputs, ...step.outputs])) {
      const v = values[s];
      if (!v || options.keep.has(s) || s === program.inputSlot || (lastUse.get(s) ?? -1) > i) continue;
      // A layer may hand back its input (a reshape, an identity): free a tensor only once no kept slot holds it.
      if (!values.some((w, j) => w === v && j !== s && (options.keep!.has(j) || (lastUse.get(j) ?? -1) > i))) v.dispose();
      delete values[s];
    }
  });
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

/**
 * The class score (sign · logit of `classIndex`) of every row of a batch, from a forward pass that
 * keeps nothing it no longer needs: each intermediate is freed once the last step reading it has
 * run, so a batch of 16 masked images costs the memory of a few layers, not of 16 activation caches.
 *
 * `given` holds the batch's values for the slots it starts from (the input for a whole forward pass,
 * or a layer's slot with only `steps` = its downstream steps); any other slot a step reads comes from
 * `cached` (one image's activations), repeated along the batch. `given` and `cached` stay the
 * caller's. The final probability activation is not run (the logit is read before it). Returns [batch].
 */
export function forwardScores(
  program: Program,
  steps: readonly Step[],
  given: ReadonlyMap<number, tf.Tensor>,
  cached: ReadonlyArray<tf.Tensor | undefined>,
  classIndex: number,
  sign: number,
  options: { fast?: boolean } = {},
): tf.Tensor1D {
  const rows = forwardLogits(program, steps, given, cached, options);
  return tf.tidy(() => {
    const scores = rows.slice([0, classIndex], [rows.shape[0], 1]).reshape([-1]);
    rows.dispose();
    return (sign === 1 ? scores : scores.mul(sign)) as tf.Tensor1D;
  });
}

/**
 * Every class's logit for every row of a batch, [batch, classes]: forwardScores' memory-bounded
 * forward pass without the class read-out (the faithfulness metrics need the probabilities).
 */
export function forwardLogits(
  program: Program,
  steps: readonly Step[],
  given: ReadonlyMap<number, tf.Tensor>,
  cached: ReadonlyArray<tf.Tensor | undefined>,
  options: { fast?: boolean } = {},
): tf.Tensor2D {
  const final = program.steps[program.finalStepIndex];
  const run = steps.filter((s) => !(s === final && program.logit.kind !== 'none'));
  const batch = [...given.values()][0]?.shape[0] ?? 1;
  // Slots read at the end: the logit's source.
  const logitSlots = program.logit.kind === 'none' ? [program.outputSlots[0]] : [final.inputs[0]];
  const lastUse = new Map<number, number>();
  run.forEach((step, i) => step.inputs.forEach((s) => lastUse.set(s, i)));
  for (const s of logitSlots) lastUse.set(s, run.length);
  const local = new Map<number, tf.Tensor>();
  const repeated = new Map<number, tf.Tensor>();
  const owned = (t: tf.Tensor) => [...given.values()].includes(t) || cached.includes(t);
  const read = (s: number): tf.Tensor => {
    const v = local.get(s) ?? given.get(s);
    if (v) return v;
    const c = materializeSlot(cached, s);
    if (!c) throw studioError('INTERNAL', { reason: `slot ${s} has no value` });
    if (batch === 1 || c.shape[0] !== 1) return c;
    let r = repeated.get(s);
    if (!r) {
      r = tf.tile(c, [batch, ...new Array(c.rank - 1).fill(1)]);
      repeated.set(s, r);
    }
    return r;
  };
  try {
    run.forEach((step, i) => {
      const inputs = step.inputs.map(read);
      const outs = tf.tidy(() => forwardStep(step, inputs, options.fast === true).map((o) => (inputs.includes(o) || owned(o) ? o.clone() : o)));
      step.outputs.forEach((s, k) => {
        if (lastUse.has(s)) local.set(s, outs[k]);
        else outs[k].dispose(); // an output nothing reads (a second output of a layer)
      });
      for (const s of new Set(step.inputs)) {
        if (lastUse.get(s) !== i) continue;
        local.get(s)?.dispose();
        local.delete(s);
        repeated.get(s)?.dispose();
        repeated.delete(s);
      }
    });
    return tf.tidy(() => {
      const logits = logitFromSlots(program, read);
      return logits.reshape([logits.shape[0] ?? 1, -1]) as tf.Tensor2D;
    });
  } finally {
    tf.dispose([...local.values(), ...repeated.values()]);
  }
}
