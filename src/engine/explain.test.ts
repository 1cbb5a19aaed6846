import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { visualiseGradient } from './explain';
import { withGuidedGradients } from './executor/guided';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const x = () => tf.tensor1d([-2, -0.5, 0.5, 3, 7]);
const w = () => tf.tensor1d([1, -1, -1, 2, 1]);

function gradOf(f: (v: tf.Tensor) => tf.Tensor): number[] {
  // + 0 turns -0 into 0 so that toEqual compares values.
  return Array.from(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v), w())))(x()).dataSync(), (g) => +g.toFixed(6) + 0);
}

describe('guided gradients', () => {
  it('pass only positive gradients at positive inputs for Relu, Relu6 and LeakyRelu', () => {
    expect(withGuidedGradients(() => gradOf((v) => tf.relu(v)))).toEqual([0, 0, 0, 2, 1]);
    expect(withGuidedGradients(() => gradOf((v) => tf.relu6(v)))).toEqual([0, 0, 0, 2, 0]);
    const leaky = withGuidedGradients(() => gradOf((v) => tf.leakyRelu(v, 0.1)));
    expect(leaky).toEqual([0.1, 0, 0, 2, 1]);
    // Plain gradients are back afterwards.
    expect(gradOf((v) => tf.relu(v))).toEqual([0, 0, -1, 2, 1]);
    expect(gradOf((v) => tf.leakyRelu(v, 0.1))).toEqual([0.1, -0.1, -1, 2, 1]);
  });

  it('restores the original gradients when the computation throws, without console noise', () => {
    const warn = vi.spyOn(console, 'warn');
    expect(() => withGuidedGradients(() => {
      throw new Error('boom');
    })).toThrow('boom');
    expect(gradOf((v) => tf.relu(v))).toEqual([0, 0, -1, 2, 1]);
    withGuidedGradients(() => gradOf((v) => tf.relu(v)));
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it('visualises gradients to [0, 1] around 0.5 and repeats grey to RGB', () => {
    const g = tf.tensor3d([[[1], [-1]], [[3], [-3]]]);
    const vis = visualiseGradient(g);
    expect(vis.shape).toEqual([2, 2, 3]);
    const d = Array.from(vis.dataSync());
    expect(Math.min(...d)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...d)).toBeLessThanOrEqual(1);
    expect(d[0]).toBeGreaterThan(0.5);
    expect(d[3]).toBeLessThan(0.5);
    expect(d[0]).toBe(d[1]);
  });
});
