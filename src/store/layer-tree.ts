/** Plain helpers over the model's LayerNode tree, shared by the store and the tree view. */
import type { LayerNode } from '../shared/types';
import { stageLayers } from '../shared/layer-stages';

export interface TreeIndexEntry {
  node: LayerNode;
  /** Path of the parent row, null for the root. */
  parentPath: string | null;
  /** 1 for the root. */
  level: number;
}

/** Path → node, parent and depth, for every node of the tree (root included). */
export function indexTree(root: LayerNode): Map<string, TreeIndexEntry> {
  const index = new Map<string, TreeIndexEntry>();
  const walk = (node: LayerNode, parentPath: string | null, level: number): void => {
    index.set(node.path, { node, parentPath, level });
    for (const child of node.children ?? []) walk(child, node.path, level + 1);
  };
  walk(root, null, 1);
  return index;
}

export function findNode(root: LayerNode, path: string): LayerNode | null {
  if (root.path === path) return root;
  for (const child of root.children ?? []) {
    const hit = findNode(child, path);
    if (hit) return hit;
  }
  return null;
}

/** Paths of every ancestor of `path`, outermost first (the node itself excluded). */
export function ancestorPaths(index: Map<string, TreeIndexEntry>, path: string): string[] {
  const out: string[] = [];
  let parent = index.get(path)?.parentPath ?? null;
  while (parent !== null) {
    out.unshift(parent);
    parent = index.get(parent)?.parentPath ?? null;
  }
  return out;
}

/** `[null, 7, 7, 1280]` → `7×7×1280`. */
export function formatShape(shape: (number | null)[]): string {
  const dims = shape.length > 1 && shape[0] === null ? shape.slice(1) : shape;
  return dims.map((d) => (d === null ? '?' : String(d))).join('×');
}

/** One rule for what a person typed as a class, shared with the engine and the CLI. */
export { resolveClass } from '../shared/classes';

/** The leaf layers (no nested models), in the tree's order, which is execution order. */
export function leafLayers(root: LayerNode): LayerNode[] {
  return root.children ? root.children.flatMap(leafLayers) : [root];
}

/** The grid compares at most this many layers: four stages (7, 14, 28, 56 px of a 224 input) and the chosen layer. */
export const MAX_GRID_LAYERS = 5;

/**
 * The layers the layers grid shows: the chosen layer, then one layer per resolution stage (the last
 * layer of the stage that carries features: shared/layer-stages.ts), deepest first, down to a quarter
 * of the input (`inputSize`, [height, width]), at most MAX_GRID_LAYERS.
 */
export function gridLayers(root: LayerNode, selected: string | null, inputSize?: readonly [number, number]): string[] {
  const leaves = leafLayers(root);
  const stages = stageLayers(leaves, inputSize).map((n) => n.path);
  const first = selected && leaves.some((n) => n.path === selected && n.explainable) ? selected : stages[0];
  if (!first) return [];
  return [first, ...stages.filter((p) => p !== first)].slice(0, MAX_GRID_LAYERS);
}
