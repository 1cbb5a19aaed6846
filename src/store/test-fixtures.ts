/**
 * Small hand-made model summaries for the page-side unit tests: the shape of a Teachable Machine
 * export (outer Sequential → Sequential → functional base), written out as plain data.
 */
import type { LayerNode, ModelSummary } from '../shared/types';

function leaf(path: string, className: string, outputShape: (number | null)[], params = 0): LayerNode {
  const name = path.split('/').pop() ?? path;
  return { path, name, className, outputShape, params, explainable: outputShape.length === 4 };
}

/** outer → [inner → [base → [conv_a, relu_a, conv_b, out_relu], gap], head → [dense]]. */
export function nestedTree(): LayerNode {
  const base: LayerNode = {
    path: 'outer/inner/base',
    name: 'base',
    className: 'Functional',
    outputShape: [null, 7, 7, 32],
    params: 900,
    explainable: true,
    children: [
      leaf('outer/inner/base/conv_a', 'Conv2D', [null, 14, 14, 16], 448),
      leaf('outer/inner/base/relu_a', 'ReLU', [null, 14, 14, 16]),
      leaf('outer/inner/base/conv_b', 'Conv2D', [null, 7, 7, 32], 4640),
      leaf('outer/inner/base/out_relu', 'ReLU', [null, 7, 7, 32]),
    ],
  };
  const inner: LayerNode = {
    path: 'outer/inner',
    name: 'inner',
    className: 'Sequential',
    outputShape: [null, 32],
    params: 5088,
    explainable: false,
    children: [base, leaf('outer/inner/gap', 'GlobalAveragePooling2D', [null, 32])],
  };
  const head: LayerNode = {
    path: 'outer/head',
    name: 'head',
    className: 'Sequential',
    outputShape: [null, 3],
    params: 99,
    explainable: false,
    children: [leaf('outer/head/dense', 'Dense', [null, 3], 99)],
  };
  return { path: 'outer', name: 'outer', className: 'Sequential', outputShape: [null, 3], params: 5187, explainable: false, children: [inner, head] };
}

export function nestedSummary(overrides: Partial<ModelSummary> = {}): ModelSummary {
  return {
    name: 'outer',
    format: 'tfjs-layers',
    inputShape: [null, 28, 28, 3],
    imageSize: [28, 28, 3],
    labels: ['Peace', 'Stop', 'Thumbs Up'],
    labelsFromFile: true,
    tree: nestedTree(),
    defaultLayerPath: 'outer/inner/base/out_relu',
    preprocess: { normalization: 'symmetric', resize: 'center-crop', source: 'metadata.json' },
    outputActivation: 'softmax',
    head: 'softmax',
    outputs: [{ index: 0, name: 'dense', shape: [null, 3], classification: true, head: 'softmax', outputActivation: 'softmax', labels: ['Peace', 'Stop', 'Thumbs Up'] }],
    defaultOutput: 0,
    params: 5187,
    weightBytes: 5187 * 4,
    warnings: [],
    ...overrides,
  };
}
