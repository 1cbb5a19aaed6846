/**
 * The flat executor and the gradient methods on the five nesting shapes (a)–(e), before and after a
 * save/load round trip, on the CPU backend (it has every gradient kernel).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildTestModel, roundTrip, TEST_INPUT_SHAPE, type TestModelCase } from '../../test-support/test-models';
import { compileProgram, type Program } from './program';
import { plainLeafCall } from './leaf';
import { downstreamSteps, runForward, runOutput } from './forward';
import { gradientAt, scoreFunction } from './gradient';
import { withGuidedGradients } from './guided';
import { createContext } from '../methods/context';
import { gradcam } from '../methods/gradcam';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const CASES: TestModelCase[] = ['a', 'b', 'c', 'd', 'e'];

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

function randomInput(seed: number): tf.Tensor4D {
  return tf.randomUniform([1, ...TEST_INPUT_SHAPE], -1, 1, 'float32', seed) as tf.Tensor4D;
}

function slotOf(program: Program, path: string): number {
  const slot = program.slotsByPath.get(path);
  if (slot === undefined) throw new Error(`no slot for ${path}; paths: ${[...program.slotsByPath.keys()].join(', ')}`);
  return slot;
}

/** Guided backprop at the input, [H, W, c]. */
function guidedBackprop(program: Program, values: tf.Tensor[], classIndex: number): tf.Tensor3D {
  return tf.tidy(() => withGuidedGradients(() => gradientAt(program, values, program.inputSlot, classIndex)).squeeze([0]) as tf.Tensor3D);
}

/** Grad-CAM's raw map at `slot` through the method's context (its gradient memo released after). */
async function gradCamRaw(program: Program, values: tf.Tensor[], slot: number, classIndex: number, sign: 1 | -1 = 1): Promise<tf.Tensor> {
  const owned = createContext({ program, values, classIndex, sign, slot });
  try {
    return await gradcam.run(owned.ctx);
  } finally {
    owned.dispose();
  }
}

async function modelFor(kind: TestModelCase, roundTripped: boolean, options: Parameters<typeof buildTestModel>[1] = {}) {
  const built = buildTestModel(kind, options);
  return { ...built, model: roundTripped ? await roundTrip(built.model) : built.model };
}

describe.each([false, true])('executor (round trip: %s)', (roundTripped) => {
  describe.each(CASES)('case (%s)', (kind) => {
    it('runs the whole model as one flat program equal to predict', async () => {
      const { model, innerLayerPath, nestedModelPath } = await modelFor(kind, roundTripped);
      const program = compileProgram(model);
      expect(program.slotsByPath.has(innerLayerPath)).toBe(true);
      expect(program.slotsByPath.has(nestedModelPath)).toBe(true);
      for (const seed of [1, 2]) {
        const x = randomInput(seed);
        const ours = runOutput(program, x);
        const theirs = model.predict(x) as tf.Tensor;
        expect(ours.shape).toEqual(theirs.shape);
        expect(maxAbsDiff(ours, theirs)).toBeLessThanOrEqual(1e-5);
        tf.dispose([x, ours, theirs]);
      }
      // The symbolic graph is never touched per request.
      const inboundBefore = model.layers.map((l) => l.inboundNodes.length);
      const x = randomInput(3);
      tf.dispose([runOutput(program, x), x]);
      expect(model.layers.map((l) => l.inboundNodes.length)).toEqual(inboundBefore);
      model.dispose();
    });

    it('gives the gradient at an inner layer that matches central finite differences', async () => {
      const { model, innerLayerPath } = await modelFor(kind, roundTripped, { smooth: true });
      const program = compileProgram(model);
      const x = randomInput(11);
      const values = runForward(program, x);
      const slot = slotOf(program, innerLayerPath);
      const f = scoreFunction(program, values, slot, 1, { path: 'plain' });
      const grad = gradientAt(program, values, slot, 1, { path: 'fast' });
      const eps = 1e-2;
      for (const seed of [21, 22, 23]) {
        const [analytic, numeric] = tf.tidy(() => {
          const v = tf.randomNormal(values[slot].shape, 0, 1, 'float32', seed);
          const a = tf.sum(tf.mul(grad, v)).dataSync()[0];
          const plus = f(tf.add(values[slot], tf.mul(v, eps))).dataSync()[0];
          const minus = f(tf.sub(values[slot], tf.mul(v, eps))).dataSync()[0];
          return [a, (plus - minus) / (2 * eps)];
        });
        const relErr = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), 1e-6);
        expect(Math.abs(analytic)).toBeGreaterThan(1e-4); // a direction that says something
        expect(relErr).toBeLessThanOrEqual(1e-2);
      }
      tf.dispose([grad, ...values]);
      model.dispose();
    });

    it('computes the same gradients on the fast path as on the plain layer.apply path', async () => {
      const { model, innerLayerPath } = await modelFor(kind, roundTripped);
      const program = compileProgram(model);
      const x = randomInput(5);
      const values = runForward(program, x);
      for (const slot of [slotOf(program, innerLayerPath), program.inputSlot]) {
        const fast = gradientAt(program, values, slot, 2, { path: 'fast' });
        const plain = gradientAt(program, values, slot, 2, { path: 'plain' });
        const scale = tf.tidy(() => tf.max(tf.abs(plain)).dataSync()[0]);
        expect(scale).toBeGreaterThan(0);
        expect(maxAbsDiff(fast, plain)).toBeLessThanOrEqual(1e-4 * scale + 1e-7);
        tf.dispose([fast, plain]);
      }
      tf.dispose(values);
      model.dispose();
    });

    it('guided backprop passes no negative gradient through any ReLU and differs from the plain gradient', async () => {
      const { model, innerLayerPath } = await modelFor(kind, roundTripped);
      const program = compileProgram(model);
      const x = randomInput(9);
      const values = runForward(program, x);
      const reluSteps = program.steps.filter((s) => s.layer.getClassName() === 'ReLU');
      expect(reluSteps.length).toBeGreaterThan(0);
      let plainNegatives = 0;
      for (const step of reluSteps) {
        const pre = step.inputs[0];
        const post = step.outputs[0];
        const guidedPre = withGuidedGradients(() => gradientAt(program, values, pre, 0));
        const guidedPost = withGuidedGradients(() => gradientAt(program, values, post, 0));
        const plainPre = gradientAt(program, values, pre, 0);
        // No negative gradient comes out of a guided ReLU…
        expect(tf.tidy(() => tf.min(guidedPre).dataSync()[0])).toBeGreaterThanOrEqual(0);
        // …and it equals the reference rule: positive incoming gradient, positive input only.
        const maxValue = (step.layer as unknown as { maxValue?: number | null }).maxValue;
        const reference = tf.tidy(() => {
          const xPre = values[pre];
          const pass = maxValue == null ? tf.step(xPre) : tf.mul(tf.step(xPre), tf.lessEqual(xPre, maxValue).toFloat());
          return tf.mul(pass, tf.relu(guidedPost));
        });
        expect(maxAbsDiff(guidedPre, reference)).toBeLessThanOrEqual(1e-6);
        plainNegatives += tf.tidy(() => tf.sum(tf.less(plainPre, 0).toFloat()).dataSync()[0]);
        tf.dispose([guidedPre, guidedPost, plainPre, reference]);
      }
      expect(plainNegatives).toBeGreaterThan(0);
      // At the input, guided backprop is not the plain gradient.
      const guided = guidedBackprop(program, values, 0);
      const plain = gradientAt(program, values, program.inputSlot, 0);
      expect(maxAbsDiff(guided, plain.squeeze([0]))).toBeGreaterThan(1e-6);
      // The override is gone afterwards: the plain gradient is back.
      const again = gradientAt(program, values, program.inputSlot, 0);
      expect(maxAbsDiff(again, plain)).toBe(0);
      tf.dispose([guided, plain, again]);
      // Only the steps after the inner layer run under the tape.
      expect(downstreamSteps(program, slotOf(program, innerLayerPath)).length).toBeLessThan(program.steps.length);
      tf.dispose(values);
      model.dispose();
    });

    it('leaks no tensor per call', async () => {
      const { model, innerLayerPath } = await modelFor(kind, roundTripped);
      const program = compileProgram(model);
      const x = randomInput(4);
      const values = runForward(program, x);
      const slot = slotOf(program, innerLayerPath);
      // First calls may allocate kernels' one-off constants; measure from the second.
      tf.dispose([await gradCamRaw(program, values, slot, 0), guidedBackprop(program, values, 0), runOutput(program, x)]);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        const cam = await gradCamRaw(program, values, slot, i % 2, i === 2 ? -1 : 1);
        const guided = guidedBackprop(program, values, 1);
        const out = runOutput(program, x);
        tf.dispose([cam, guided, out]);
      }
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(values);
      model.dispose();
    });
  });
});

/** A dilated kernel written out with zeros between taps: the same convolution, and tfjs can differentiate it. */
function dilateKernel(kernel: tf.Tensor, rate: [number, number]): tf.Tensor4D {
  const [kh, kw, ci, co] = kernel.shape;
  const out = tf.buffer([kh + (kh - 1) * (rate[0] - 1), kw + (kw - 1) * (rate[1] - 1), ci, co]);
  const k = kernel.bufferSync();
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) out.set(k.get(i, j, c, o), i * rate[0], j * rate[1], c, o);
  return out.toTensor() as tf.Tensor4D;
}

/** layer.apply, except dilated convolutions (which tfjs cannot differentiate) go through an explicitly dilated kernel. */
function differentiableReference(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor {
  const l = layer as unknown as { dilationRate?: number | number[]; kernel?: tf.LayerVariable; depthwiseKernel?: tf.LayerVariable; pointwiseKernel?: tf.LayerVariable; bias?: tf.LayerVariable; padding: 'same' | 'valid'; activation: { apply(t: tf.Tensor): tf.Tensor } };
  const d = l.dilationRate;
  const rate: [number, number] = Array.isArray(d) ? [d[0], d[1] ?? d[0]] : [d ?? 1, d ?? 1];
  if (rate[0] === 1 && rate[1] === 1) return layer.apply(x, { training: false }) as tf.Tensor;
  let y = layer.getClassName() === 'Conv2D'
    ? tf.conv2d(x as tf.Tensor4D, dilateKernel(l.kernel!.read(), rate), 1, l.padding)
    : tf.separableConv2d(x as tf.Tensor4D, dilateKernel(l.depthwiseKernel!.read(), rate), l.pointwiseKernel!.read() as tf.Tensor4D, 1, l.padding);
  if (l.bias) y = tf.add(y, l.bias.read());
  return l.activation.apply(y);
}

describe('plain leaf calls equal layer.apply, outputs and input gradients', () => {
  const shapes: { name: string; layer: () => tf.layers.Layer; input: number[]; scale?: number }[] = [
    { name: 'conv2d stride 1 same linear', layer: () => tf.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same' }), input: [1, 9, 9, 4] },
    { name: 'conv2d stride 2 valid relu', layer: () => tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, activation: 'relu' }), input: [1, 10, 9, 4] },
    { name: 'conv2d dilated', layer: () => tf.layers.conv2d({ filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu6' }), input: [1, 11, 11, 2] },
    { name: 'conv2d dilated valid, odd size', layer: () => tf.layers.conv2d({ filters: 3, kernelSize: [3, 2], dilationRate: [2, 3], padding: 'valid' }), input: [1, 13, 12, 2] },
    { name: 'separable dilated same', layer: () => tf.layers.separableConv2d({ filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same', depthMultiplier: 2 }), input: [1, 9, 10, 3] },
    { name: 'depthwise stride 2 same', layer: () => tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2, useBias: true, biasInitializer: 'ones' }), input: [1, 8, 8, 3] },
    { name: 'separable', layer: () => tf.layers.separableConv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'elu' }), input: [1, 7, 7, 3] },
    { name: 'batch norm (inference)', layer: () => tf.layers.batchNormalization({ movingMeanInitializer: 'ones', movingVarianceInitializer: tf.initializers.constant({ value: 2 }), gammaInitializer: tf.initializers.constant({ value: 0.5 }), betaInitializer: 'ones' }), input: [1, 5, 5, 3] },
    { name: 'ReLU(maxValue 6)', layer: () => tf.layers.reLU({ maxValue: 6 }), input: [1, 4, 4, 2], scale: 5 },
    { name: 'dense softmax', layer: () => tf.layers.dense({ units: 6, activation: 'softmax', biasInitializer: 'ones' }), input: [2, 5] },
  ];
  it.each(shapes)('$name', ({ layer, input, scale: inputScale }) => {
    const l = layer();
    const x = tf.randomNormal(input, 0, inputScale ?? 1, 'float32', 3);
    const expected = l.apply(x) as tf.Tensor;
    const actual = plainLeafCall(l, x);
    expect(actual).not.toBeNull();
    expect(actual!.shape).toEqual(expected.shape);
    expect(maxAbsDiff(actual!, expected)).toBeLessThanOrEqual(1e-5);
    // The input gradient through plain ops equals tfjs's own (fused) gradient.
    const weights = tf.randomNormal(expected.shape, 0, 1, 'float32', 4);
    const viaPlain = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(plainLeafCall(l, v)!, weights)))(x);
    const viaLayer = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(differentiableReference(l, v), weights)))(x);
    const scale = tf.tidy(() => tf.max(tf.abs(viaLayer)).dataSync()[0]);
    expect(scale).toBeGreaterThan(0);
    expect(maxAbsDiff(viaPlain, viaLayer)).toBeLessThanOrEqual(1e-4 * scale);
    tf.dispose([x, expected, actual!, weights, viaPlain, viaLayer]);
    l.dispose();
  });
});

describe('gradient failures', () => {
  it('reports what tfjs cannot differentiate as GRADIENT_UNSUPPORTED (plain path through a dilated conv)', async () => {
    await tf.setBackend('cpu');
    const input = tf.input({ shape: [9, 9, 2] });
    const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, dilationRate: 2, padding: 'same', name: 'dilated' }).apply(input) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2 }).apply(tf.layers.globalAveragePooling2d({}).apply(conv) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const program = compileProgram(model);
    const values = runForward(program, tf.ones([1, 9, 9, 2]));
    expect(() => gradientAt(program, values, program.inputSlot, 0, { path: 'plain' })).toThrow(expect.objectContaining({ code: 'GRADIENT_UNSUPPORTED' }));
    // The fast path runs the dilated conv as space-to-batch + conv + batch-to-space, which tfjs can differentiate.
    const g = gradientAt(program, values, program.inputSlot, 0, { path: 'fast' });
    expect(g.shape).toEqual([1, 9, 9, 2]);
    tf.dispose([g, ...values]);
    model.dispose();
  });
});
