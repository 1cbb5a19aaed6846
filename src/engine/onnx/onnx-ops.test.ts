/**
 * The ONNX ops Swin's export needs, against the spec's own semantics: Mod (fmod 0: the divisor's sign,
 * Python's %; fmod 1: the dividend's sign, C's fmod), integer Div (truncated toward zero), Slice with
 * negative steps (starts clamped to [0, dim − 1], ends to [−1, dim − 1], INT64 extremes), a Constant
 * holding INT64_MAX, and Dropout's rule (ratio 0 is the identity even in training mode, its mask output
 * all true; ratio > 0 in training mode is refused).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { StudioError } from '../../shared/errors';
import { onnxMod, onnxSlice, truncDiv } from './onnx-ops';
import { ONNX_DTYPE, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx-proto';
import { translateOnnx } from './onnx-translate';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

const values = (t: tf.Tensor) => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};

describe('Mod', () => {
  const a = [-4, 7, 5, 4, -7, 8, 0, -9];
  const b = [2, -3, 8, -2, 3, 5, 3, -4];
  it('fmod 0 on int64 takes the divisor\'s sign (numpy.mod, the ONNX mixed-sign case)', () => {
    // numpy.mod([-4, 7, 5, 4, -7, 8, 0, -9], [2, -3, 8, -2, 3, 5, 3, -4])
    expect(values(onnxMod(tf.tensor1d(a, 'int32'), tf.tensor1d(b, 'int32'), false))).toEqual([0, -2, 5, 0, 2, 3, 0, -1]);
  });
  it('fmod 1 on int64 takes the dividend\'s sign (numpy.fmod)', () => {
    expect(values(onnxMod(tf.tensor1d(a, 'int32'), tf.tensor1d(b, 'int32'), true))).toEqual([0, 1, 5, 0, -1, 3, 0, -1]);
  });
  it('fmod 1 on floats (numpy.fmod), broadcast against a scalar', () => {
    const got = values(onnxMod(tf.tensor1d([-4.3, 7.2, 5.0, 4.3, -7.2, 8.0]), tf.tensor1d([2.1, -3.4, 8.0, -2.1, 3.4, 5.0]), true));
    [-0.1, 0.4, 5.0, 0.1, -0.4, 3.0].forEach((e, i) => expect(got[i]).toBeCloseTo(e, 5));
    expect(values(onnxMod(tf.tensor1d([-5, 5], 'int32'), tf.scalar(3, 'int32'), false))).toEqual([1, 2]);
  });
});

describe('integer Div', () => {
  it('truncates toward zero as ONNX (C) does, where tf.div on int32 floors', () => {
    expect(values(truncDiv(tf.tensor1d([7, -7, 7, -7, 6, -6, 97], 'int32'), tf.tensor1d([2, 2, -2, -2, 3, 3, 3], 'int32')))).toEqual([3, -3, -3, 3, 2, -2, 32]);
  });
});

describe('Slice', () => {
  const x = () => tf.tensor2d([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]);
  const INT32_MIN = -2147483648;
  const INT32_MAX = 2147483647;
  it('step −1 from the end to INT64_MIN reverses the axis', () => {
    expect(values(onnxSlice(x(), [-1], [INT32_MIN], [1], [-1]))).toEqual([4, 3, 2, 1, 0, 9, 8, 7, 6, 5]);
  });
  it('step −1 with starts past the end clamped to dim − 1 (the ONNX test_slice_neg_steps rule)', () => {
    expect(values(onnxSlice(x(), [INT32_MAX], [1], [1], [-1]))).toEqual([4, 3, 2, 9, 8, 7]);
  });
  it('step −2, and a negative step on two axes', () => {
    expect(values(onnxSlice(x(), [4], [-6], [1], [-2]))).toEqual([4, 2, 0, 9, 7, 5]);
    expect(values(onnxSlice(x(), [-1, 3], [INT32_MIN, 0], [0, 1], [-1, -1]))).toEqual([8, 7, 6, 3, 2, 1]);
  });
  it('an empty range gives an empty axis', () => {
    const t = onnxSlice(x(), [1], [3], [1], [-1]);
    expect(t.shape).toEqual([2, 0]);
    t.dispose();
  });
  it('steps > 1 (Swin\'s patch merging, x[:, 0::2] and x[:, 1::2]) with a gradient', () => {
    expect(values(onnxSlice(x(), [0], [INT32_MAX], [1], [2]))).toEqual([0, 2, 4, 5, 7, 9]);
    expect(values(onnxSlice(x(), [1], [INT32_MAX], [1], [2]))).toEqual([1, 3, 6, 8]);
    expect(values(onnxSlice(x(), [1, 0], [2, 5], [0, 1], [1, 3]))).toEqual([5, 8]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(onnxSlice(v, [1], [INT32_MAX], [1], [2]), tf.tensor2d([[1, 2], [3, 4]]))))(x());
    expect(values(g)).toEqual([0, 1, 0, 2, 0, 0, 3, 0, 4, 0]);
  });
  it('keeps a gradient through a negative step', () => {
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(onnxSlice(v, [-1], [INT32_MIN], [1], [-1]), tf.tensor2d([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]))))(x());
    expect(values(g)).toEqual([5, 4, 3, 2, 1, 10, 9, 8, 7, 6]);
  });
});

const int64 = (name: string, data: number[]): OnnxTensor => ({ name, dims: [data.length], dataType: ONNX_DTYPE.INT64, data: Float64Array.from(data) });
const node = (opType: string, inputs: string[], outputs: string[], attrs: OnnxNode['attrs'] = {}): OnnxNode => ({ name: `/${opType}_${outputs[0]}`, opType, domain: '', inputs, outputs, attrs });

function model(nodes: OnnxNode[], initializers: OnnxTensor[], opset = 17): OnnxModel {
  return {
    irVersion: 8, opset, producer: 'test', nodes,
    initializers: new Map(initializers.map((t) => [t.name, t])),
    inputs: [{ name: 'x', elemType: ONNX_DTYPE.FLOAT, shape: [2, 5] }],
    outputs: [{ name: 'y', elemType: ONNX_DTYPE.FLOAT, shape: null }],
  };
}

function translate(m: OnnxModel) {
  return translateOnnx(m, { name: 'x', nhwcShape: [2, 5], nchw: false, rank: 2 });
}

describe('translation rules', () => {
  it('Dropout with ratio 0 in training mode is the identity; ratio 0.5 in training mode is refused', () => {
    const ratio = (r: number): OnnxTensor => ({ name: 'ratio', dims: [], dataType: ONNX_DTYPE.FLOAT, data: Float32Array.from([r]) });
    const training: OnnxTensor = { name: 'training', dims: [], dataType: ONNX_DTYPE.BOOL, data: Float32Array.from([1]) };
    const dropout = [node('Dropout', ['x', 'ratio', 'training'], ['y'])];
    const t = translate(model(dropout, [ratio(0), training]));
    expect(t.def.outputs).toEqual([t.def.input.name]);
    tf.dispose(t.owned);
    // With the mask output (Swin's export names it, nothing reads it): the identity still, the mask all true.
    const masked = translate(model([node('Dropout', ['x', 'ratio', 'training'], ['y', 'mask'])], [ratio(0), training]));
    expect(masked.def.outputs).toEqual([masked.def.input.name]);
    tf.dispose(masked.owned);
    let error: unknown = null;
    try {
      tf.dispose(translate(model(dropout, [ratio(0.5), training])).owned);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).code).toBe('ONNX_OP_UNSUPPORTED');
    expect((error as StudioError).message).toContain('training mode');
  });

  it('a Constant holding INT64_MAX ends a Slice of a Shape at the end (not at 0): the folded Reshape target is the full shape', () => {
    // Shape(x) → Slice(…, 0, INT64_MAX) → Mod(…, 3) → Reshape(x, Concat(Div(shape, 1))): a shape chain as Swin's.
    // INT64_MAX as the decoder gives it: a double, 2^63.
    const maxConst: OnnxNode = { ...node('Constant', [], ['end']), attrs: { value: { name: 'v', dims: [1], dataType: ONNX_DTYPE.INT64, data: Float64Array.from([2 ** 63]) } } };
    const nodes = [
      node('Shape', ['x'], ['s']),
      maxConst,
      node('Slice', ['s', 'zero', 'end'], ['full']),
      node('Mod', ['full', 'three'], ['rem']),
      node('Div', ['full', 'one'], ['same']),
      node('Reshape', ['x', 'same'], ['y']),
    ];
    const t = translate(model(nodes, [int64('zero', [0]), int64('one', [1]), int64('three', [3])]));
    expect(t.def.nodes.find((n) => n.op.startsWith('OnnxReshape'))).toBeDefined();
    tf.dispose(t.owned);
  });
});
