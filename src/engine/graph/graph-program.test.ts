/**
 * A small graph model written by hand (TensorFlow's GraphDef JSON, as the converter writes it: base64
 * strings, fused ops, wrapper scopes) with the op set of the real fixtures plus a generic op (Mul by a
 * constant) and one op only tfjs-converter runs (Erf). Checked against tfjs-converter's own execute:
 * the forward pass, the gradient at a node and at the input, the tree, and that nothing leaks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { loadedModelFromOpened } from '../model';
import type { OpenedModel } from '../formats/reader';
import { parseGraphDef, attrValue } from './graph-def';
import { scopeComponents } from './graph-program';
import { runForward } from '../executor/forward';
import { gradientAt } from '../executor/gradient';
import { flattenTree } from '../tree';
import { pearson } from '../../test-support/method-reference';
import { camOf } from '../../test-support/result-maps';
import { preprocessImage } from '../preprocess';

const b64 = (s: string) => btoa(s);
const S = 'StatefulPartitionedCall/model';
const ints = (...v: number[]) => ({ list: { i: v.map(String) } });
const str = (s: string) => ({ s: b64(s) });
const strs = (...v: string[]) => ({ list: { s: v.map(b64) } });

function node(name: string, op: string, input: string[] = [], attr: Record<string, unknown> = {}) {
  return { name, op, input, attr };
}

/** x → conv(Relu6) → depthwise → LeakyRelu → ×0.5 → + conv → MaxPool → Erf → Mean → MatMul → Softmax. */
async function handWrittenGraph(): Promise<{ opened: OpenedModel; weights: Record<string, tf.Tensor> }> {
  const seeded = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 0.5, 'float32', seed);
  const weights: Record<string, tf.Tensor> = {
    [`${S}/conv1/Conv2D_weights`]: seeded([3, 3, 3, 4], 1),
    [`${S}/conv1/Conv2D_bn_offset`]: seeded([4], 2),
    unknown_dw: seeded([3, 3, 4, 1], 3),
    [`${S}/scale/y`]: tf.scalar(0.5),
    [`${S}/pool/Mean/reduction_indices`]: tf.tensor1d([1, 2], 'int32'),
    [`${S}/dense/MatMul/ReadVariableOp`]: seeded([4, 3], 4),
    [`${S}/dense/BiasAdd/ReadVariableOp`]: seeded([3], 5),
  };
  const nodes = [
    node('input_1', 'Placeholder', [], { shape: { shape: { dim: [{ size: '-1' }, { size: '8' }, { size: '8' }, { size: '3' }] } }, dtype: { type: 'DT_FLOAT' } }),
    ...Object.keys(weights).map((name) => node(name, 'Const', [], { dtype: { type: weights[name]!.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' } })),
    node(`${S}/conv1/Relu6`, '_FusedConv2D', ['input_1', `${S}/conv1/Conv2D_weights`, `${S}/conv1/Conv2D_bn_offset`], {
      fused_ops: strs('BiasAdd', 'Relu6'), padding: str('SAME'), strides: ints(1, 1, 1, 1), dilations: ints(1, 1, 1, 1), data_format: str('NHWC'), num_args: { i: '1' }, epsilon: { f: 0 },
    }),
    node(`${S}/dw/depthwise`, 'DepthwiseConv2dNative', [`${S}/conv1/Relu6`, 'unknown_dw'], { padding: str('SAME'), strides: ints(1, 1, 1, 1), dilations: ints(1, 1, 1, 1), data_format: str('NHWC') }),
    node(`${S}/dw_act/LeakyRelu`, 'LeakyRelu', [`${S}/dw/depthwise`], { alpha: { f: 0.1 } }),
    node(`${S}/scale/mul`, 'Mul', [`${S}/dw_act/LeakyRelu`, `${S}/scale/y`]),
    node(`${S}/add/add`, 'AddV2', [`${S}/scale/mul`, `${S}/conv1/Relu6`]),
    node(`${S}/pool/MaxPool`, 'MaxPool', [`${S}/add/add`], { ksize: ints(1, 2, 2, 1), strides: ints(1, 2, 2, 1), padding: str('VALID'), data_format: str('NHWC') }),
    node(`${S}/erf/Erf`, 'Erf', [`${S}/pool/MaxPool`]),
    node(`${S}/pool/Mean`, 'Mean', [`${S}/erf/Erf`, `${S}/pool/Mean/reduction_indices`], { keep_dims: { b: false }, Tidx: { type: 'DT_INT32' } }),
    node(`${S}/dense/BiasAdd`, '_FusedMatMul', [`${S}/pool/Mean`, `${S}/dense/MatMul/ReadVariableOp`, `${S}/dense/BiasAdd/ReadVariableOp`], {
      fused_ops: strs('BiasAdd'), transpose_a: { b: false }, transpose_b: { b: false }, num_args: { i: '1' },
    }),
    node(`${S}/dense/Softmax`, 'Softmax', [`${S}/dense/BiasAdd`]),
    node('Identity', 'Identity', [`${S}/dense/Softmax`]),
  ];
  const { data, specs } = await tf.io.encodeWeights(weights);
  return {
    weights,
    opened: {
      name: 'handmade',
      format: 'tfjs-graph',
      kind: 'graph',
      artifacts: { modelTopology: { node: nodes, versions: { producer: 1 } }, weightSpecs: specs, weightData: data, format: 'graph-model' },
      labels: ['a', 'b', 'c'],
      warnings: [],
    },
  };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('graph-def', () => {
  it('decodes TensorFlow attrs and drops the converter wrapper scopes', () => {
    expect(attrValue({ s: b64('SAME') })).toBe('SAME');
    expect(attrValue({ list: { i: ['1', '2', '2', '1'] } })).toEqual([1, 2, 2, 1]);
    expect(attrValue({ b: true })).toBe(true);
    expect(attrValue({ f: 0.1 })).toBeCloseTo(0.1);
    expect(scopeComponents('StatefulPartitionedCall/model_1/block1_conv1_act/Relu')).toEqual(['model_1', 'block1_conv1_act', 'Relu']);
    expect(scopeComponents('PartitionedCall_2/x')).toEqual(['x']);
  });

  it('orders nodes inputs-first whatever the file order, and refuses a cycle', () => {
    const def = parseGraphDef({ node: [node('b', 'Relu', ['a']), node('a', 'Relu', ['x']), node('x', 'Placeholder')] }, undefined);
    expect(def.nodes.map((n) => n.name)).toEqual(['x', 'a', 'b']);
    expect(def.outputs).toEqual(['b']);
    expect(() => parseGraphDef({ node: [node('x', 'Placeholder'), node('a', 'Relu', ['b']), node('b', 'Relu', ['a'])] }, undefined)).toThrow(/cycle/);
    expect(() => parseGraphDef({ node: [node('x', 'Placeholder'), node('y', 'Placeholder')] }, undefined)).toThrow(/2 inputs/);
  });
});

describe('a hand-written graph model against tfjs-converter', () => {
  it('same output, the tree by scope, Grad-CAM and input gradient as tf.grad through execute, no leak', async () => {
    const { opened, weights } = await handWrittenGraph();
    const reference = await tf.loadGraphModel(tf.io.fromMemory(opened.artifacts));
    const before = tf.memory().numTensors;
    const lm = await loadedModelFromOpened(opened);
    const s = lm.summary;
    const model = flattenTree(s.tree).find((n) => n.path === 'handmade/model')!;
    expect(model.children!.map((c) => `${c.name}:${c.className}`)).toEqual([
      'conv1:_FusedConv2D', 'dw:DepthwiseConv2dNative', 'dw_act:LeakyRelu', 'scale:Mul', 'add:AddV2', 'pool:Scope', 'erf:Erf', 'dense:Scope',
    ]);
    // Two ops in one scope stay two rows under it.
    expect(flattenTree(s.tree).find((n) => n.path === 'handmade/model/pool')!.children!.map((c) => c.name)).toEqual(['MaxPool', 'Mean']);
    expect(s.defaultLayerPath).toBe('handmade/model/erf'); // 4×4: the last map before the global mean
    expect(s.outputActivation).toBe('softmax');
    // The Keras-shaped adapters where an op is a Keras layer; tfjs-converter runs Erf.
    expect(lm.program.steps.map((st) => st.layer.getClassName())).toEqual([
      'Conv2D', 'DepthwiseConv2D', 'LeakyReLU', 'GraphOp', 'Add', 'MaxPooling2D', 'GraphOp', 'GlobalAveragePooling2D', 'Dense', 'Softmax',
    ]);

    const image = { width: 8, height: 8, data: new Uint8ClampedArray(8 * 8 * 4).map((_, i) => (i * 53 + 11) % 256) };
    const x = preprocessImage(image, [8, 8, 3], { normalization: 'symmetric', resize: 'stretch' });
    const out = reference.execute(x, 'Identity') as tf.Tensor;
    const expected = await out.data();
    out.dispose();
    const r = await lm.explain(image, { methods: ['gradcam'], layerPath: 'handmade/model/add', preprocess: { normalization: 'symmetric', resize: 'stretch' } });
    for (const p of r.predictions) expect(p.probability).toBeCloseTo(expected[p.index]!, 5);

    const k = r.classIndex;
    const logits = `${S}/dense/BiasAdd`;
    const node = `${S}/add/add`;
    const refCam = tf.tidy(() => {
      const a = reference.execute(x, node) as tf.Tensor4D;
      const g = tf.grad((v: tf.Tensor) => (reference.execute({ input_1: x, [node]: v }, logits) as tf.Tensor).gather([k], 1).sum())(a);
      return tf.relu(tf.sum(tf.mul(a, tf.mean(g, [1, 2], true)), -1)).reshape([-1]);
    });
    const cam = camOf(r)!;
    expect(cam.width).toBe(8);
    expect(pearson(cam.data, await refCam.data())).toBeGreaterThan(0.9999);

    // The input gradient goes back through every op: the adapters' written-out products, the
    // taped LeakyRelu and Mul, and Erf inside tfjs-converter.
    const values = tf.tidy(() => runForward(lm.program, x.clone()));
    const ours = gradientAt(lm.program, values, lm.program.inputSlot, k);
    const refGrad = tf.grad((v: tf.Tensor) => (reference.execute(v, logits) as tf.Tensor).gather([k], 1).sum())(x);
    const [o, g] = [await ours.data(), await refGrad.data()];
    let worst = 0;
    for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(o[i]! - g[i]!));
    expect(worst).toBeLessThan(1e-5);
    tf.dispose([...values.filter(Boolean), ours, refGrad, refCam, x]);

    lm.dispose();
    expect(tf.memory().numTensors).toBe(before);
    reference.dispose();
    tf.dispose(Object.values(weights));
  });
});
