/**
 * KernelSHAP (Lundberg & Lee, NeurIPS 2017, arXiv:1705.07874; as Captum's KernelShap over a feature
 * mask): the Shapley values φ of the M SLIC superpixels for the game v(z) = S(z ⊙ x + (1 − z) ⊙ x′)
 * are the weighted least-squares fit
 *   min_φ Σ_z π(z) (v(z) − v(∅) − z · φ)²,   π(z) = (M − 1) / (C(M, |z|) · |z| · (M − |z|)),
 * under the efficiency constraint Σ φ = v(1) − v(∅), enforced exactly (one unknown eliminated) rather
 * than by a large weight. When 2^M − 2 ≤ samples every coalition is enumerated and φ are the exact
 * Shapley values (the tests check this against enumeration); otherwise coalitions are sampled with
 * sizes k ∝ (M − 1)/(k (M − k)) and uniform members, each with weight 1, in complementary pairs (as
 * the shap package does), seeded per pair. Painted onto the segments, shown as ReLU(φ). One forward
 * pass per coalition (and one for the baseline), in batches.
 */
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import { coalitionMasks, imageScore, inputSegments, maskedScores, perturbationBaseline, sampleRandom, segmentMap } from './perturbation';
import type { Segmentation } from './superpixels';
import { weightedLeastSquares } from './linear-solve';

const SHAP_SEED = 15_485_863;

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

/** The Shapley kernel weight of a coalition of `size` among `players`. */
export function shapleyKernel(players: number, size: number): number {
  return (players - 1) / (binomial(players, size) * size * (players - size));
}

/** The coalitions and their regression weights: every proper non-empty one when they are few enough, else `samples` drawn. */
export function kernelShapCoalitions(players: number, samples: number): { coalitions: Float32Array[]; weights: number[]; exact: boolean } {
  const coalitions: Float32Array[] = [];
  const weights: number[] = [];
  if (players <= 20 && 2 ** players - 2 <= samples) {
    for (let bits = 1; bits < 2 ** players - 1; bits++) {
      const z = Float32Array.from({ length: players }, (_, j) => (bits >> j) & 1);
      coalitions.push(z);
      weights.push(shapleyKernel(players, z.reduce((a, b) => a + b, 0)));
    }
    return { coalitions, weights, exact: true };
  }
  const sizeMass = Array.from({ length: players - 1 }, (_, i) => (players - 1) / ((i + 1) * (players - i - 1)));
  const totalMass = sizeMass.reduce((a, b) => a + b, 0);
  for (let pair = 0; coalitions.length < samples; pair++) {
    const random = sampleRandom(SHAP_SEED, pair);
    let u = random() * totalMass;
    let size = 1;
    for (let i = 0; i < sizeMass.length; i++) {
      u -= sizeMass[i] ?? 0;
      if (u <= 0) {
        size = i + 1;
        break;
      }
    }
    // A uniform subset of `size` members: a partial Fisher–Yates shuffle.
    const order = Array.from({ length: players }, (_, j) => j);
    const z = new Float32Array(players);
    for (let i = 0; i < size; i++) {
      const pick = i + Math.floor(random() * (players - i));
      const t = order[i] ?? 0;
      order[i] = order[pick] ?? 0;
      order[pick] = t;
      z[order[i] ?? 0] = 1;
    }
    coalitions.push(z);
    weights.push(1);
    if (coalitions.length < samples) {
      coalitions.push(z.map((v) => 1 - v));
      weights.push(1);
    }
  }
  return { coalitions, weights, exact: false };
}

/**
 * φ from the game's values: `empty` = v(∅), `full` = v(1), `values[i]` = v(coalitions[i]); the efficiency
 * constraint eliminates the last player. (Exported for the tests.)
 */
export function constrainedShapleyFit(coalitions: readonly Float32Array[], values: ArrayLike<number>, weights: readonly number[], empty: number, full: number): Float64Array {
  const players = coalitions[0]?.length ?? 0;
  const gain = full - empty;
  if (players <= 1) return Float64Array.from({ length: players }, () => gain);
  const last = players - 1;
  const rows = coalitions.map((z) => Float64Array.from({ length: last }, (_, j) => (z[j] ?? 0) - (z[last] ?? 0)));
  const y = coalitions.map((z, i) => (values[i] ?? 0) - empty - (z[last] ?? 0) * gain);
  const head = weightedLeastSquares(rows, y, weights, last, 1e-12);
  const phi = new Float64Array(players);
  phi.set(head);
  phi[last] = gain - head.reduce((a, b) => a + b, 0);
  return phi;
}

/** φ for every segment (exported for the tests). */
export async function kernelShapValues(ctx: ExplainContext, segmentation: Segmentation): Promise<{ phi: Float64Array; exact: boolean }> {
  const { labels, count } = segmentation;
  const { coalitions, weights, exact } = kernelShapCoalitions(count, Number(ctx.options.samples ?? 512));
  const full = await imageScore(ctx);
  const baseline = perturbationBaseline(ctx);
  let scores: Float32Array;
  try {
    // Row 0: the empty coalition (the baseline image); then the coalitions.
    const empty = new Float32Array(count);
    scores = await maskedScores(ctx, coalitions.length + 1, (first, n) => coalitionMasks(labels, (i) => (i === 0 ? empty : coalitions[i - 1] ?? empty), first, n), baseline);
  } finally {
    baseline.dispose();
  }
  return { phi: constrainedShapleyFit(coalitions, scores.subarray(1), weights, scores[0] ?? 0, full), exact };
}

export const kernelShap: MethodImplementation = {
  id: 'kernel-shap',
  async run(ctx) {
    const segmentation = await inputSegments(ctx);
    const { phi } = await kernelShapValues(ctx, segmentation);
    return segmentMap(segmentation.labels, phi, segmentation.height, segmentation.width);
  },
};
