/**
 * A model with an op that has no gradient (a hand-written graph with DepthToSpace): the load-time
 * probe says so, the gradient methods are skipped with the reason (alone they fail with
 * GRADIENT_UNSUPPORTED), and Occlusion and RISE still explain it — Occlusion equal to a plain loop
 * over tfjs-converter's own execute.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { loadedModelFromOpened } from './model';
import { noGradientGraph } from './node/no-gradient-graph';
import { preprocessImage } from './preprocess';
import { testImage } from '../test-support/test-models';
import { pearson } from '../test-support/method-reference';
import { methodsWithoutGradients } from './gradient-support';
import { StudioError } from '../shared/errors';
import type { HeatmapMethodMap } from '../shared/types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const IMAGE = testImage();

describe('a model whose gradient cannot be taken', () => {
  it('is probed at load; the gradient methods are skipped with the reason; Occlusion and RISE explain it', async () => {
    const { opened } = await noGradientGraph();
    const lm = await loadedModelFromOpened(opened);
    const support = lm.summary.gradients;
    expect(support?.supported).toBe(false);
    expect(support && !support.supported && support.op).toContain('DepthToSpace');

    const r = await lm.explain(IMAGE, { methods: ['gradcam', 'occlusion', 'rise'], target: 2, methodOptions: { occlusion: { window: 4, stride: 2, baseline: 'zero' }, rise: { samples: 50 } } });
    expect(r.maps.gradcam).toBeUndefined();
    expect(r.warnings.map((w) => w.code)).toContain('GRADIENT_METHODS_SKIPPED');
    const occlusion = r.maps.occlusion as HeatmapMethodMap;
    expect(Math.max(...occlusion.map.data)).toBeGreaterThan(0);
    expect(Math.max(...(r.maps.rise as HeatmapMethodMap).map.data)).toBeGreaterThan(0);

    // Occlusion = a plain loop over tfjs-converter's execute (the graph as the converter runs it).
    const graph = await tf.loadGraphModel(tf.io.fromMemory(opened.artifacts));
    const x = preprocessImage(IMAGE, lm.summary.imageSize, lm.summary.preprocess);
    const [, height, width, channels] = x.shape;
    const xd = x.dataSync();
    const logit = (data: Float32Array) => tf.tidy(() => {
      const out = graph.execute(tf.tensor4d(data, [1, height, width, channels]), 'StatefulPartitionedCall/shuffle/dense/BiasAdd') as tf.Tensor;
      return out.dataSync()[2] ?? 0;
    });
    const full = logit(Float32Array.from(xd));
    const sum = new Float64Array(height * width);
    const covered = new Float64Array(height * width);
    const starts = [0, 2, 4];
    for (const y0 of starts) for (const x0 of starts) {
      const occluded = Float32Array.from(xd);
      for (let y = y0; y < y0 + 4; y++) for (let xx = x0; xx < x0 + 4; xx++) for (let c = 0; c < channels; c++) occluded[(y * width + xx) * channels + c] = 0;
      const drop = full - logit(occluded);
      for (let y = y0; y < y0 + 4; y++) for (let xx = x0; xx < x0 + 4; xx++) {
        sum[y * width + xx] = (sum[y * width + xx] ?? 0) + drop;
        covered[y * width + xx] = (covered[y * width + xx] ?? 0) + 1;
      }
    }
    const reference = Float64Array.from(sum, (s, p) => Math.max(0, s / (covered[p] ?? 1)));
    expect(pearson(occlusion.map.data, reference)).toBeGreaterThanOrEqual(0.999);

    // Gradient methods alone: GRADIENT_UNSUPPORTED, naming the op.
    let error: unknown = null;
    try {
      await lm.explain(IMAGE, { methods: ['gradcam', 'vanilla-gradient'] });
    } catch (e) {
      error = e;
    }
    expect(error instanceof StudioError && error.code).toBe('GRADIENT_UNSUPPORTED');
    expect(String((error as Error).message)).toContain('DepthToSpace');
    x.dispose();
    graph.dispose();
    lm.dispose();
  });

  it('methodsWithoutGradients keeps what needs no gradient (nor uses a method that does)', () => {
    const none = { supported: false as const, op: 'X', message: '' };
    expect(methodsWithoutGradients(['gradcam', 'occlusion', 'guided-gradcam', 'scorecam', 'eigencam'], none)).toEqual({ runnable: ['occlusion', 'scorecam', 'eigencam'], skipped: ['gradcam', 'guided-gradcam'] });
    expect(methodsWithoutGradients(['gradcam'], { supported: true }).skipped).toEqual([]);
    expect(methodsWithoutGradients(['gradcam'], undefined).runnable).toEqual(['gradcam']);
  });
});
