import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildTestModel } from '../test-support/test-models';
import { compileProgram } from './executor/program';
import { buildLayerTree, defaultLayerPath, flattenTree, resolveLayerPath } from './tree';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('layer tree', () => {
  it('shows a Teachable-Machine-shaped model two levels deep, with shapes, params and explainable flags', () => {
    const t = buildTestModel('e');
    const tree = buildLayerTree(compileProgram(t.model));
    const name = t.model.name;
    expect(tree.path).toBe(name);
    expect(tree.children!.map((c) => c.path)).toEqual([`${name}/${name}_seq1`, `${name}/${name}_seq3`]);
    const seq1 = tree.children![0];
    expect(seq1.children!.map((c) => c.name)).toEqual([`${name}_model1`, `${name}_gap`]);
    const model1 = seq1.children![0];
    expect(model1.path).toBe(t.nestedModelPath);
    expect(model1.className).toBe('Model');
    expect(model1.outputShape).toEqual([null, 8, 8, 8]);
    // The nested model's input is listed first (as Keras counts it), dimmed: it is never a target.
    expect(model1.children![0]).toMatchObject({ className: 'InputLayer', explainable: false, params: 0 });
    const conv1 = model1.children![1];
    expect(conv1).toMatchObject({ className: 'Conv2D', outputShape: [null, 8, 8, 8], params: 3 * 3 * 3 * 8 + 8, explainable: true });
    expect(seq1.explainable).toBe(false); // its output is pooled
    const all = flattenTree(tree);
    expect(all.filter((n) => n.className === 'Dense').every((n) => !n.explainable)).toBe(true);
    // Parameters add up: the tree's leaves hold every weight once.
    expect(all.filter((n) => !n.children).reduce((s, n) => s + n.params, 0)).toBe(t.model.countParams());
    t.model.dispose();
  });

  it('lists a block called twice once per call, and counts its weights once', () => {
    const t = buildTestModel('d');
    const tree = buildLayerTree(compileProgram(t.model));
    const name = t.model.name;
    const blocks = tree.children!.filter((c) => c.name.startsWith(`${name}_block`));
    expect(blocks.map((b) => b.path)).toEqual([`${name}/${name}_block`, `${name}/${name}_block[1]`]);
    expect(blocks[1].params).toBe(0);
    expect(blocks[0].params).toBeGreaterThan(0);
    t.model.dispose();
  });

  it('defaults to the last spatial leaf before the head, inside sub-models, and resolves bare names', () => {
    for (const kind of ['a', 'b', 'c', 'e'] as const) {
      const t = buildTestModel(kind);
      const program = compileProgram(t.model);
      const path = defaultLayerPath(program);
      expect(path?.startsWith(`${t.nestedModelPath}/`)).toBe(true);
      expect(path?.endsWith('_out_relu')).toBe(true);
      const tree = buildLayerTree(program);
      const bare = path!.split('/').pop()!;
      expect(resolveLayerPath(tree, bare)?.path).toBe(path);
      expect(resolveLayerPath(tree, 'missing')).toBeNull();
      t.model.dispose();
    }
    const d = buildTestModel('d');
    expect(defaultLayerPath(compileProgram(d.model))).toBe(d.innerLayerPath);
    d.model.dispose();
  });
});
