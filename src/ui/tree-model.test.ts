import { describe, expect, it } from 'vitest';
import { nestedTree } from '../store/test-fixtures';
import { keyMove, typeAhead, visibleRows } from './tree-model';

const paths = (rows: { node: { path: string } }[]) => rows.map((r) => r.node.path);

describe('visibleRows', () => {
  it('shows only the root when nothing is expanded', () => {
    const rows = visibleRows(nestedTree(), new Set(), '');
    expect(paths(rows)).toEqual(['outer']);
    expect(rows[0]).toMatchObject({ level: 1, setSize: 1, posInSet: 1, hasChildren: true, expanded: false });
  });

  it('walks into expanded sub-models with levels and sibling positions', () => {
    const rows = visibleRows(nestedTree(), new Set(['outer', 'outer/inner', 'outer/inner/base']), '');
    expect(paths(rows)).toEqual([
      'outer',
      'outer/inner',
      'outer/inner/base',
      'outer/inner/base/conv_a',
      'outer/inner/base/relu_a',
      'outer/inner/base/conv_b',
      'outer/inner/base/out_relu',
      'outer/inner/gap',
      'outer/head',
    ]);
    const outRelu = rows.find((r) => r.node.name === 'out_relu')!;
    expect(outRelu).toMatchObject({ level: 4, setSize: 4, posInSet: 4, parentPath: 'outer/inner/base', hasChildren: false });
    expect(rows.find((r) => r.node.name === 'head')).toMatchObject({ level: 2, setSize: 2, posInSet: 2, expanded: false });
  });

  it('a search reveals matches inside collapsed sub-models, with their ancestors only', () => {
    const rows = visibleRows(nestedTree(), new Set(), 'conv_b');
    expect(paths(rows)).toEqual(['outer', 'outer/inner', 'outer/inner/base', 'outer/inner/base/conv_b']);
    expect(rows.map((r) => r.matches)).toEqual([false, false, false, true]);
    // Positions count the rows shown, not the hidden siblings.
    expect(rows[3]).toMatchObject({ setSize: 1, posInSet: 1, level: 4 });
  });

  it('searches class names case-insensitively', () => {
    const rows = visibleRows(nestedTree(), new Set(), 'conv2d');
    expect(paths(rows).filter((_, i) => rows[i].matches)).toEqual(['outer/inner/base/conv_a', 'outer/inner/base/conv_b']);
  });

  it('shows nothing when no layer matches', () => {
    expect(visibleRows(nestedTree(), new Set(['outer']), 'no-such-layer')).toEqual([]);
  });
});

describe('keyMove', () => {
  const rows = visibleRows(nestedTree(), new Set(['outer', 'outer/inner']), '');
  // outer, inner, base (collapsed), gap, head (collapsed)
  it('moves up and down through visible rows and stops at the ends', () => {
    expect(keyMove(rows, 0, 'ArrowDown')).toEqual({ kind: 'focus', index: 1 });
    expect(keyMove(rows, 0, 'ArrowUp')).toEqual({ kind: 'none' });
    expect(keyMove(rows, rows.length - 1, 'ArrowDown')).toEqual({ kind: 'none' });
    expect(keyMove(rows, 3, 'Home')).toEqual({ kind: 'focus', index: 0 });
    expect(keyMove(rows, 0, 'End')).toEqual({ kind: 'focus', index: rows.length - 1 });
  });

  it('Right expands a closed parent, then moves to its first child', () => {
    expect(rows[2].node.name).toBe('base');
    expect(keyMove(rows, 2, 'ArrowRight')).toEqual({ kind: 'expand', path: 'outer/inner/base' });
    expect(keyMove(rows, 1, 'ArrowRight')).toEqual({ kind: 'focus', index: 2 });
    expect(keyMove(rows, 3, 'ArrowRight')).toEqual({ kind: 'none' });
  });

  it('Left collapses an open parent, else moves to the parent', () => {
    expect(keyMove(rows, 1, 'ArrowLeft')).toEqual({ kind: 'collapse', path: 'outer/inner' });
    expect(keyMove(rows, 3, 'ArrowLeft')).toEqual({ kind: 'focus', index: 1 });
    expect(keyMove(rows, 0, 'ArrowLeft')).toEqual({ kind: 'collapse', path: 'outer' });
    const closedRoot = visibleRows(nestedTree(), new Set(), '');
    expect(keyMove(closedRoot, 0, 'ArrowLeft')).toEqual({ kind: 'none' });
  });

  it('type-ahead finds the next row by name prefix, wrapping', () => {
    expect(typeAhead(rows, 0, 'g')).toBe(3);
    expect(typeAhead(rows, 3, 'o')).toBe(0);
    expect(typeAhead(rows, 0, 'zz')).toBe(-1);
  });
});
