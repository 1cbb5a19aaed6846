/**
 * A small TF.js graph model with an op tfjs has no gradient for (DepthToSpace, a pixel shuffle), for
 * the tests of gradient-free explanation (unit and e2e): 8×8×3 → conv 3×3 (12 channels, ReLU) →
 * DepthToSpace(2) → 16×16×3 → conv 3×3 (6 channels, ReLU) → mean over H, W → dense (3) → softmax.
 * Seeded weights. As the converter writes it: model.json (GraphDef JSON, base64 attrs) + weights.bin.
 */
import * as tf from '@tensorflow/tfjs';
import type { OpenedModel } from '../formats/reader';

const b64 = (s: string) => btoa(s);
const ints = (...v: number[]) => ({ list: { i: v.map(String) } });
const str = (s: string) => ({ s: b64(s) });
const strs = (...v: string[]) => ({ list: { s: v.map(b64) } });
const S = 'StatefulPartitionedCall/shuffle';

function node(name: string, op: string, input: string[] = [], attr: Record<string, unknown> = {}) {
  return { name, op, input, attr };
}

export const NO_GRADIENT_LABELS = ['circle', 'square', 'star'];

export async function noGradientGraph(): Promise<{ opened: OpenedModel; modelJson: string; weightsBin: Uint8Array }> {
  const seeded = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 0.4, 'float32', seed);
  const weights: Record<string, tf.Tensor> = {
    [`${S}/conv1/Conv2D_weights`]: seeded([3, 3, 3, 12], 11),
    [`${S}/conv1/Conv2D_bias`]: seeded([12], 12),
    [`${S}/conv2/Conv2D_weights`]: seeded([3, 3, 3, 6], 13),
    [`${S}/conv2/Conv2D_bias`]: seeded([6], 14),
    [`${S}/pool/Mean/reduction_indices`]: tf.tensor1d([1, 2], 'int32'),
    [`${S}/dense/MatMul/ReadVariableOp`]: seeded([6, 3], 15),
    [`${S}/dense/BiasAdd/ReadVariableOp`]: seeded([3], 16),
  };
  const conv = (name: string, input: string) =>
    node(`${S}/${name}/Relu`, '_FusedConv2D', [input, `${S}/${name}/Conv2D_weights`, `${S}/${name}/Conv2D_bias`], {
      fused_ops: strs('BiasAdd', 'Relu'), padding: str('SAME'), strides: ints(1, 1, 1, 1), dilations: ints(1, 1, 1, 1), data_format: str('NHWC'), num_args: { i: '1' }, epsilon: { f: 0 },
    });
  const nodes = [
    node('input_1', 'Placeholder', [], { shape: { shape: { dim: [{ size: '-1' }, { size: '8' }, { size: '8' }, { size: '3' }] } }, dtype: { type: 'DT_FLOAT' } }),
    ...Object.entries(weights).map(([name, w]) => node(name, 'Const', [], { dtype: { type: w.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' } })),
    conv('conv1', 'input_1'),
    node(`${S}/shuffle/DepthToSpace`, 'DepthToSpace', [`${S}/conv1/Relu`], { block_size: { i: '2' }, data_format: str('NHWC') }),
    conv('conv2', `${S}/shuffle/DepthToSpace`),
    node(`${S}/pool/Mean`, 'Mean', [`${S}/conv2/Relu`, `${S}/pool/Mean/reduction_indices`], { keep_dims: { b: false }, Tidx: { type: 'DT_INT32' } }),
    node(`${S}/dense/BiasAdd`, '_FusedMatMul', [`${S}/pool/Mean`, `${S}/dense/MatMul/ReadVariableOp`, `${S}/dense/BiasAdd/ReadVariableOp`], {
      fused_ops: strs('BiasAdd'), transpose_a: { b: false }, transpose_b: { b: false }, num_args: { i: '1' },
    }),
    node(`${S}/dense/Softmax`, 'Softmax', [`${S}/dense/BiasAdd`]),
    node('Identity', 'Identity', [`${S}/dense/Softmax`]),
  ];
  const { data, specs } = await tf.io.encodeWeights(weights);
  tf.dispose(Object.values(weights));
  const modelTopology = { node: nodes, versions: { producer: 1 } };
  return {
    opened: {
      name: 'shuffle',
      format: 'tfjs-graph',
      kind: 'graph',
      artifacts: { modelTopology, weightSpecs: specs, weightData: data, format: 'graph-model' },
      labels: NO_GRADIENT_LABELS,
      warnings: [],
    },
    modelJson: JSON.stringify({ format: 'graph-model', generatedBy: 'test', convertedBy: 'test', modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: specs }] }),
    weightsBin: new Uint8Array(data as ArrayBuffer),
  };
}
