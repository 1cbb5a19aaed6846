import { describe, expect, it } from 'vitest';
import { ancestorPaths, findNode, formatShape, gridLayers, indexTree, resolveClass } from './layer-tree';
import { nestedTree } from './test-fixtures';
import type { LayerNode } from '../shared/types';
import { mobileNetV2 } from '../shared/test-trees';

describe('layer tree helpers', () => {
  it('indexes every node with its parent and depth', () => {
    const index = indexTree(nestedTree());
    expect(index.size).toBe(10);
    expect(index.get('outer/inner/base/out_relu')).toMatchObject({ parentPath: 'outer/inner/base', level: 4 });
    expect(ancestorPaths(index, 'outer/inner/base/out_relu')).toEqual(['outer', 'outer/inner', 'outer/inner/base']);
    expect(ancestorPaths(index, 'outer')).toEqual([]);
  });

  it('finds nodes by path, nested or not', () => {
    expect(findNode(nestedTree(), 'outer/inner/base/conv_b')?.className).toBe('Conv2D');
    expect(findNode(nestedTree(), 'outer/nope')).toBeNull();
  });

  it('formats shapes without the batch dimension', () => {
    expect(formatShape([null, 7, 7, 1280])).toBe('7×7×1280');
    expect(formatShape([null, 3])).toBe('3');
    expect(formatShape([null, null, 5])).toBe('?×5');
  });

  it('resolves labels, case-insensitive labels and indices; rejects the rest', () => {
    const labels = ['Peace', 'Stop', 'Thumbs Up'];
    expect(resolveClass('Stop', labels)).toBe(1);
    expect(resolveClass('  thumbs up ', labels)).toBe(2);
    expect(resolveClass('2', labels)).toBe(2);
    expect(resolveClass(0, labels)).toBe(0);
    expect(resolveClass('3', labels)).toBeNull();
    expect(resolveClass(-1, labels)).toBeNull();
    expect(resolveClass(1.5, labels)).toBeNull();
    expect(resolveClass('Rock', labels)).toBeNull();
    expect(resolveClass('', labels)).toBeNull();
    // A label that looks like a number wins over the index reading.
    expect(resolveClass('1', ['5', '0', '1'])).toBe(2);
  });
});

describe('gridLayers', () => {
  it('the chosen layer first, then the last layer of each other resolution, deepest first, at most four', () => {
    const tree = nestedTree();
    // conv_a/relu_a are 14×14, conv_b/out_relu 7×7.
    expect(gridLayers(tree, null)).toEqual(['outer/inner/base/out_relu', 'outer/inner/base/relu_a']);
    expect(gridLayers(tree, 'outer/inner/base/conv_a')).toEqual(['outer/inner/base/conv_a', 'outer/inner/base/out_relu', 'outer/inner/base/relu_a']);
    expect(gridLayers(tree, 'outer/inner/base/out_relu')).toEqual(['outer/inner/base/out_relu', 'outer/inner/base/relu_a']);
    expect(gridLayers(tree, 'no/such')).toEqual(['outer/inner/base/out_relu', 'outer/inner/base/relu_a']);
  });
});

describe('gridLayers on a MobileNetV2-like tree', () => {
  it('the layers grid: the chosen layer first, then the stages', () => {
    const root: LayerNode = { path: 'model', name: 'model', className: 'Functional', outputShape: [null, 3], params: 0, explainable: false, children: mobileNetV2(true) };
    expect(gridLayers(root, 'model/Conv1', [224, 224]).map((p) => p.split('/').pop())).toEqual(['Conv1', 'out_relu', 'block_13_expand_relu', 'block_6_expand_relu', 'block_3_expand_relu']);
    expect(gridLayers(root, null, [224, 224]).map((p) => p.split('/').pop())).toEqual(['out_relu', 'block_13_expand_relu', 'block_6_expand_relu', 'block_3_expand_relu']);
  });
});
