/**
 * Token maps on hand-made transformer-shaped models (no Python): patch-embedding conv → tokens →
 * a block's norm1 → pooled head. 16 patch tokens (+ a class token) are a 4×4 map, explainable, the
 * default, with a gradient equal to the one at the tokens themselves; 13 tokens are not a grid and
 * say so.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { encodeOnnx, seeded, type ModelSpec, type NodeSpec } from '../node/onnx-builder';
import { decodeOnnxModel } from './onnx-proto';
import { buildOnnxProgram } from './load-onnx';
import { defaultLayerPath, flattenTree } from '../tree';
import { buildLayerTree } from '../tree';
import { runForward } from '../forward';
import { gradientAt } from '../gradient';

const C = 6;

function tokenModel(keepTokens: number, extra: number): ModelSpec {
  const nodes: NodeSpec[] = [
    { op: 'Conv', name: '/patch/Conv', inputs: ['x', 'pw', 'pb'], outputs: ['p'], attrs: [{ name: 'kernel_shape', ints: [4, 4] }, { name: 'strides', ints: [4, 4] }] },
    { op: 'Reshape', name: '/Reshape', inputs: ['p', 'flat'], outputs: ['f'] },
    { op: 'Transpose', name: '/Transpose', inputs: ['f'], outputs: ['t'], attrs: [{ name: 'perm', ints: [0, 2, 1] }] },
  ];
  let tokens = 't';
  if (extra > 0) {
    nodes.push({ op: 'Concat', name: '/Concat', inputs: ['cls', 't'], outputs: ['tc'], attrs: [{ name: 'axis', i: 1 }] });
    tokens = 'tc';
  }
  nodes.push(
    { op: 'Slice', name: '/Slice', inputs: [tokens, 'starts', 'ends', 'axes'], outputs: ['s'] },
    { op: 'LayerNormalization', name: '/blocks/blocks.0/norm1/LayerNormalization', inputs: ['s', 'g', 'b'], outputs: ['n'], attrs: [{ name: 'axis', i: -1 }] },
    { op: 'Mul', name: '/blocks/blocks.0/Mul', inputs: ['n', 'n'], outputs: ['m'] },
    { op: 'ReduceMean', name: '/ReduceMean', inputs: ['m'], outputs: ['r'], attrs: [{ name: 'axes', ints: [1] }, { name: 'keepdims', i: 0 }] },
    { op: 'Gemm', name: '/head/Gemm', inputs: ['r', 'hw'], outputs: ['y'], attrs: [{ name: 'transB', i: 1 }] },
  );
  const n = extra + 16;
  return {
    opset: 17,
    inputs: [{ name: 'x', shape: [1, 3, 16, 16] }],
    outputs: [{ name: 'y' }],
    initializers: [
      { name: 'pw', dims: [C, 3, 4, 4], data: seeded(C * 48, 1) },
      { name: 'pb', dims: [C], data: seeded(C, 2) },
      { name: 'flat', dims: [3], dataType: 7, data: [1, C, 16] },
      { name: 'cls', dims: [1, Math.max(extra, 1), C], data: seeded(Math.max(extra, 1) * C, 3) },
      { name: 'starts', dims: [1], dataType: 7, data: [0] },
      { name: 'ends', dims: [1], dataType: 7, data: [Math.min(keepTokens, n)] },
      { name: 'axes', dims: [1], dataType: 7, data: [1] },
      { name: 'g', dims: [C], data: seeded(C, 4).map((v) => 1 + v / 2) },
      { name: 'b', dims: [C], data: seeded(C, 5) },
      { name: 'hw', dims: [3, C], data: seeded(3 * C, 6) },
    ],
    nodes,
  };
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

describe('token maps', () => {
  it.each([1, 2])('16 patch tokens + %i class/distillation token(s): norm1 is a 4×4 map, the default, with the tokens\' own gradient', (extra) => {
    const built = buildOnnxProgram(decodeOnnxModel(encodeOnnx(tokenModel(16 + extra, extra))), 'tiny');
    const program = built.host.program;
    const tree = buildLayerTree(program);
    // `blocks` holds one block: the tree shows it as blocks › norm1 (a one-entry scope is its entry).
    const norm1 = flattenTree(tree).find((n) => n.path === 'tiny/blocks/norm1');
    expect(norm1).toMatchObject({ explainable: true, outputShape: [null, 4, 4, C] });
    expect(flattenTree(tree).find((n) => n.path === 'tiny/blocks/norm1/tokens')?.className).toBe(`Tokens 4×4 + ${extra}`);
    expect(defaultLayerPath(program)).toBe('tiny/blocks/norm1');
    expect(built.host.warnings).toEqual([]);

    // The gradient at the grid is the gradient at the LayerNorm's patch tokens, laid out h×w.
    const x = tf.tensor4d(seeded(16 * 16 * 3, 9), [1, 16, 16, 3]);
    const values = tf.tidy(() => runForward(program, x));
    const gridSlot = program.slotsByPath.get('tiny/blocks/norm1')!;
    const tokenSlot = program.slotsByPath.get('tiny/blocks/norm1/LayerNormalization')!;
    const atGrid = gradientAt(program, values, gridSlot, 1);
    const atTokens = gradientAt(program, values, tokenSlot, 1);
    const expected = tf.tidy(() => tf.reshape(tf.slice(atTokens, [0, extra, 0], [-1, -1, -1]), [1, 4, 4, C]));
    expect(Math.max(...Array.from(tf.abs(tf.sub(atGrid, expected)).dataSync()))).toBeLessThan(1e-6);
    expect(Math.max(...Array.from(tf.abs(atGrid).dataSync()))).toBeGreaterThan(0);
    tf.dispose([atGrid, atTokens, expected, ...values.filter((v): v is tf.Tensor => !!v)]);
    built.host.dispose();
  });

  it('13 tokens are no grid: norm1 stays tokens, with TOKENS_NOT_A_GRID naming the node and N', () => {
    const built = buildOnnxProgram(decodeOnnxModel(encodeOnnx(tokenModel(13, 0))), 'tiny');
    const codes = built.host.warnings.map((w) => w.code);
    expect(codes).toContain('TOKENS_NOT_A_GRID');
    const message = built.host.warnings.find((w) => w.code === 'TOKENS_NOT_A_GRID')!.message;
    expect(message).toContain('/blocks/blocks.0/norm1/LayerNormalization');
    expect(message).toContain('13');
    expect(flattenTree(buildLayerTree(built.host.program)).some((n) => n.className.startsWith('Tokens'))).toBe(false);
    built.host.dispose();
  });
});
