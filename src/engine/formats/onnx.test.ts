/**
 * The ONNX reader end to end: a PyTorch export opened from files (tree, default, labels,
 * preprocessing, every method), small hand-made models checked against a plain NCHW loop written
 * here (asymmetric pads, ceil_mode, a VGG-style Flatten of a 4-D map), and each bad input's code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadModel } from '../model';
import { fromBytes, type InputFile, type RawImage } from '../files';
import { flattenTree } from '../tree';
import { runForward } from '../executor/forward';
import { registerFastWasmGradients } from '../kernels/wasm-gradients';
import { expectCode } from '../../test-support/expect-code';
import { encodeOnnx, seeded, type ModelSpec } from '../node/onnx-builder';
import { decodeOnnxModel } from '../onnx/onnx-proto';
import { buildOnnxProgram } from '../onnx/load-onnx';
import { METHODS } from '../../shared/methods';
import { zipSync } from 'fflate';
import { classifyFiles } from './index';

const RESNET = resolve(process.cwd(), 'test-fixtures/onnx/resnet18-op17.onnx');
const LABELS = Array.from({ length: 10 }, (_, i) => `class ${i}`);

function file(path: string, bytes: Uint8Array): InputFile {
  return fromBytes(path.split('/').pop()!, bytes, path);
}

function gradientImage(size: number): RawImage {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) data.set([(x * 255) / size, (y * 255) / size, ((x + y) * 127) / size, 255], (y * size + x) * 4);
  }
  return { width: size, height: size, data };
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastWasmGradients();
});

describe.skipIf(!existsSync(RESNET))('a PyTorch resnet18 export opened from files', () => {
  it('opens with the module tree, PyTorch shapes, labels, torchvision preprocessing and layer4.1 as default', async () => {
    const lm = await loadModel([file('m/resnet18-op17.onnx', new Uint8Array(readFileSync(RESNET))), file('m/synset.txt', new TextEncoder().encode(LABELS.map((l, i) => `n0000000${i} ${l}`).join('\n')))]);
    try {
      const s = lm.summary;
      expect(s.format).toBe('onnx');
      expect(s.imageSize).toEqual([112, 112, 3]);
      expect(s.labels).toEqual(LABELS);
      expect(s.preprocess).toMatchObject({ normalization: 'imagenet', resize: 'center-crop' });
      const nodes = flattenTree(s.tree);
      const block = nodes.find((n) => n.path === 'resnet18-op17/layer4/layer4.1');
      expect(block).toMatchObject({ className: 'Module', explainable: true, outputShape: [null, 4, 4, 64], displayShape: [1, 64, 4, 4] });
      expect(block!.children!.map((c) => c.name)).toEqual(['conv1', 'relu', 'conv2', 'Add', 'relu_1']);
      expect(nodes.find((n) => n.path === 'resnet18-op17/layer4/layer4.1/conv2')?.className).toBe('Conv');
      expect(s.defaultLayerPath).toBe('resnet18-op17/layer4/layer4.1');

      const image = gradientImage(160);
      const atLayer3 = await lm.explain(image, { methods: ['gradcam'], layerPath: 'resnet18-op17/layer3' });
      expect(atLayer3.layerPaths).toEqual(['resnet18-op17/layer3']);
      const cam = atLayer3.maps.gradcam;
      expect(cam?.kind === 'heatmap' ? [cam.map.height, cam.map.width] : null).toEqual([7, 7]);
    } finally {
      lm.dispose();
    }
  });

  it('runs every registry method at the default layer and frees what it made', async () => {
    const before = tf.memory().numTensors;
    const lm = await loadModel([file('resnet18-op17.onnx', new Uint8Array(readFileSync(RESNET)))]);
    const ids = METHODS.filter((m) => !m.requires).map((m) => m.id); // attention methods: a transformer's
    // Small settings for the costly ones (their own tests check them in full): this checks that each runs here and frees what it made.
    const options: Record<string, Record<string, number>> = {
      'integrated-gradients': { steps: 4 }, smoothgrad: { samples: 2 }, 'smoothgrad-sq': { samples: 2 }, vargrad: { samples: 2 }, squaregrad: { samples: 2 },
      'gradient-shap': { samples: 2 }, 'deeplift-shap': { samples: 0 }, occlusion: { window: 56, stride: 56 }, rise: { samples: 10 }, lime: { samples: 10, segments: 8 },
      'kernel-shap': { samples: 10, segments: 8 }, 'feature-ablation': { segments: 8 }, 'shapley-sampling': { permutations: 1, segments: 8 }, sobol: { grid: 2, designs: 2 }, hsic: { grid: 2, samples: 10 },
      dff: { iterations: 20 },
    };
    const r = await lm.explain(gradientImage(112), { methods: ids, methodOptions: options });
    expect(Object.keys(r.maps).sort()).toEqual([...ids].sort());
    lm.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 600_000);
});

/** Plain NCHW loops: the reference the hand-made models are checked against. */
function convNchw(x: number[], [c, h, w]: number[], weight: number[], bias: number[], cout: number, k: number, stride: number, [pt, pl, pb, pr]: number[]) {
  const oh = Math.floor((h + pt + pb - k) / stride) + 1;
  const ow = Math.floor((w + pl + pr - k) / stride) + 1;
  const out: number[] = [];
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let s = bias[o] ?? 0;
        for (let ci = 0; ci < c; ci++) {
          for (let u = 0; u < k; u++) {
            for (let v = 0; v < k; v++) {
              const y = i * stride + u - pt;
              const xx = j * stride + v - pl;
              if (y >= 0 && y < h && xx >= 0 && xx < w) s += (x[(ci * h + y) * w + xx] ?? 0) * (weight[((o * c + ci) * k + u) * k + v] ?? 0);
            }
          }
        }
        out.push(s);
      }
    }
  }
  return { out, shape: [cout, oh, ow] };
}

function maxPoolCeilNchw(x: number[], [c, h, w]: number[], k: number, stride: number) {
  const size = (n: number) => {
    let o = Math.ceil((n - k) / stride) + 1;
    if ((o - 1) * stride >= n) o -= 1;
    return o;
  };
  const oh = size(h);
  const ow = size(w);
  const out: number[] = [];
  for (let ci = 0; ci < c; ci++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let m = -Infinity;
        for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) if (i * stride + u < h && j * stride + v < w) m = Math.max(m, x[(ci * h + i * stride + u) * w + j * stride + v] ?? -Infinity);
        out.push(m);
      }
    }
  }
  return { out, shape: [c, oh, ow] };
}

const H = 11;
const W = 11;
const COUT = 4;
const weight = seeded(COUT * 3 * 3 * 3, 7);
const bias = seeded(COUT, 8);
const pads = [0, 1, 1, 0];
const gemmW = seeded(5 * COUT * 3 * 3, 9); // [5, 36], transB

function vggLike(opset: number, inputShape: Array<number | string> = [1, 3, H, W], extra: Partial<ModelSpec> = {}): ModelSpec {
  return {
    opset,
    inputs: [{ name: 'x', shape: inputShape }],
    outputs: [{ name: 'y' }],
    initializers: [
      { name: 'w', dims: [COUT, 3, 3, 3], data: weight, raw: true },
      { name: 'b', dims: [COUT], data: bias },
      { name: 'fc', dims: [5, COUT * 3 * 3], data: gemmW, raw: true },
    ],
    nodes: [
      { op: 'Conv', name: '/features/features.0/Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: [{ name: 'strides', ints: [2, 2] }, { name: 'pads', ints: pads }, { name: 'kernel_shape', ints: [3, 3] }] },
      { op: 'Relu', name: '/features/features.1/Relu', inputs: ['c'], outputs: ['r'] },
      { op: 'MaxPool', name: '/features/features.2/MaxPool', inputs: ['r'], outputs: ['p'], attrs: [{ name: 'kernel_shape', ints: [2, 2] }, { name: 'strides', ints: [2, 2] }, { name: 'ceil_mode', i: 1 }] },
      { op: 'Flatten', name: '/Flatten', inputs: ['p'], outputs: ['f'], attrs: [{ name: 'axis', i: 1 }] },
      { op: 'Gemm', name: '/classifier/Gemm', inputs: ['f', 'fc'], outputs: ['y'], attrs: [{ name: 'transB', i: 1 }] },
    ],
    ...extra,
  };
}

describe('hand-made models against a plain NCHW loop', () => {
  const xNchw = seeded(3 * H * W, 3);

  it.each([11, 13, 17])('Conv (asymmetric pads, stride 2) → MaxPool (ceil_mode) → Flatten of a 4-D map → Gemm, opset %i', (opset) => {
    const conv = convNchw(xNchw, [3, H, W], weight, bias, COUT, 3, 2, pads);
    const relu = conv.out.map((v) => Math.max(0, v));
    const pool = maxPoolCeilNchw(relu, conv.shape, 2, 2);
    expect(pool.shape).toEqual([COUT, 3, 3]);
    const expected = Array.from({ length: 5 }, (_, o) => pool.out.reduce((s, v, i) => s + v * (gemmW[o * pool.out.length + i] ?? 0), 0));

    const built = buildOnnxProgram(decodeOnnxModel(encodeOnnx(vggLike(opset))), 'vgg');
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(xNchw, [1, 3, H, W]), [0, 2, 3, 1]));
    const values = tf.tidy(() => runForward(built.host.program, x));
    const ours = Array.from(values[built.host.program.outputSlots[0]!]!.dataSync());
    tf.dispose(values.filter((v): v is tf.Tensor => !!v));
    built.host.dispose();
    const diff = Math.max(...ours.map((v, i) => Math.abs(v - (expected[i] ?? NaN))));
    expect(diff).toBeLessThan(1e-4);
  });

  it('an NHWC input (tf2onnx: input → Transpose to NCHW) runs with no transpose at all and gives the same logits', () => {
    const nchw = vggLike(13);
    const nhwc = vggLike(13, [1, H, W, 3]);
    nhwc.nodes.unshift({ op: 'Transpose', name: '/to_nchw', inputs: ['x'], outputs: ['xt'], attrs: [{ name: 'perm', ints: [0, 3, 1, 2] }] });
    nhwc.nodes[1]!.inputs[0] = 'xt';
    const a = buildOnnxProgram(decodeOnnxModel(encodeOnnx(nchw)), 'a');
    const b = buildOnnxProgram(decodeOnnxModel(encodeOnnx(nhwc)), 'b');
    expect(b.host.inputShape).toEqual([null, H, W, 3]);
    expect(b.host.program.steps.some((s) => /Transpose/.test((s.layer as unknown as { op: string }).op))).toBe(false);
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(xNchw, [1, 3, H, W]), [0, 2, 3, 1]));
    const run = (p: typeof a) => {
      const values = tf.tidy(() => runForward(p.host.program, x.clone()));
      const out = Array.from(values[p.host.program.outputSlots[0] ?? -1]?.dataSync() ?? []);
      tf.dispose(values.filter((v): v is tf.Tensor => !!v));
      p.host.dispose();
      return out;
    };
    const [ya, yb] = [run(a), run(b)];
    x.dispose();
    expect(yb).toHaveLength(5);
    yb.forEach((v, i) => expect(v).toBeCloseTo(ya[i] ?? NaN, 5));
  });

  it('reads float16 and int64 initializers, and weights in an external file beside the model', async () => {
    const spec = vggLike(13);
    const half = (v: number) => {
      const f = new Float32Array([v]);
      const i = new Uint32Array(f.buffer)[0]!;
      return ((i >> 16) & 0x8000) | ((((i >> 23) & 0xff) - 112) << 10) | ((i >> 13) & 0x3ff);
    };
    spec.initializers = [
      { name: 'w', dims: [COUT, 3, 3, 3], external: { location: 'model.onnx.data', offset: 16, length: weight.length * 4 } },
      { name: 'b', dims: [COUT], dataType: 10, data: bias.map(half) },
      { name: 'fc', dims: [5, COUT * 3 * 3], data: gemmW },
    ];
    const data = new Uint8Array(16 + weight.length * 4);
    data.set(new Uint8Array(new Float32Array(weight).buffer), 16);
    const lm = await loadModel([file('m/model.onnx', encodeOnnx(spec)), file('m/model.onnx.data', data)]);
    expect(lm.summary.format).toBe('onnx');
    lm.dispose();
    await expectCode(loadModel([file('m/model.onnx', encodeOnnx(spec))]), 'ONNX_EXTERNAL_DATA_MISSING');
  });
});

describe('names, labels, archives', () => {
  it('flat node names (old exporters: Conv_0, empty) give a flat tree in op order; a JSON list names the classes', async () => {
    const spec = vggLike(13);
    spec.nodes.forEach((n, i) => {
      n.name = i === 1 ? '' : `${n.op}_${i}`;
    });
    const labels = ['a', 'b', 'c', 'd', 'e'];
    const lm = await loadModel([file('m/flat.onnx', encodeOnnx(spec)), file('m/classes.json', new TextEncoder().encode(JSON.stringify(labels)))]);
    try {
      expect(lm.summary.tree.children!.map((c) => `${c.name}:${c.className}`)).toEqual(['x:Input', 'Conv_0:Conv', 'Relu_1:Relu', 'MaxPool_2:MaxPool', 'Flatten_3:Flatten', 'Gemm_4:Gemm']);
      expect(lm.summary.labels).toEqual(labels);
      expect(lm.summary.defaultLayerPath).toBe('flat/MaxPool_2');
    } finally {
      lm.dispose();
    }
  });

  it('opens from a zip holding the model and imagenet_classes.txt', async () => {
    const zip = zipSync({ 'net/model.onnx': encodeOnnx(vggLike(17)), 'net/imagenet_classes.txt': new TextEncoder().encode('p\nq\nr\ns\nt\n') });
    const { modelFiles } = await classifyFiles([file('net.zip', zip)]);
    const lm = await loadModel(modelFiles);
    expect(lm.summary.format).toBe('onnx');
    expect(lm.summary.labels).toEqual(['p', 'q', 'r', 's', 't']);
    lm.dispose();
  });
});

describe('bad inputs: each a coded one-line message', () => {
  const good = () => encodeOnnx(vggLike(13));
  /** The code, and a message of one line that names the file's problem (the status line shows it as "CODE: message"). */
  const refused = async (promise: Promise<unknown>, code: string) => {
    const e = await expectCode(promise, code);
    expect(e.message.trim()).not.toBe('');
    expect(e.message).not.toMatch(/\n/);
    return e;
  };

  it('not protobuf, truncated', async () => {
    await refused(loadModel([file('x.onnx', new TextEncoder().encode('{"not": "onnx"}'))]), 'ONNX_INVALID');
    const bytes = good();
    const e = await refused(loadModel([file('x.onnx', bytes.subarray(0, Math.floor(bytes.length / 2)))]), 'ONNX_INVALID');
    expect(e.message).toMatch(/truncated/);
  });

  it('missing external data', async () => {
    const spec = vggLike(13);
    spec.initializers = [{ name: 'w', dims: [COUT, 3, 3, 3], external: { location: 'model.onnx.data', offset: 0, length: weight.length * 4 } }, ...spec.initializers!.filter((i) => i.name !== 'w')];
    const e = await refused(loadModel([file('m/model.onnx', encodeOnnx(spec))]), 'ONNX_EXTERNAL_DATA_MISSING');
    expect(e.message).toContain('model.onnx.data');
  });

  it('two image inputs', async () => {
    const spec = vggLike(13);
    spec.inputs.push({ name: 'x2', shape: [1, 3, H, W] });
    await refused(loadModel([file('x.onnx', encodeOnnx(spec))]), 'MULTI_INPUT');
  });

  it('an op it cannot run names the op, the node and the opset; control flow and quantized ops by name', async () => {
    const spec = vggLike(13);
    spec.nodes.splice(1, 0, { op: 'Celu', name: '/features/odd/Celu', inputs: ['c'], outputs: ['c2'] });
    spec.nodes[2]!.inputs = ['c2'];
    const e = await refused(loadModel([file('x.onnx', encodeOnnx(spec))]), 'ONNX_OP_UNSUPPORTED');
    expect(e.message).toContain('Celu');
    expect(e.message).toContain('/features/odd/Celu');
    expect(e.message).toContain('opset 13');
    for (const op of ['Loop', 'QLinearConv']) {
      const s = vggLike(13);
      s.nodes.push({ op, inputs: ['y'], outputs: ['z'] });
      expect((await refused(loadModel([file('x.onnx', encodeOnnx(s))]), 'ONNX_OP_UNSUPPORTED')).message).toContain(op);
    }
  });

  it('a dynamic-size model opens at the assumed size with INPUT_SIZE_ASSUMED', async () => {
    const spec = vggLike(13, ['batch', 3, 'height', 'width']);
    // The classifier needs 9×9 inputs: a dynamic model here is conv + global pooling.
    spec.nodes = [spec.nodes[0]!, spec.nodes[1]!, { op: 'GlobalAveragePool', inputs: ['r'], outputs: ['g'] }, { op: 'Flatten', inputs: ['g'], outputs: ['y'] }];
    const lm = await loadModel([file('x.onnx', encodeOnnx(spec))]);
    expect(lm.summary.imageSize).toEqual([224, 224, 3]);
    const warning = lm.summary.warnings.find((w) => w.code === 'INPUT_SIZE_ASSUMED');
    expect(warning?.message).toMatch(/224/);
    expect(warning?.message).not.toMatch(/\n/);
    lm.dispose();
  });

  it('an int8 model', async () => {
    const spec = vggLike(13);
    spec.initializers!.push({ name: 'q', dims: [4], dataType: 3, data: [1, 2, 3, 4], raw: true });
    await refused(loadModel([file('x.onnx', encodeOnnx(spec))]), 'ONNX_DTYPE_UNSUPPORTED');
  });
});
