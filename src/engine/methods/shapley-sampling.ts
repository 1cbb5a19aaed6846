/**
 * Shapley value sampling (Castro et al., Computers & OR 2009; as Captum's ShapleyValueSampling over a
 * feature mask): the Shapley values of the M SLIC superpixels for v(z) = S(z ⊙ x + (1 − z) ⊙ x′),
 * estimated over n random orders π of the segments (seeded per order): segments join one by one,
 * each credited with the score change it causes,
 *   φ_j = (1/n) Σ_π [v(P_π(j) ∪ {j}) − v(P_π(j))],   P_π(j) = the segments before j in π.
 * Unbiased, and it converges to the exact values (the tests check it against enumeration). Each order
 * costs M − 1 forward passes (the empty and full coalitions are shared by all orders), in batches.
 */
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import { coalitionMasks, imageScore, inputSegments, maskedScores, perturbationBaseline, sampleRandom, segmentMap } from './perturbation';
import type { Segmentation } from './superpixels';

const ORDER_SEED = 32_452_843;

/** Order i of M players (exported for the tests). */
export function samplingOrder(players: number, index: number): number[] {
  const random = sampleRandom(ORDER_SEED, index);
  const order = Array.from({ length: players }, (_, j) => j);
  for (let i = players - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i] ?? 0;
    order[i] = order[j] ?? 0;
    order[j] = t;
  }
  return order;
}

/** φ for every segment (exported for the tests). */
export async function shapleySamplingValues(ctx: ExplainContext, segmentation: Segmentation): Promise<Float64Array> {
  const { labels, count } = segmentation;
  const orders = Number(ctx.options.permutations ?? 25);
  const inner = Math.max(0, count - 1); // prefixes of sizes 1 … M − 1
  const prefix = (row: number): Float32Array => {
    // Row 0: the empty coalition; row 1 + o·inner + (k − 1): the first k players of order o.
    const z = new Float32Array(count);
    if (row === 0) return z;
    const o = Math.floor((row - 1) / inner);
    const k = ((row - 1) % inner) + 1;
    const order = samplingOrder(count, o);
    for (let i = 0; i < k; i++) z[order[i] ?? 0] = 1;
    return z;
  };
  const full = await imageScore(ctx);
  const baseline = perturbationBaseline(ctx);
  let scores: Float32Array;
  try {
    scores = await maskedScores(ctx, 1 + orders * inner, (first, n) => coalitionMasks(labels, prefix, first, n), baseline);
  } finally {
    baseline.dispose();
  }
  const empty = scores[0] ?? 0;
  const phi = new Float64Array(count);
  for (let o = 0; o < orders; o++) {
    const order = samplingOrder(count, o);
    let before = empty;
    for (let k = 1; k <= count; k++) {
      const after = k === count ? full : (scores[1 + o * inner + (k - 1)] ?? 0);
      const player = order[k - 1] ?? 0;
      phi[player] = (phi[player] ?? 0) + (after - before) / orders;
      before = after;
    }
  }
  return phi;
}

export const shapleySampling: MethodImplementation = {
  id: 'shapley-sampling',
  async run(ctx) {
    const segmentation = await inputSegments(ctx);
    const phi = await shapleySamplingValues(ctx, segmentation);
    return segmentMap(segmentation.labels, phi, segmentation.height, segmentation.width);
  },
};
