import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { clearRearrangedFilters, fastWasmGradientsRegistered, RELU_GRAD, rearrangedFilterCount, registerFastWasmGradients } from './wasm-gradients';
import { seededRandom } from '../../shared/random';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/** Uniform in [-1, 1) from the seeded generator, so failures are reproducible. */
function randomArray(size: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: size }, () => random() * 2 - 1);
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Runs one kernel on a backend with plain arrays in, plain array out. */
async function runKernelOn(
  backend: string,
  kernelName: string,
  inputs: Record<string, { shape: number[]; values: Float32Array }>,
  attrs: Record<string, unknown>,
): Promise<{ shape: number[]; values: Float32Array }> {
  await tf.setBackend(backend);
  const tensors = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.values, v.shape)]));
  const out = tf.engine().runKernel(kernelName, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { shape: out.shape, values: (await out.data()) as Float32Array };
  tf.dispose([out, ...Object.values(tensors)]);
  return result;
}

/** max |a − b| / max(1, max |b|): the relative error the issue asks for (≤ 1e-4). */
function relativeError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    maxRef = Math.max(maxRef, Math.abs(b[i]!));
  }
  return maxDiff / Math.max(1, maxRef);
}

interface ConvCase {
  name: string;
  x: Shape4;
  filter: Shape4;
  strides: number | [number, number];
  pad: Pad;
  dilations?: number;
}

function outShape(c: ConvCase, depthwise: boolean): Shape4 {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, c.dilations ?? 1, c.pad, undefined, depthwise);
  return info.outShape as Shape4;
}

const CONV_CASES: ConvCase[] = [
  { name: 'stride 1 same 3×3 odd size', x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { name: 'stride 1 valid 3×3', x: [1, 8, 8, 4], filter: [3, 3, 4, 5], strides: 1, pad: 'valid' },
  { name: 'stride 2 same 3×3 even size', x: [2, 8, 10, 3], filter: [3, 3, 3, 6], strides: 2, pad: 'same' },
  { name: 'stride 2 same 3×3 odd size', x: [1, 9, 7, 2], filter: [3, 3, 2, 3], strides: 2, pad: 'same' },
  { name: 'stride 2 valid 3×3 odd size (leftover row)', x: [2, 10, 9, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'valid' },
  { name: 'stride 2 valid 2×2 kernel', x: [1, 8, 8, 3], filter: [2, 2, 3, 4], strides: 2, pad: 'valid' },
  { name: 'stride 2 same 1×1 kernel', x: [1, 7, 8, 5], filter: [1, 1, 5, 6], strides: 2, pad: 'same' },
  { name: 'stride 1 same 5×4 kernel', x: [1, 6, 7, 2], filter: [5, 4, 2, 3], strides: 1, pad: 'same' },
  { name: 'stride 2 explicit padding', x: [1, 9, 9, 2], filter: [3, 3, 2, 3], strides: 2, pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
  { name: 'stride 2 same 7×7 from 3 channels (ResNet stem)', x: [1, 16, 15, 3], filter: [7, 7, 3, 8], strides: 2, pad: 'same' },
  { name: 'stride 2 valid 1×1 odd size (projection shortcut)', x: [2, 9, 7, 6], filter: [1, 1, 6, 5], strides: 2, pad: 'valid' },
  { name: 'stride 2 same 2×2 kernel odd size', x: [1, 9, 9, 3], filter: [2, 2, 3, 4], strides: 2, pad: 'same' },
  { name: 'stride 3 same 3×3', x: [1, 10, 11, 2], filter: [3, 3, 2, 3], strides: 3, pad: 'same' },
  { name: 'stride 3 valid 5×4 kernel', x: [2, 13, 12, 2], filter: [5, 4, 2, 3], strides: 3, pad: 'valid' },
  { name: 'strides 2×1 same 3×3', x: [1, 8, 7, 3], filter: [3, 3, 3, 4], strides: [2, 1], pad: 'same' },
  { name: 'strides 1×2 valid 3×2', x: [1, 7, 9, 2], filter: [3, 2, 2, 3], strides: [1, 2], pad: 'valid' },
];

const DEPTHWISE_CASES: ConvCase[] = [
  { name: 'stride 1 same 3×3', x: [2, 7, 9, 4], filter: [3, 3, 4, 1], strides: 1, pad: 'same' },
  { name: 'stride 1 valid 3×3 multiplier 2', x: [1, 8, 7, 3], filter: [3, 3, 3, 2], strides: 1, pad: 'valid' },
  { name: 'stride 2 same 3×3 even size', x: [2, 8, 8, 5], filter: [3, 3, 5, 1], strides: 2, pad: 'same' },
  { name: 'stride 2 valid 3×3 odd size multiplier 3', x: [2, 9, 11, 2], filter: [3, 3, 2, 3], strides: 2, pad: 'valid' },
  { name: 'stride 2 same 5×5', x: [1, 11, 10, 3], filter: [5, 5, 3, 1], strides: 2, pad: 'same' },
  { name: 'stride 2 same 1×1 multiplier 2', x: [2, 7, 8, 3], filter: [1, 1, 3, 2], strides: 2, pad: 'same' },
  { name: 'stride 3 valid 3×3 multiplier 2', x: [1, 11, 10, 2], filter: [3, 3, 2, 2], strides: 3, pad: 'valid' },
  { name: 'strides 2×1 same 3×3', x: [1, 9, 8, 4], filter: [3, 3, 4, 1], strides: [2, 1], pad: 'same' },
  { name: 'dilation 2 same 3×3', x: [1, 9, 10, 3], filter: [3, 3, 3, 1], strides: 1, pad: 'same', dilations: 2 },
  { name: 'dilation 2 valid 3×3 multiplier 2', x: [2, 10, 9, 2], filter: [3, 3, 2, 2], strides: 1, pad: 'valid', dilations: 2 },
];

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerFastWasmGradients();
});

describe('registerFastWasmGradients', () => {
  it('registers the four kernels for wasm and is idempotent', () => {
    registerFastWasmGradients();
    registerFastWasmGradients();
    expect(fastWasmGradientsRegistered()).toBe(true);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    expect(tf.getKernel('DepthwiseConv2dNativeBackpropInput', 'wasm')).toBeDefined();
    // The CPU backend keeps its own kernels.
    expect(tf.getKernel('Conv2DBackpropInput', 'cpu')?.kernelFunc).not.toBe(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc);
  });
});

describe('Conv2D gradient kernels equal the CPU backend', () => {
  for (const c of CONV_CASES) {
    it(`Conv2DBackpropInput: ${c.name}`, async () => {
      const dyShape = outShape(c, false);
      const inputs = {
        dy: { shape: dyShape, values: randomArray(size(dyShape), 1) },
        filter: { shape: c.filter, values: randomArray(size(c.filter), 2) },
      };
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x };
      const cpu = await runKernelOn('cpu', 'Conv2DBackpropInput', inputs, attrs);
      const wasm = await runKernelOn('wasm', 'Conv2DBackpropInput', inputs, attrs);
      expect(wasm.shape).toEqual(c.x);
      expect(relativeError(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-4);
    });
    it(`Conv2DBackpropFilter: ${c.name}`, async () => {
      const dyShape = outShape(c, false);
      const inputs = {
        x: { shape: c.x, values: randomArray(size(c.x), 3) },
        dy: { shape: dyShape, values: randomArray(size(dyShape), 4) },
      };
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter };
      const cpu = await runKernelOn('cpu', 'Conv2DBackpropFilter', inputs, attrs);
      const wasm = await runKernelOn('wasm', 'Conv2DBackpropFilter', inputs, attrs);
      expect(wasm.shape).toEqual(c.filter);
      expect(relativeError(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-4);
    });
  }

  // tfjs has no dilated Conv2D backprop on any backend; our kernels honour a `dilations` attribute,
  // checked against the CPU result for the same conv written with an explicitly dilated kernel.
  it('dilated Conv2DBackpropInput equals the undilated gradient of the zero-inserted kernel', async () => {
    const c: ConvCase = { name: 'dilated', x: [1, 9, 8, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same', dilations: 2 };
    const dilatedFilter: Shape4 = [5, 5, 3, 4];
    const filterValues = randomArray(size(c.filter), 5);
    const dyShape = outShape(c, false);
    const dy = { shape: dyShape, values: randomArray(size(dyShape), 6) };
    const wasm = await runKernelOn('wasm', 'Conv2DBackpropInput', { dy, filter: { shape: c.filter, values: filterValues } },
      { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: c.x, dilations: 2 });
    const cpu = await runKernelOn('cpu', 'Conv2DBackpropInput', { dy, filter: { shape: dilatedFilter, values: zeroInsertKernel(filterValues, c.filter, 2) } },
      { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: c.x });
    expect(relativeError(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-4);
  });

  it('dilated Conv2DBackpropFilter equals the dilated taps of the zero-inserted kernel gradient', async () => {
    const c: ConvCase = { name: 'dilated', x: [2, 9, 10, 3], filter: [3, 3, 3, 2], strides: 1, pad: 'valid', dilations: 2 };
    const dyShape = outShape(c, false);
    const inputs = { x: { shape: c.x, values: randomArray(size(c.x), 7) }, dy: { shape: dyShape, values: randomArray(size(dyShape), 8) } };
    const wasm = await runKernelOn('wasm', 'Conv2DBackpropFilter', inputs, { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: c.filter, dilations: 2 });
    const full = await runKernelOn('cpu', 'Conv2DBackpropFilter', inputs, { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [5, 5, 3, 2] });
    expect(relativeError(wasm.values, dilatedTaps(full.values, c.filter, 2))).toBeLessThanOrEqual(1e-4);
  });
});

function zeroInsertKernel(values: Float32Array, [kh, kw, ci, co]: Shape4, d: number): Float32Array {
  const ekw = (kw - 1) * d + 1;
  const ekh = (kh - 1) * d + 1;
  const out = new Float32Array(ekh * ekw * ci * co);
  const depth = ci * co;
  for (let p = 0; p < kh; p++) for (let q = 0; q < kw; q++) for (let k = 0; k < depth; k++) {
    out[(p * d * ekw + q * d) * depth + k] = values[(p * kw + q) * depth + k]!;
  }
  return out;
}

/** The dilated kernel's taps inside the gradient of its zero-inserted (undilated) equivalent. */
function dilatedTaps(full: Float32Array, [kh, kw, ci, co]: Shape4, d: number): Float32Array {
  const ekw = (kw - 1) * d + 1;
  const depth = ci * co;
  const taps = new Float32Array(kh * kw * depth);
  for (let p = 0; p < kh; p++) for (let q = 0; q < kw; q++) for (let k = 0; k < depth; k++) {
    taps[(p * kw + q) * depth + k] = full[(p * d * ekw + q * d) * depth + k]!;
  }
  return taps;
}

describe('Depthwise gradient kernels equal the CPU backend', () => {
  for (const c of DEPTHWISE_CASES) {
    // The CPU backend's depthwise backprop kernels ignore dilations, so dilated cases are compared
    // with the CPU result for the same conv written with an explicitly zero-inserted kernel.
    const d = c.dilations ?? 1;
    const [kh, kw, ci, m] = c.filter;
    const referenceFilter: Shape4 = [(kh - 1) * d + 1, (kw - 1) * d + 1, ci, m];
    it(`DepthwiseConv2dNativeBackpropInput: ${c.name}`, async () => {
      const dyShape = outShape(c, true);
      const dy = { shape: dyShape, values: randomArray(size(dyShape), 11) };
      const filterValues = randomArray(size(c.filter), 12);
      const wasm = await runKernelOn('wasm', 'DepthwiseConv2dNativeBackpropInput', { dy, filter: { shape: c.filter, values: filterValues } },
        { strides: c.strides, pad: c.pad, dilations: d, inputShape: c.x });
      const cpu = await runKernelOn('cpu', 'DepthwiseConv2dNativeBackpropInput',
        { dy, filter: { shape: referenceFilter, values: zeroInsertKernel(filterValues, c.filter, d) } },
        { strides: c.strides, pad: c.pad, dilations: 1, inputShape: c.x });
      expect(wasm.shape).toEqual(c.x);
      expect(relativeError(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-4);
    });
    it(`DepthwiseConv2dNativeBackpropFilter: ${c.name}`, async () => {
      const dyShape = outShape(c, true);
      const inputs = {
        x: { shape: c.x, values: randomArray(size(c.x), 13) },
        dy: { shape: dyShape, values: randomArray(size(dyShape), 14) },
      };
      const wasm = await runKernelOn('wasm', 'DepthwiseConv2dNativeBackpropFilter', inputs,
        { strides: c.strides, pad: c.pad, dilations: d, filterShape: c.filter });
      const cpu = await runKernelOn('cpu', 'DepthwiseConv2dNativeBackpropFilter', inputs,
        { strides: c.strides, pad: c.pad, dilations: 1, filterShape: referenceFilter });
      expect(wasm.shape).toEqual(c.filter);
      expect(relativeError(wasm.values, dilatedTaps(cpu.values, c.filter, d))).toBeLessThanOrEqual(1e-4);
    });
  }
});

describe('UnsortedSegmentSum (gather\'s gradient) equals the CPU backend', () => {
  it('sums rows by segment id, repeated ids included', async () => {
    const x = randomArray(6 * 4 * 3, 31);
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const values = tf.tensor3d(x, [6, 4, 3]);
      const ids = tf.tensor1d([2, 0, 2, 4, 1, 2], 'int32');
      const out = tf.unsortedSegmentSum(values, ids, 5);
      const result = { shape: out.shape, values: (await out.data()) as Float32Array };
      tf.dispose([values, ids, out]);
      return result;
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    expect(wasm.shape).toEqual([5, 4, 3]);
    expect(relativeError(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-6);
  });
});

describe('pooling gradients equal the CPU backend on signed inputs', () => {
  const cases: Array<{ name: string; x: Shape4; size: number; strides: number; pad: 'same' | 'valid' }> = [
    { name: '2×2 stride 2 valid', x: [2, 8, 9, 3], size: 2, strides: 2, pad: 'valid' },
    { name: '3×3 stride 2 same (overlapping)', x: [1, 9, 8, 4], size: 3, strides: 2, pad: 'same' },
    { name: '3×3 stride 1 same', x: [1, 6, 7, 2], size: 3, strides: 1, pad: 'same' },
  ];
  for (const kind of ['MaxPool', 'AvgPool'] as const) {
    for (const c of cases) {
      it(`${kind}Grad: ${c.name}`, async () => {
        const x = randomArray(size(c.x), 41);
        const run = async (backend: string) => {
          await tf.setBackend(backend);
          const input = tf.tensor4d(x, c.x);
          const pool = (t: tf.Tensor4D) => kind === 'MaxPool' ? tf.maxPool(t, c.size, c.strides, c.pad) : tf.avgPool(t, c.size, c.strides, c.pad);
          const weights = tf.tensor(randomArray(size(pool(input).shape), 42), pool(input).shape);
          const g = tf.grad((t: tf.Tensor) => pool(t as tf.Tensor4D).mul(weights).sum())(input);
          const values = (await g.data()) as Float32Array;
          tf.dispose([input, weights, g]);
          return values;
        };
        const cpu = await run('cpu');
        const wasm = await run('wasm');
        expect(relativeError(wasm, cpu)).toBeLessThanOrEqual(1e-6);
      });
    }
  }
});

/** A small net with every gradient path a classifier uses: fused conv + bias + relu, strided and depthwise convs, pooling, batch norm. */
function buildNet(): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3] });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), biasInitializer: tf.initializers.randomNormal({ seed: 2, stddev: 0.1 }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 3 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2, depthwiseInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'valid', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

async function gradientsOn(backend: string, image: Float32Array): Promise<{ input: Float32Array; weights: Float32Array[] }> {
  await tf.setBackend(backend);
  const model = buildNet();
  const x = tf.tensor4d(image, [1, 16, 16, 3]);
  const inputGrad = tf.grad((inp: tf.Tensor) => (model.apply(inp) as tf.Tensor).gather([1], 1).sum())(x);
  const { grads } = tf.variableGrads(() => (model.apply(x) as tf.Tensor).gather([2], 1).sum() as tf.Scalar, model.trainableWeights.map((w) => w.read() as tf.Variable));
  const weights = await Promise.all(Object.values(grads).map((g) => g.data() as Promise<Float32Array>));
  const input = (await inputGrad.data()) as Float32Array;
  tf.dispose([x, inputGrad, ...Object.values(grads)]);
  model.dispose();
  return { input, weights };
}

describe('tf.grad through a small conv net', () => {
  it('equals the CPU backend for the input and every weight', async () => {
    const image = randomArray(16 * 16 * 3, 21);
    const cpu = await gradientsOn('cpu', image);
    const wasm = await gradientsOn('wasm', image);
    expect(Math.max(...cpu.input.map(Math.abs))).toBeGreaterThan(0);
    expect(relativeError(wasm.input, cpu.input)).toBeLessThanOrEqual(1e-4);
    expect(wasm.weights.length).toBe(cpu.weights.length);
    wasm.weights.forEach((w, i) => expect(relativeError(w, cpu.weights[i]!)).toBeLessThanOrEqual(1e-4));
  });

  it('leaks no tensors and no backend data', async () => {
    await tf.setBackend('wasm');
    const model = buildNet();
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 9);
    const step = () => {
      const g = tf.grad((inp: tf.Tensor) => (model.apply(inp) as tf.Tensor).sum())(x);
      const { grads, value } = tf.variableGrads(() => (model.apply(x) as tf.Tensor).sum() as tf.Scalar);
      tf.dispose([g, value, ...Object.values(grads)]);
    };
    step(); // warm-up: lazily created weights and caches
    const tensorsBefore = tf.memory().numTensors;
    const dataBefore = tf.engine().backend.numDataIds();
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(tf.engine().backend.numDataIds()).toBe(dataBefore);
    x.dispose();
    model.dispose();
  });
});

describe('rearranged-filter cache (one XNNPACK operator per layer, not per call)', () => {
  it('reuses the flipped filter while the filter lives, gives equal results, and frees it after the filter goes', async () => {
    await tf.setBackend('wasm');
    clearRearrangedFilters();
    const filter = tf.tensor(randomArray(3 * 3 * 8 * 16, 11), [3, 3, 8, 16]);
    const dy = tf.tensor(randomArray(12 * 12 * 16, 12), [1, 12, 12, 16]);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [1, 12, 12, 8] } as unknown as tf.NamedAttrMap;
    const first = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs) as tf.Tensor;
    expect(rearrangedFilterCount()).toBe(1);
    const dataAfterFirst = tf.engine().backend.numDataIds();
    const second = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs) as tf.Tensor;
    expect(rearrangedFilterCount()).toBe(1);
    expect(tf.engine().backend.numDataIds()).toBe(dataAfterFirst + 1); // only the new output
    expect(relativeError((await second.data()) as Float32Array, (await first.data()) as Float32Array)).toBe(0);
    const cpu = await runKernelOn('cpu', 'Conv2DBackpropInput', { dy: { shape: dy.shape, values: (await dy.data()) as Float32Array }, filter: { shape: filter.shape, values: (await filter.data()) as Float32Array } }, attrs);
    await tf.setBackend('wasm');
    expect(relativeError((await second.data()) as Float32Array, cpu.values)).toBeLessThanOrEqual(1e-4);
    tf.dispose([first, second, filter]);
    // Freed filters are swept within 64 calls.
    const other = tf.tensor(randomArray(3 * 3 * 8 * 16, 13), [3, 3, 8, 16]);
    for (let i = 0; i < 64; i++) tf.dispose(tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: other }, attrs) as tf.Tensor);
    expect(rearrangedFilterCount()).toBe(1);
    tf.dispose([other, dy]);
    clearRearrangedFilters();
    expect(rearrangedFilterCount()).toBe(0);
  });
});

describe('fused ReLU-family gradient kernel, guided and plain', () => {
  const shape = [1, 9, 9, 5];
  // Values spread over [-9, 9] so every region (≤ 0, (0, 6], > 6) is hit, with exact 0, −0, 6 and
  // subnormals too (the kernel compares float bits as integers).
  const special = (i: number, v: number) => (i % 17 === 0 ? 0 : i % 19 === 0 ? 6 : i % 23 === 0 ? -0 : i % 29 === 0 ? 1e-40 : i % 31 === 0 ? -1e-40 : v);
  const x = randomArray(size(shape), 21).map((v, i) => special(i, v * 9));
  const dy = randomArray(size(shape), 22).map((v, i) => special(i + 3, v));
  const reference = (activation: 'relu' | 'relu6' | 'leaky', guided: boolean): Float32Array =>
    tf.tidy(() => {
      const xt = tf.tensor(x, shape);
      const g = guided ? tf.relu(tf.tensor(dy, shape)) : tf.tensor(dy, shape);
      const mask = activation === 'relu' ? tf.step(xt) : activation === 'relu6' ? tf.mul(tf.lessEqual(xt, 6).toFloat(), tf.step(xt)) : tf.step(xt, 0.3);
      return tf.mul(g, mask).dataSync() as Float32Array;
    });
  for (const guided of [true, false]) {
    for (const [activation, cap, alpha] of [['relu', null, 0], ['relu6', 6, 0], ['leaky', null, 0.3]] as const) {
      it(`equals ${guided ? 'relu(dy)' : 'dy'} · f'(x) for ${activation}`, async () => {
        await tf.setBackend('cpu');
        const expected = reference(activation, guided);
        const out = await runKernelOn('wasm', RELU_GRAD, { dy: { shape, values: dy }, x: { shape, values: x } }, { cap, alpha, guided });
        expect(out.shape).toEqual(shape);
        expect(relativeError(out.values, expected)).toBeLessThanOrEqual(1e-6);
      });
    }
  }
});
