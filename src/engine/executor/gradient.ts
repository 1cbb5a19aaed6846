/**
 * The gradient driver: the class score as a function of one slot (for a tfjs tape), and dScore/dSlot
 * either as the written-out backward pass over the cached activations (backward.ts) or through the
 * tape. Any batch size: the score of a batch is the sum of its rows' scores, so each row's gradient
 * is its own image's.
 */
import * as tf from '@tensorflow/tfjs';
import { studioError } from '../../shared/errors';
import { stepVjp, takesFoldedKernel } from './backward';
import { fusableActivation, isSkippedSlot, materializeSlot } from './compiled-forward';
import { foldPlan, preparedFold, runTapedSteps } from './folding';
import { downstreamSteps, logitFromSlots } from './forward';
import { callStep, plainLeafCall, type GradientPath } from './leaf';
import type { Program, Step } from './program';

/** One class (or sign) for every row of the batch, or one per row (a gallery batch: each image its own class). */
export type RowTarget = number | readonly number[];

/** d(score)/d(logits) as a [rows, units] tensor: sign_r at class_r in row r (a single-unit head: sign_r). */
function scoreWeights(rows: number, units: number, classIndex: RowTarget, sign: RowTarget): tf.Tensor2D {
  const perRow = (t: RowTarget) => (typeof t === 'number' ? new Array<number>(rows).fill(t) : [...t]);
  const [classes, signs] = [perRow(classIndex), perRow(sign)];
  if (classes.length !== rows || signs.length !== rows) throw studioError('INTERNAL', { reason: `${classes.length} classes / ${signs.length} signs for a batch of ${rows}` });
  return tf.tidy(() => {
    const s = tf.tensor2d(signs, [rows, 1]);
    if (units === 1) return s;
    return tf.oneHot(tf.tensor1d(classes, 'int32'), units).toFloat().mul(s) as tf.Tensor2D;
  });
}

/**
 * The score as a function of the value at `slot`: runs only the downstream steps, reading everything
 * else from `cached` (values computed outside the tape). Must be called inside a tape (tf.grad) to
 * differentiate; `sign` = -1 for the counterfactual.
 */
export function scoreFunction(
  program: Program,
  cached: ReadonlyArray<tf.Tensor | undefined>,
  slot: number,
  classIndex: RowTarget,
  options: { path?: GradientPath; sign?: RowTarget; downstream?: Step[] } = {},
): (value: tf.Tensor) => tf.Scalar {
  const downstream = options.downstream ?? downstreamSteps(program, slot);
  const path = options.path ?? 'fast';
  const sign = options.sign ?? 1;
  return (value: tf.Tensor) => {
    const local = new Map<number, tf.Tensor>([[slot, value]]);
    const read = (s: number) => {
      const v = local.get(s) ?? materializeSlot(cached, s);
      if (!v) throw studioError('INTERNAL', { reason: `slot ${s} has no value` });
      return v;
    };
    // The final step's probability activation is not needed for the score.
    const skipFinal = (step: Step) => step.index === program.finalStepIndex && program.logit.kind !== 'none';
    runTapedSteps(program, downstream, read, (s, v) => local.set(s, v), path, skipFinal);
    const logits = logitFromSlots(program, read);
    const flat = logits.reshape([logits.shape[0] ?? 1, -1]);
    // Per-row classes or signs (a gallery batch): the score is Σ_rows sign_r · logit_r[class_r].
    if (typeof classIndex !== 'number' || typeof sign !== 'number') return flat.mul(scoreWeights(flat.shape[0], flat.shape[1] ?? 1, classIndex, sign)).sum() as tf.Scalar;
    // A batch's score is the sum of its rows' scores: each row's gradient is its own image's.
    const score = flat.slice([0, classIndex], [flat.shape[0], 1]).sum() as tf.Scalar;
    return (sign === 1 ? score : score.mul(sign)) as tf.Scalar;
  };
}

/**
 * dScore/dValue at `slot` (value taken from `cached`). The fast path walks the steps after the slot
 * backwards over the cached activations (backward.ts: nothing runs forward again); the plain path
 * re-runs them under a tfjs tape through tfjs-layers' own calls (the reference the tests compare to).
 * Inside withGuidedGradients both follow the guided rule.
 */
export function gradientAt(
  program: Program,
  cached: ReadonlyArray<tf.Tensor | undefined>,
  slot: number,
  classIndex: RowTarget,
  options: { path?: GradientPath; sign?: RowTarget } = {},
): tf.Tensor {
  const value = materializeSlot(cached, slot);
  if (!value) throw studioError('INTERNAL', { reason: `slot ${slot} has no value` });
  const downstream = downstreamSteps(program, slot);
  // Written out where every value it reads is cached (runForward's cache is complete; a compiled
  // pass's skipped slots are made on demand) and every step has one output; otherwise the tape.
  const has = (s: number) => !!cached[s] || isSkippedSlot(cached, s);
  const writtenOut = (options.path ?? 'fast') === 'fast' &&
    downstream.every((s) => s.outputs.length === 1 && s.inputs.every(has) && has(s.outputs[0]));
  try {
    if (writtenOut) return backwardGradient(program, cached, slot, downstream, classIndex, options.sign ?? 1);
    return tf.grad(scoreFunction(program, cached, slot, classIndex, { ...options, downstream }))(value);
  } catch (e) {
    throw gradientError(e);
  }
}

/**
 * dScore/dValue at every slot of `slots` from ONE backward pass where the written-out pass applies
 * (FullGrad wants the gradient at each of dozens of biased layers: one pass per layer cost 52 / 106
 * backward passes on MobileNetV2 / ResNet50). `visit(slot, g)` receives each slot's complete gradient
 * during the pass (it is freed after: keep what you need); slots whose gradient is zero (after the
 * logit, or not reaching it) get zeros. Elsewhere (the plain path, a step with several outputs), one
 * gradientAt per slot.
 */
export function visitGradients(
  program: Program,
  cached: ReadonlyArray<tf.Tensor | undefined>,
  slots: readonly number[],
  classIndex: RowTarget,
  options: { path?: GradientPath; sign?: RowTarget },
  visit: (slot: number, gradient: tf.Tensor) => void,
): void {
  const has = (s: number) => !!cached[s] || isSkippedSlot(cached, s);
  const inPass = new Map<number, Step>();
  for (const s of slots) for (const step of downstreamSteps(program, s)) inPass.set(step.index, step);
  const downstream = [...inPass.values()].sort((a, b) => a.index - b.index);
  const writtenOut = (options.path ?? 'fast') === 'fast' && slots.every(has) &&
    downstream.every((s) => s.outputs.length === 1 && s.inputs.every(has) && has(s.outputs[0]));
  if (!writtenOut) {
    for (const s of slots) {
      const g = gradientAt(program, cached, s, classIndex, options);
      try {
        visit(s, g);
      } finally {
        g.dispose();
      }
    }
    return;
  }
  try {
    tf.dispose(backwardGradient(program, cached, program.inputSlot, downstream, classIndex, options.sign ?? 1, { slots: new Set(slots), visit }));
  } catch (e) {
    throw gradientError(e);
  }
}

/**
 * The backward pass over cached activations (see gradientAt); every step in `downstream` has one
 * output. With `collect`, each of its slots' complete gradients is handed to its visitor on the way.
 */
function backwardGradient(
  program: Program,
  cached: ReadonlyArray<tf.Tensor | undefined>,
  slot: number,
  downstream: Step[],
  classIndex: RowTarget,
  sign: RowTarget,
  collect?: { slots: ReadonlySet<number>; visit: (slot: number, gradient: tf.Tensor) => void },
): tf.Tensor {
  const read = (s: number) => {
    const v = materializeSlot(cached, s);
    if (!v) throw studioError('INTERNAL', { reason: `slot ${s} has no value` });
    return v;
  };
  // A compiled pass's skipped slots that the written-out products do not read: a linear conv's output
  // and a ReLU / ReLU6's input (its mask is read off its output). Left empty rather than made.
  const readIfUsed = (s: number, unused: boolean): tf.Tensor => (unused && isSkippedSlot(cached, s) ? (undefined as unknown as tf.Tensor) : read(s));
  const final = program.steps[program.finalStepIndex];
  // The score is one entry of the logits: read before a final Softmax/Activation layer, before the
  // probability activation of a final Dense/Conv ('linear-of-layer'), or the output itself.
  const logitSlot = program.logit.kind === 'activation-input' ? final.inputs[0] : program.outputSlots[0];
  // Collecting: only the collected slots' gradients are wanted beyond the pass's own outputs.
  const live = new Set<number>([...(collect ? collect.slots : [slot]), ...downstream.flatMap((s) => s.outputs)]);
  // Conv → BN pairs with folded weights prepared (CPU-side backends): the BN step passes its gradient
  // straight to the conv, whose input gradient then uses the folded kernel (one elementwise op fewer).
  const inPass = new Set(downstream.map((s) => s.index));
  const foldedConvKernel = new Map<number, tf.Tensor>();
  const foldedBatchNorms = new Set<number>();
  for (const [convIndex, bnIndex] of foldPlan(program)) {
    const folded = preparedFold(program, convIndex);
    // Not where the conv's own output gradient is wanted (folding never makes it).
    const convOutput = program.steps[convIndex]?.outputs[0] ?? -1;
    if (folded && inPass.has(convIndex) && inPass.has(bnIndex) && takesFoldedKernel(program.steps[convIndex]) && !collect?.slots.has(convOutput)) {
      foldedConvKernel.set(convIndex, folded.kernel);
      foldedBatchNorms.add(bnIndex);
    }
  }
  // The score does not depend on a probability output (it is read before the activation).
  const afterLogit = program.logit.kind !== 'none' && slot === final.outputs[0];
  const visited = new Set<number>();
  const visit = (s: number, g: tf.Tensor) => {
    if (!collect?.slots.has(s) || visited.has(s)) return;
    visited.add(s);
    collect.visit(s, g);
  };
  /** After the pass: the collected slots no step produced (the input: its accumulated gradient) or that never reached the logit (zeros). */
  const visitRest = (grads: ReadonlyMap<number, tf.Tensor>) => {
    for (const s of collect?.slots ?? []) {
      if (visited.has(s)) continue;
      const g = (s === final.outputs[0] && program.logit.kind !== 'none') ? undefined : grads.get(s);
      tf.tidy(() => visit(s, g ?? tf.zerosLike(read(s))));
    }
  };
  return tf.tidy(() => {
    if (!live.has(logitSlot) || afterLogit) {
      visitRest(new Map());
      return tf.zerosLike(read(slot));
    }
    const logit = read(logitSlot);
    const grads = new Map<number, tf.Tensor>();
    // d(sum of the rows' scores)/dLogits: `sign` at the class in every row of the batch.
    const rows = logit.shape[0] ?? 1;
    const units = logit.size / rows;
    // tf.oneHot wants a depth of 2 or more: a single-unit head's gradient is `sign` everywhere.
    const seed =
      typeof classIndex !== 'number' || typeof sign !== 'number'
        ? scoreWeights(rows, units, classIndex, sign).reshape(logit.shape)
        : units === 1
          ? tf.fill(logit.shape, sign)
          : tf.oneHot(tf.fill([rows], classIndex, 'int32') as tf.Tensor1D, units).toFloat().mul(sign).reshape(logit.shape);
    grads.set(logitSlot, seed);
    const inUse = (t: tf.Tensor) => [...grads.values()].includes(t);
    /** Add `g` to slot `s`'s gradient, freeing the old sum unless it is still held (or is `keep`). */
    const accumulate = (s: number, g: tf.Tensor, keep: tf.Tensor) => {
      const before = grads.get(s);
      grads.set(s, before ? tf.add(before, g) : g);
      if (before && !inUse(before) && before !== keep) before.dispose();
    };
    for (let i = downstream.length - 1; i >= 0; i--) {
      const step = downstream[i];
      if (step === final && program.logit.kind === 'activation-input') continue;
      const out = step.outputs[0];
      const dy = grads.get(out);
      if (!dy) continue;
      grads.delete(out);
      // Complete here: every step reading `out` comes later and has passed its share back.
      if (!(out === final.outputs[0] && program.logit.kind !== 'none')) tf.tidy(() => visit(out, dy));
      if (foldedBatchNorms.has(step.index)) {
        accumulate(step.inputs[0], dy, dy);
        continue;
      }
      const linear = step === final && program.logit.kind === 'linear-of-layer';
      // The score's own layer: the logit is taken before its probability activation.
      const rerun = (xs: tf.Tensor[]) => {
        const y = linear ? plainLeafCall(step.layer, xs[0], true) : callStep(step, xs, 'fast')[0];
        if (!y) throw studioError('INTERNAL', { reason: `cannot take the logit of ${step.path}` });
        return y;
      };
      const reluFromOutput = fusableActivation(step) !== null;
      const inputs = step.inputs.map((s) => readIfUsed(s, reluFromOutput));
      // A slot given twice gets its gradient once (stepVjp returns it at its first position).
      const wanted = step.inputs.map((s, k) => live.has(s) && step.inputs.indexOf(s) === k);
      const positions = wanted.flatMap((w, k) => (w ? [k] : []));
      const output = readIfUsed(out, !linear && takesFoldedKernel(step));
      const inputGrads: tf.Tensor[] = tf.tidy(() => {
        const all = stepVjp(step, inputs, output, dy, { linear, kernel: foldedConvKernel.get(step.index) }, rerun, wanted);
        return positions.map((k) => all[k] ?? tf.zerosLike(inputs[k]));
      });
      inputGrads.forEach((g, j) => accumulate(step.inputs[positions[j]], g, dy));
      // Free as we go: a whole network's gradients at once would double the activation memory.
      if (!inUse(dy)) dy.dispose();
      inputGrads.forEach((g) => !inUse(g) && g !== dy && g.dispose());
    }
    visitRest(grads);
    return grads.get(slot) ?? tf.zerosLike(read(slot));
  });
}

/** tfjs's "cannot differentiate" failures as GRADIENT_UNSUPPORTED (with the op named); anything else unchanged. */
export function gradientError(e: unknown): unknown {
  const message = e instanceof Error ? e.message : String(e);
  // tfjs says "Kernel 'X' not registered for backend 'wasm'"; our own kernels say "… is not registered …".
  const missingKernel = /Kernel '(\w+)' (?:is )?not registered for backend '(\w+)'/.exec(message);
  if (missingKernel) return studioError('GRADIENT_UNSUPPORTED', { op: missingKernel[1], backend: missingKernel[2] });
  // tfjs's tape: "Cannot compute gradient: gradient function not found for DepthToSpace."
  const unsupported = /Error in gradient of (\w+)/.exec(message) ?? /gradient function not found for (\w+)/.exec(message) ?? /gradient .*not (?:yet )?supported/i.exec(message);
  if (unsupported) return studioError('GRADIENT_UNSUPPORTED', { op: unsupported[1] ?? message, backend: tf.getBackend() });
  return e;
}
