/** Plain helpers over the model's LayerNode tree, shared by the store and the tree view. */
import type { LayerNode } from '../shared/types';

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

/** Class index from what a person typed: an index ("3") or a label (exact, then case-insensitive). */
export function resolveClass(query: number | string, labels: string[]): number | null {
  if (typeof query === 'number') return Number.isInteger(query) && query >= 0 && query < labels.length ? query : null;
  const text = query.trim();
  if (!text) return null;
  const exact = labels.indexOf(text);
  if (exact >= 0) return exact;
  const lower = text.toLowerCase();
  const loose = labels.findIndex((l) => l.trim().toLowerCase() === lower);
  if (loose >= 0) return loose;
  if (/^\d+$/.test(text)) {
    const i = Number(text);
    return i < labels.length ? i : null;
  }
  return null;
}
