/**
 * Occlusion (Zeiler & Fergus, ECCV 2014; as Captum's Occlusion): a w × w window slides over the image
 * with stride s, each position replaced by the baseline x′; a pixel's attribution is the mean drop of
 * the class score over the windows that cover it:
 *   a(p) = (1/|W_p|) Σ_{w ∈ W_p} (S(x) − S(x with window w set to x′)),
 * shown as ReLU(a) (the evidence for the class; the counterfactual's negated score gives the evidence
 * against). Window positions run 0, s, 2s, … and one more at the far edge when the stride skips it, so
 * every pixel is covered. One forward pass per window position, in batches.
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import { imageScore, maskedScores, perturbationBaseline } from './perturbation';

/** Window starts along an axis of `size` pixels: 0, stride, …, and size − window when the stride skips it. */
export function windowStarts(size: number, window: number, stride: number): number[] {
  const starts: number[] = [];
  for (let s = 0; s + window <= size; s += stride) starts.push(s);
  const last = starts[starts.length - 1] ?? 0;
  if (last + window < size) starts.push(size - window);
  return starts;
}

/** The occlusion windows of the context's options: [y0, x0, size]. */
export function occlusionWindows(ctx: ExplainContext): Array<[number, number, number]> {
  const [, height, width] = ctx.input.shape;
  const size = Math.max(1, Math.min(Number(ctx.options.window ?? 16), height, width));
  const stride = Math.max(1, Number(ctx.options.stride ?? 8));
  const out: Array<[number, number, number]> = [];
  for (const y of windowStarts(height, size, stride)) for (const x of windowStarts(width, size, stride)) out.push([y, x, size]);
  return out;
}

/** The signed attribution a(p), [H · W] (exported for the tests). */
export async function occlusionAttribution(ctx: ExplainContext): Promise<Float32Array> {
  const [, height, width] = ctx.input.shape;
  const windows = occlusionWindows(ctx);
  const masks = (first: number, count: number) => {
    const out = new Float32Array(count * height * width).fill(1);
    for (let r = 0; r < count; r++) {
      const [y0, x0, size] = windows[first + r] ?? [0, 0, 0];
      for (let y = y0; y < y0 + size; y++) out.fill(0, r * height * width + y * width + x0, r * height * width + y * width + x0 + size);
    }
    return out;
  };
  const score = await imageScore(ctx);
  const baseline = perturbationBaseline(ctx);
  let scores: Float32Array;
  try {
    scores = await maskedScores(ctx, windows.length, masks, baseline);
  } finally {
    baseline.dispose();
  }
  const sum = new Float64Array(height * width);
  const covered = new Float64Array(height * width);
  windows.forEach(([y0, x0, size], i) => {
    const drop = score - (scores[i] ?? 0);
    for (let y = y0; y < y0 + size; y++) for (let x = x0; x < x0 + size; x++) {
      sum[y * width + x] = (sum[y * width + x] ?? 0) + drop;
      covered[y * width + x] = (covered[y * width + x] ?? 0) + 1;
    }
  });
  return Float32Array.from(sum, (s, p) => ((covered[p] ?? 0) > 0 ? s / (covered[p] ?? 1) : 0));
}

export const occlusion: MethodImplementation = {
  id: 'occlusion',
  async run(ctx) {
    const [, height, width] = ctx.input.shape;
    const a = await occlusionAttribution(ctx);
    return tf.tensor2d(a.map((v) => Math.max(0, v)), [height, width]);
  },
};
