/**
 * Feature ablation over superpixels (Captum's FeatureAblation with a feature mask): the image is cut
 * into M SLIC superpixels (superpixels.ts); segment j's attribution is the drop of the class score when
 * it alone is replaced by the baseline,
 *   a_j = S(x) − S(x with segment j set to x′),
 * painted onto its pixels and shown as ReLU(a). One forward pass per segment, in batches.
 */
import type { MethodImplementation } from './types';
import type { ExplainContext } from './context';
import { coalitionMasks, imageScore, inputSegments, maskedScores, perturbationBaseline, segmentMap } from './perturbation';
import type { Segmentation } from './superpixels';

/** a_j for every segment (exported for the tests). */
export async function featureAblationValues(ctx: ExplainContext, segmentation: Segmentation): Promise<Float64Array> {
  const { labels, count } = segmentation;
  const score = await imageScore(ctx);
  const baseline = perturbationBaseline(ctx);
  try {
    const dropOne = (row: number) => Float32Array.from({ length: count }, (_, j) => (j === row ? 0 : 1));
    const scores = await maskedScores(ctx, count, (first, n) => coalitionMasks(labels, dropOne, first, n), baseline);
    return Float64Array.from(scores, (s) => score - s);
  } finally {
    baseline.dispose();
  }
}

export const featureAblation: MethodImplementation = {
  id: 'feature-ablation',
  async run(ctx) {
    const segmentation = await inputSegments(ctx);
    const values = await featureAblationValues(ctx, segmentation);
    return segmentMap(segmentation.labels, values, segmentation.height, segmentation.width);
  },
};
