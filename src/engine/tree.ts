/**
 * The layer tree a person sees (outer model → nested models → layers, any depth), built from the
 * compiled program so that every path in the tree is exactly a slot the executor can target.
 */
import type { LayerNode } from '../shared/types';
import type { Program, ProgramTreeNode } from './program';

function countParams(node: ProgramTreeNode): number {
  try {
    return node.layer.countParams();
  } catch {
    return 0; // an unbuilt layer has no weights yet
  }
}

function toLayerNode(node: ProgramTreeNode, seen: Set<unknown>): LayerNode {
  // A layer that runs twice shows its weights once: later calls count 0 extra parameters.
  const params = seen.has(node.layer) ? 0 : countParams(node);
  seen.add(node.layer);
  const out: LayerNode = {
    path: node.path,
    name: node.name,
    className: node.className,
    outputShape: node.outputShape,
    params,
    explainable: node.outputShape.length === 4 && node.outputSlot >= 0 && node.className !== 'InputLayer',
  };
  if (node.kind === 'model') out.children = (node.children ?? []).map((c) => toLayerNode(c, seen));
  return out;
}

export function buildLayerTree(program: Program): LayerNode {
  return toLayerNode(program.tree, new Set());
}

/** Every node of the tree, depth first. */
export function flattenTree(node: LayerNode): LayerNode[] {
  return [node, ...(node.children ?? []).flatMap(flattenTree)];
}

/**
 * Default target: the last explainable LEAF call in execution order — the last spatial layer before
 * the head, wherever it is nested. Null when no layer is spatial.
 */
export function defaultLayerPath(program: Program): string | null {
  for (let i = program.steps.length - 1; i >= 0; i--) {
    const step = program.steps[i];
    if (step.outputShape.length === 4) return step.path;
  }
  return null;
}

/** Find a node by path; also accepts a unique bare layer name (`out_relu`) or a unique path suffix. */
export function resolveLayerPath(tree: LayerNode, query: string): LayerNode | null {
  const all = flattenTree(tree);
  const exact = all.find((n) => n.path === query);
  if (exact) return exact;
  const bySuffix = all.filter((n) => n.path.endsWith(`/${query}`));
  return bySuffix.length === 1 ? bySuffix[0] : null;
}
