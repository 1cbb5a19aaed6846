/**
 * The written-out backward pass (backward.ts, used by gradientAt's fast path) against tfjs's tape:
 * at every slot of a model with every layer kind it covers (and some it leaves to the per-step
 * fallback), plain, guided and counterfactual, on the CPU and WASM backends; and a second class on
 * the same image runs no forward kernel at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { compileProgram, type Program } from './program';
import { downstreamSteps, runForward } from './forward';
import { disposeFoldedWeights, foldPlan, prepareFoldedWeights } from './folding';
import { gradientAt, scoreFunction, visitGradients } from './gradient';
import { withGuidedGradients } from './guided';
import { WRITTEN_VJP_CLASSES } from './backward';
import { registerFastWasmGradients } from '../kernels/wasm-gradients';
import { loadedModelFromLayersModel } from '../model';
import { testImage } from '../../test-support/test-models';

type T = tf.SymbolicTensor;
const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });

/**
 * Every layer kind the backward pass writes out, plus Rescaling, ZeroPadding2D, UpSampling2D, Multiply
 * and (with `dilated`) a dilated conv → BN pair, which the per-step fallback differentiates.
 */
function zooModel({ dilated = true } = {}): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3] });
  let x = tf.layers.rescaling({ scale: 1 / 127.5, offset: -1 }).apply(input) as T;
  x = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu6', kernelInitializer: seeded(1) }).apply(x) as T;
  x = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', kernelInitializer: seeded(13) }).apply(x) as T; // → BN: a folded pair
  x = tf.layers.batchNormalization({ gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 2 }), movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 2, seed: 3 }), movingMeanInitializer: tf.initializers.randomNormal({ stddev: 0.1, seed: 4 }) }).apply(x) as T;
  x = tf.layers.leakyReLU({ alpha: 0.1 }).apply(x) as T;
  if (dilated) {
    // A dilated conv → BN pair: foldPlan lists it, but its gradient is the fallback's, so it must not fold.
    x = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', dilationRate: 2, kernelInitializer: seeded(17) }).apply(x) as T;
    x = tf.layers.batchNormalization({ gammaInitializer: tf.initializers.constant({ value: 3 }) }).apply(x) as T;
  }
  x = tf.layers.zeroPadding2d({ padding: 1 }).apply(x) as T;
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid', depthMultiplier: 2, activation: 'relu', depthwiseInitializer: seeded(5) }).apply(x) as T;
  const sep = tf.layers.separableConv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'tanh', depthwiseInitializer: seeded(6), pointwiseInitializer: seeded(7) }).apply(x) as T;
  const maxPooled = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }).apply(sep) as T;
  const avgPooled = tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same' }).apply(sep) as T;
  x = tf.layers.concatenate().apply([maxPooled, avgPooled]) as T;
  const a = tf.layers.conv2d({ filters: 8, kernelSize: 1, activation: 'sigmoid', kernelInitializer: seeded(8) }).apply(x) as T;
  const b = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 1, padding: 'same', kernelInitializer: seeded(9) }).apply(x) as T;
  x = tf.layers.add().apply([a, b]) as T;
  x = tf.layers.add().apply([x, x]) as T; // one slot read twice, written out…
  x = tf.layers.multiply().apply([x, x]) as T; // …and by the per-step fallback
  x = tf.layers.reLU({ maxValue: 6 }).apply(x) as T;
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthwiseInitializer: seeded(14) }).apply(x) as T; // → BN: folded too
  x = tf.layers.batchNormalization({ gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 15 }), movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 2, seed: 16 }) }).apply(x) as T;
  x = tf.layers.upSampling2d({ size: [2, 2] }).apply(x) as T;
  x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: seeded(10) }).apply(x) as T;
  x = tf.layers.activation({ activation: 'relu' }).apply(x) as T;
  x = tf.layers.dropout({ rate: 0.5 }).apply(x) as T;
  x = tf.layers.flatten().apply(x) as T;
  x = tf.layers.dense({ units: 12, activation: 'relu', kernelInitializer: seeded(11) }).apply(x) as T;
  const out = tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: seeded(12) }).apply(x) as T;
  return tf.model({ inputs: input, outputs: out });
}

function relativeDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const scale = tf.max(tf.abs(b)).dataSync()[0]!;
    return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / Math.max(scale, 1e-12);
  });
}

function taped(program: Program, values: tf.Tensor[], slot: number, cls: number, path: 'fast' | 'plain', sign: number): tf.Tensor {
  return tf.grad(scoreFunction(program, values, slot, cls, { path, sign }))(values[slot]!);
}

/** Steps whose output the score depends on: all but the softmax head (its logit is taken before it). */
const scoredSteps = (program: Program) => program.steps.filter((s) => s.index !== program.finalStepIndex);

const input = () => tf.randomUniform([1, 16, 16, 3], 0, 255, 'float32', 3);

for (const [backend, folded] of [['cpu', false], ['wasm', false], ['wasm', true]] as const) {
  describe(`written-out backward pass = tfjs tape (${backend}${folded ? ', conv → BN folded' : ''})`, () => {
    let model: tf.LayersModel;
    let program: Program;
    let values: tf.Tensor[];
    beforeAll(async () => {
      await tf.setBackend(backend);
      await tf.ready();
      if (backend === 'wasm') registerFastWasmGradients();
      model = zooModel();
      program = compileProgram(model);
      if (folded) {
        prepareFoldedWeights(program);
        expect(foldPlan(program).size).toBe(3);
      }
      values = runForward(program, input());
    });
    afterAll(() => {
      disposeFoldedWeights(program);
      tf.dispose(values);
      model.dispose();
    });

    it('covers the zoo: every class but the fallback ones has a written-out product', () => {
      const classes = new Set(program.steps.map((s) => s.layer.getClassName()));
      const fallback = [...classes].filter((c) => !WRITTEN_VJP_CLASSES.includes(c)).sort();
      expect(fallback).toEqual(['Multiply', 'Rescaling', 'UpSampling2D', 'ZeroPadding2D']);
    });

    it('the plain gradient at every slot equals the tape through tfjs-layers (or, before the dilated conv, the taped fast path), for the top class and a counterfactual', () => {
      let checked = 0;
      let throughLayers = 0;
      for (const step of scoredSteps(program)) {
        const slot = step.outputs[0]!;
        // tfjs-layers' own dilated conv cannot be differentiated: upstream of it the reference is the
        // taped fast path (space-to-batch), itself checked against tfjs-layers in executor.test.ts.
        const viaLayers = !downstreamSteps(program, slot).some((s) => s.layer.getClassName() === 'Conv2D' && (s.layer.getConfig().dilationRate as number[])[0] !== 1);
        if (viaLayers) throughLayers++;
        for (const [cls, sign] of [[1, 1], [3, -1]] as const) {
          const written = gradientAt(program, values, slot, cls, { path: 'fast', sign });
          const reference = taped(program, values, slot, cls, viaLayers ? 'plain' : 'fast', sign);
          expect(written.shape, step.path).toEqual(reference.shape);
          expect(relativeDiff(written, reference), `${step.path} class ${cls} sign ${sign}`).toBeLessThanOrEqual(1e-4);
          tf.dispose([written, reference]);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(30);
      expect(throughLayers).toBeGreaterThan(10);
    });

    it('guided: the gradient at every slot equals the taped guided pass, and differs from the plain one at the input', () => {
      for (const slot of [program.inputSlot, ...scoredSteps(program).map((s) => s.outputs[0]!)]) {
        const [written, reference] = withGuidedGradients(() => [gradientAt(program, values, slot, 2), taped(program, values, slot, 2, 'fast', 1)]);
        expect(relativeDiff(written!, reference!), `slot ${slot}`).toBeLessThanOrEqual(1e-4);
        tf.dispose([written!, reference!]);
      }
      const guided = withGuidedGradients(() => gradientAt(program, values, program.inputSlot, 2));
      const plain = gradientAt(program, values, program.inputSlot, 2);
      expect(relativeDiff(guided, plain)).toBeGreaterThan(1e-2);
      tf.dispose([guided, plain]);
    });

    it('visitGradients: one pass gives every slot the gradient gradientAt gives it, folded pairs included, and leaves nothing behind', () => {
      const slots = [program.inputSlot, ...program.steps.map((s) => s.outputs[0]!)];
      for (const [cls, sign] of [[1, 1], [3, -1]] as const) {
        const seen = new Map<number, tf.Tensor>();
        const before = tf.memory().numTensors;
        visitGradients(program, values, slots, cls, { sign }, (slot, g) => seen.set(slot, tf.keep(g.clone())));
        expect(tf.memory().numTensors).toBe(before + seen.size);
        expect([...seen.keys()].sort((a, b) => a - b)).toEqual([...new Set(slots)].sort((a, b) => a - b));
        for (const slot of slots) {
          const one = gradientAt(program, values, slot, cls, { sign });
          expect(relativeDiff(seen.get(slot)!, one), `slot ${slot} class ${cls}`).toBeLessThanOrEqual(1e-5);
          one.dispose();
        }
        tf.dispose([...seen.values()]);
      }
      // Folded pairs fold when their conv's own gradient is not asked for.
      visitGradients(program, values, [program.inputSlot], 2, {}, (_, g) => {
        const one = gradientAt(program, values, program.inputSlot, 2);
        expect(relativeDiff(g, one)).toBeLessThanOrEqual(1e-5);
        one.dispose();
      });
    });

    it('visitGradients is one backward pass: no more kernels for every slot than gradientAt takes for the input alone (+ the visits)', async () => {
      const slots = [program.inputSlot, ...program.steps.map((s) => s.outputs[0]!)];
      // (tf.profile's kernel list is shared with later profiles: read its length at once.)
      const all = (await tf.profile(() => visitGradients(program, values, slots, 1, {}, () => undefined))).kernels.length;
      const input = (await tf.profile(() => gradientAt(program, values, program.inputSlot, 1).dispose())).kernels.length;
      // One pass per slot would take about slots.length / 2 times as many.
      expect(all).toBeLessThanOrEqual(1.5 * input + slots.length);
    });

    it('leaves nothing behind but its result', () => {
      const before = tf.memory().numTensors;
      const g = gradientAt(program, values, program.inputSlot, 0);
      expect(tf.memory().numTensors).toBe(before + 1);
      g.dispose();
      withGuidedGradients(() => gradientAt(program, values, values.length - 3, 1)).dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('a softmax head the fallback differentiates (dilated conv)', () => {
  it('takes the logit before the softmax, as the tape does', async () => {
    await tf.setBackend('cpu');
    const input = tf.input({ shape: [9, 9, 3] });
    const hidden = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seeded(20) }).apply(input) as T;
    const out = tf.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', dilationRate: 2, activation: 'softmax', kernelInitializer: seeded(21) }).apply(hidden) as T;
    const model = tf.model({ inputs: input, outputs: out });
    const program = compileProgram(model);
    expect(program.logit.kind).toBe('linear-of-layer');
    const values = runForward(program, tf.randomNormal([1, 9, 9, 3], 0, 1, 'float32', 22));
    for (const slot of [program.inputSlot, program.steps[0]!.outputs[0]!]) {
      const written = gradientAt(program, values, slot, 7);
      const reference = taped(program, values, slot, 7, 'fast', 1); // tfjs-layers cannot differentiate the dilated conv
      expect(relativeDiff(written, reference)).toBeLessThanOrEqual(1e-4);
      tf.dispose([written, reference]);
    }
    tf.dispose(values);
    model.dispose();
  });
});

describe('a second request on the same image runs only the backward pass (WASM)', () => {
  it('another class and the counterfactual run no forward convolution', async () => {
    await tf.setBackend('wasm');
    registerFastWasmGradients();
    const model = zooModel({ dilated: false }); // a fallback conv would run its own forward pass
    const loaded = await loadedModelFromLayersModel(model, { name: 'zoo' });
    const image = testImage();
    const layerPath = loaded.summary.defaultLayerPath!;
    const first = await tf.profile(async () => {
      await loaded.explain(image, { methods: ['gradcam', 'guided-backprop'], layerPath, target: 0 });
    });
    const kernelsOf = (p: Awaited<ReturnType<typeof tf.profile>>) => new Set(p.kernels.map((k) => k.name));
    expect(kernelsOf(first).has('FusedConv2D') || kernelsOf(first).has('Conv2D')).toBe(true); // the forward pass ran
    for (const options of [{ target: 1 }, { target: 1, counterfactual: true }]) {
      const again = await tf.profile(async () => {
        await loaded.explain(image, { methods: ['gradcam', 'guided-backprop'], layerPath, ...options });
      });
      const names = kernelsOf(again);
      expect(names.has('Conv2DBackpropInput')).toBe(true);
      for (const forward of ['Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D']) expect(names.has(forward), forward).toBe(false);
    }
    loaded.dispose();
  });
});
