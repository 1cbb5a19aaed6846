/**
 * The flat executor on the WASM backend (what most machines without a GPU run): output equals
 * predict for the five nesting shapes, and Grad-CAM / guided backprop gradients equal the CPU backend's.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { buildTestModel, TEST_INPUT_SHAPE, type TestModelCase } from '../../test-support/test-models';
import { compileProgram } from './program';
import { runForward, runOutput } from './forward';
import { gradientAt } from './gradient';
import { withGuidedGradients } from './guided';
import { registerFastWasmGradients } from '../kernels/wasm-gradients';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastWasmGradients();
});

const CASES: TestModelCase[] = ['a', 'b', 'c', 'd', 'e'];

async function onBackend<T>(name: string, fn: () => T): Promise<T> {
  const previous = tf.getBackend();
  await tf.setBackend(name);
  try {
    return fn();
  } finally {
    await tf.setBackend(previous);
  }
}

describe.each(CASES)('WASM executor, case (%s)', (kind) => {
  it('equals predict', () => {
    expect(tf.getBackend()).toBe('wasm');
    const { model } = buildTestModel(kind);
    const program = compileProgram(model);
    const x = tf.randomUniform([1, ...TEST_INPUT_SHAPE], -1, 1, 'float32', 4);
    const ours = runOutput(program, x);
    const theirs = model.predict(x) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]).toBeLessThanOrEqual(1e-5);
    tf.dispose([x, ours, theirs]);
    model.dispose();
  });

  it('computes the same inner-layer and guided input gradients as the CPU backend', async () => {
    const { model, innerLayerPath } = buildTestModel(kind);
    const program = compileProgram(model);
    const slot = program.slotsByPath.get(innerLayerPath)!;
    const gradients = () => {
      const x = tf.randomUniform([1, ...TEST_INPUT_SHAPE], -1, 1, 'float32', 8);
      const values = runForward(program, x);
      const inner = gradientAt(program, values, slot, 1).dataSync().slice();
      const guided = withGuidedGradients(() => gradientAt(program, values, program.inputSlot, 1)).dataSync().slice();
      tf.dispose(values);
      return { inner, guided };
    };
    const wasm = gradients();
    const cpu = await onBackend('cpu', gradients);
    for (const key of ['inner', 'guided'] as const) {
      const scale = Math.max(...cpu[key].map(Math.abs));
      const diff = Math.max(...cpu[key].map((v, i) => Math.abs(v - wasm[key][i])));
      expect(scale).toBeGreaterThan(0);
      expect(diff).toBeLessThanOrEqual(1e-4 * scale);
    }
    model.dispose();
  });
});

describe('WASM gradient kernels and model lifetime', () => {
  it("a disposed model's flipped conv kernels are released with it", async () => {
    const { loadedModelFromLayersModel } = await import('../model');
    const { rearrangedFilterCount, clearRearrangedFilters } = await import('../kernels/wasm-gradients');
    const { testImage } = await import('../../test-support/test-models');
    clearRearrangedFilters();
    const loaded = await loadedModelFromLayersModel(buildTestModel('a').model);
    await loaded.explain(testImage(), { methods: ['guided-backprop'] });
    expect(rearrangedFilterCount()).toBeGreaterThan(0);
    loaded.dispose();
    expect(rearrangedFilterCount()).toBe(0);
  });
});
