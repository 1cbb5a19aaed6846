/**
 * Attention-based maps for vision transformers, from the attention matrices the program computes
 * (each block's Softmax over tokens, `[B·heads, N, N]` or `[B, heads, N, N]`):
 * - attention rollout (Abnar & Zuidema 2020), as jacobgil/vit-explain writes it: heads fused
 *   (mean / max / min), the lowest `discard` share of the fused matrix set to 0 (never the class
 *   token's own entry), (A + I) / 2 with rows renormalised, multiplied through the blocks; the class
 *   token's row over the patch tokens is the map;
 * - gradient-weighted rollout (Chefer et al. 2021): Ā = mean over heads of ReLU(∇A ⊙ A), R ← R + Ā·R
 *   from R = I; class-specific.
 * The patch grid and the leading extra tokens come from the token-grid node (onnx-tokens.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { Program } from '../executor/program';

export interface AttentionSite {
  /** The slots of the attention matrices, in block order. */
  slots: number[];
  /** Tokens per side of the patch grid. */
  grid: [number, number];
  /** Leading tokens before the patches (class, distillation). */
  extra: number;
}

export type HeadFusion = 'mean' | 'max' | 'min';

function opOf(layer: unknown): string {
  const l = layer as { op?: unknown; getClassName?: () => string };
  return typeof l.op === 'string' ? l.op : (l.getClassName?.() ?? '');
}

/** The attention matrices of a transformer program, or null when it has none (a CNN). */
export function findAttention(program: Program, values: ReadonlyArray<tf.Tensor | undefined>): AttentionSite | null {
  const gridStep = program.steps.find((s) => opOf(s.layer) === 'OnnxTokenGrid');
  const slots: number[] = [];
  let n = 0;
  for (const step of program.steps) {
    if (!/Softmax$/.test(opOf(step.layer))) continue;
    const slot = step.outputs[0];
    const v = slot === undefined ? undefined : values[slot];
    if (slot === undefined || !v || v.rank < 3) continue;
    const [rows = 0, cols = 0] = v.shape.slice(-2);
    if (rows !== cols || rows < 2 || (n && rows !== n)) continue;
    n = rows;
    slots.push(slot);
  }
  if (slots.length === 0) return null;
  const [, h = 0, w = 0] = gridStep?.outputShape ?? [];
  if (h && w && n - h * w >= 0) return { slots, grid: [h, w], extra: n - h * w };
  const side = Math.round(Math.sqrt(n - 1));
  return side * side === n - 1 ? { slots, grid: [side, side], extra: 1 } : null;
}

/** One image's heads of an attention matrix: [heads, N, N]. */
function heads(att: tf.Tensor): tf.Tensor3D {
  const n = att.shape[att.rank - 1] ?? 1;
  return tf.reshape(att.rank === 4 ? tf.slice(att, [0, 0, 0, 0], [1, -1, -1, -1]) : att, [-1, n, n]) as tf.Tensor3D;
}

function patchRow(r: tf.Tensor2D, site: AttentionSite): tf.Tensor2D {
  return tf.reshape(tf.slice(r, [0, site.extra], [1, -1]), site.grid) as tf.Tensor2D;
}

/** Attention rollout at the grid's resolution, [h, w] (not normalised). */
export function attentionRollout(attentions: tf.Tensor[], site: AttentionSite, fusion: HeadFusion, discard: number): tf.Tensor2D {
  return tf.tidy(() => {
    const n = attentions[0]?.shape[attentions[0].rank - 1] ?? 1;
    const eye = tf.eye(n);
    let result: tf.Tensor2D = eye;
    for (const att of attentions) {
      const h = heads(att);
      let fused = (fusion === 'max' ? tf.max(h, 0) : fusion === 'min' ? tf.min(h, 0) : tf.mean(h, 0)) as tf.Tensor2D;
      const k = Math.floor(n * n * discard);
      if (k > 0) {
        const flat = fused.dataSync();
        const order = Array.from(flat.keys()).sort((a, b) => (flat[a] ?? 0) - (flat[b] ?? 0)).slice(0, k);
        const keep = new Float32Array(n * n).fill(1);
        for (const i of order) if (i !== 0) keep[i] = 0;
        fused = tf.mul(fused, tf.tensor2d(keep, [n, n]));
      }
      const a = tf.div(tf.add(fused, eye), 2);
      result = tf.matMul(tf.div(a, tf.sum(a, -1, true)), result);
    }
    return patchRow(tf.slice(result, [0, 0], [1, -1]), site);
  });
}

/** Gradient-weighted rollout at the grid's resolution, [h, w]; `gradients[i]` is ∂score/∂attentions[i]. */
export function gradientRollout(attentions: tf.Tensor[], gradients: tf.Tensor[], site: AttentionSite): tf.Tensor2D {
  return tf.tidy(() => {
    const n = attentions[0]?.shape[attentions[0].rank - 1] ?? 1;
    let r: tf.Tensor2D = tf.eye(n);
    attentions.forEach((att, i) => {
      const g = gradients[i];
      if (!g) return;
      const cam = tf.mean(tf.relu(tf.mul(heads(g), heads(att))), 0) as tf.Tensor2D;
      r = tf.add(r, tf.matMul(cam, r));
    });
    return patchRow(tf.slice(r, [0, 0], [1, -1]), site);
  });
}
