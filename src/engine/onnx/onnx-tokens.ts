/**
 * Vision transformers' tokens as maps. A `[B, N, C]` token tensor with N = k + h·w (k = 0, 1 or 2
 * leading class / distillation tokens, h×w the patch grid of the patch-embedding conv) is what
 * pytorch-grad-cam's hand-written `reshape_transform` turns into a map. Here the translation does it
 * for the output of each block's first LayerNorm (`ln_1` in torchvision, `norm1` in timm: the layer
 * pytorch-grad-cam recommends, `blocks[-1].norm1`): the tokens go through an explainable grid node
 * `[B, h, w, C]` and are joined back, so the gradient at the grid is the gradient at the patch
 * tokens and every method runs there as on a CNN map. Later tokens of the last block no longer reach
 * the class token, which is why the block's first LayerNorm, not its output, is the default.
 */
import * as tf from '@tensorflow/tfjs';
import type { Program } from '../executor/program';

/** Module names whose output is a token map. */
const TOKEN_SCOPES = /^(ln_1|norm1)$/;

/** Indexes of the last node of every `ln_1` / `norm1` module (its output is the module's). */
export function tokenScopeEnds(names: string[]): Set<number> {
  const last = new Map<string, number>();
  names.forEach((name, i) => {
    const parts = name.split('/').filter(Boolean);
    const scope = parts[parts.length - 2];
    if (scope && TOKEN_SCOPES.test(scope)) last.set(parts.slice(0, -1).join('/'), i);
  });
  return new Set(last.values());
}

/** The patch grid of a patch-embedding conv (kernel = stride > 1), from its output [1, C, h, w]. */
export function patchGrid(kernel: number[], strides: number[], outShape: number[] | null): [number, number] | null {
  const [k0 = 0, k1 = 0] = kernel;
  const [s0 = 1, s1 = 1] = strides;
  if (!outShape || outShape.length !== 4 || k0 !== s0 || k1 !== s1 || s0 < 2) return null;
  return [outShape[2] ?? 0, outShape[3] ?? 0];
}

/** Extra leading tokens when `n` tokens hold an h×w grid, else null. */
export function extraTokens(n: number, grid: [number, number]): number | null {
  const extra = n - grid[0] * grid[1];
  return extra >= 0 && extra <= 2 ? extra : null;
}

export function tokensToGrid(tokens: tf.Tensor, grid: [number, number], extra: number): tf.Tensor {
  const c = tokens.shape[2] ?? 1;
  return tf.reshape(tf.slice(tokens, [0, extra, 0], [-1, -1, -1]), [-1, grid[0], grid[1], c]);
}

export function gridToTokens(tokens: tf.Tensor, map: tf.Tensor, extra: number): tf.Tensor {
  const [b = 1, h = 1, w = 1, c = 1] = map.shape;
  const patches = tf.reshape(map, [b, h * w, c]);
  return extra > 0 ? tf.concat([tf.slice(tokens, [0, 0, 0], [-1, extra, -1]), patches], 1) : patches;
}

/** True when `slot` is a token grid made here (an `OnnxTokenGrid` step): its h×w positions are patch tokens. */
export function isTokenGridSlot(program: Program, slot: number): boolean {
  const step = program.steps.find((s) => s.outputs.includes(slot));
  return (step?.layer as { op?: unknown } | undefined)?.op === 'OnnxTokenGrid';
}
