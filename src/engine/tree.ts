/**
 * The layer tree a person sees (outer model → nested models → layers, any depth), built from the
 * compiled program so that every path in the tree is exactly a slot the executor can target.
 */
import type { LayerNode } from '../shared/types';
import type { Program, ProgramTreeNode } from './executor/program';

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
    ...(node.displayShape ? { displayShape: node.displayShape } : {}),
    params,
    explainable: node.outputShape.length === 4 && node.outputSlot >= 0 && node.className !== 'InputLayer',
  };
  if (out.explainable && !isSpatialMap(node.outputShape)) out.note = ONE_BY_ONE_NOTE;
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

/** Why a 1×1 (or 1×N) layer is allowed but not useful: the tree's tooltip. */
export const ONE_BY_ONE_NOTE = 'Its output has no height × width to speak of (1 pixel high or wide): a Grad-CAM map here is one flat colour. Pick a layer with a larger spatial output.';

/** Rank 4 with height and width both above 1: a map worth drawing. */
export function isSpatialMap(shape: readonly (number | null)[]): boolean {
  return shape.length === 4 && (shape[1] ?? 0) > 1 && (shape[2] ?? 0) > 1;
}

/** Steps that only rearrange their input's values (a reshape of it is the same map). */
const RESHAPES = new Set(['Reshape', 'Flatten', 'Permute', 'Dropout', 'SpatialDropout2D']);

/**
 * Default target: the last LEAF call in execution order whose output is a map (height and width
 * both > 1), wherever it is nested — the last spatial layer before the head. A reshape of an earlier
 * step's output counts as that step. 1×1 outputs (MobileNet's pooled `reshape_1`, `conv_preds`) are
 * never the default. Null when no layer is spatial.
 */
export function defaultLayerPath(program: Program): string | null {
  for (let i = program.steps.length - 1; i >= 0; i--) {
    let step = program.steps[i]!;
    if (!isSpatialMap(step.outputShape)) continue;
    for (;;) {
      const source = RESHAPES.has(step.layer.getClassName()) && step.inputs.length === 1 ? program.steps.find((s) => s.outputs.includes(step.inputs[0]!)) : undefined;
      if (!source || !isSpatialMap(source.outputShape)) break;
      step = source;
    }
    return step.path;
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
