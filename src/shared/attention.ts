/**
 * Whether a model has a vision transformer's attention, read from its layer tree (the page has no
 * tensors): a Softmax whose output is square over its last two axes, `[B·heads, N, N]` or
 * `[B, heads, N, N]` — each block's attention over its N tokens. The engine finds the same matrices
 * in the program (src/engine/methods/attention.ts); the picker disables the methods that need them
 * on other models and says why.
 */
import { methodInfo, type MethodId } from './methods';
import type { LayerNode } from './types';

export interface AttentionLayout {
  /** Attention matrices found (one per block). */
  blocks: number;
  /** Tokens each attends over (class / distillation tokens included). */
  tokens: number;
}

/** True for a shape `[…, N, N]` with N ≥ 2 and at least one leading axis. */
export function isAttentionShape(shape: ReadonlyArray<number | null>): boolean {
  if (shape.length < 3) return false;
  const rows = shape[shape.length - 2];
  const cols = shape[shape.length - 1];
  return typeof rows === 'number' && rows >= 2 && rows === cols;
}

/** The attention matrices of a model's tree (Softmax nodes over tokens), or null when it has none. */
export function attentionInTree(tree: LayerNode): AttentionLayout | null {
  let blocks = 0;
  let tokens = 0;
  const visit = (node: LayerNode): void => {
    if (/Softmax$/.test(node.className) && isAttentionShape(node.outputShape)) {
      const n = node.outputShape[node.outputShape.length - 1] ?? 0;
      if (tokens === 0 || n === tokens) {
        tokens = n;
        blocks++;
      }
    }
    node.children?.forEach(visit);
  };
  visit(tree);
  return blocks > 0 ? { blocks, tokens } : null;
}

/** Why a method cannot run on this model (its tree), or null when it can. */
export function methodUnavailableReason(id: MethodId, tree: LayerNode | null | undefined): string | null {
  const info = methodInfo(id);
  if (info.requires !== 'attention' || !tree) return null;
  return attentionInTree(tree) ? null : `${info.label} needs a vision transformer's attention (a Softmax over tokens, [heads, N, N]); this model has none.`;
}

/** The chosen methods this model can run, in order; Grad-CAM when none of them can. */
export function usableMethods(chosen: readonly MethodId[], tree: LayerNode | null | undefined): MethodId[] {
  const usable = chosen.filter((m) => methodUnavailableReason(m, tree) === null);
  return usable.length > 0 || chosen.length === 0 ? usable : ['gradcam'];
}
