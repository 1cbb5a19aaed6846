/**
 * The metrics' arithmetic on hand-made cases with answers worked out by hand: deletion / insertion on
 * a 4×4 "model" whose probability is the mean of a 2×2 region, ROAD's masks and combined score,
 * noisy linear imputation on a linear ramp, the similarity measures.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { curveFractions, orderMasks, relevanceOrder, trapezoidArea } from './curves';
import { scoreFaithfulness, type BatchProbability } from './faithfulness';
import { noisyLinearImputation } from './imputation';
import { ranks, spearman, ssim } from './similarity';
import { centreGaussianMap, randomMap } from './reference-maps';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** The 4×4 one-channel image: the top-left 2×2 region is 1, the rest 0. */
const REGION = [0, 1, 4, 5];
function regionImage(): tf.Tensor4D {
  const data = new Float32Array(16);
  for (const p of REGION) data[p] = 1;
  return tf.tensor4d(data, [1, 4, 4, 1]);
}
/** The "model": probability = mean of the region's pixels. */
const regionMean: BatchProbability = async (batch) => {
  const p = tf.tidy(() => batch.reshape([batch.shape[0], 16]).gather(REGION, 1).mean(1));
  const out = Float32Array.from(await p.data());
  p.dispose();
  return out;
};
/** The region ranked first (4, 3, 2, 1), everything else 0. */
const regionFirst = Float32Array.from({ length: 16 }, (_, i) => (REGION.includes(i) ? 4 - REGION.indexOf(i) : 0));

describe('curves', () => {
  it('orders pixels most relevant first, ties by index', () => {
    expect(Array.from(relevanceOrder([0.1, 0.9, 0.5, 0.9]))).toEqual([1, 3, 2, 0]);
  });

  it('makes MoRF and LeRF masks of the right pixels', () => {
    const order = relevanceOrder([4, 3, 2, 1, 0]);
    expect(Array.from(orderMasks(order, [0, 0.4, 1]))).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1]);
    expect(Array.from(orderMasks(order, [0.4], true))).toEqual([0, 0, 0, 1, 1]);
  });

  it('integrates by the trapezoid rule', () => {
    expect(trapezoidArea([0, 0.5, 1], [1, 0, 1])).toBeCloseTo(0.5, 12);
    expect(trapezoidArea(curveFractions(4), [1, 1, 1, 1, 1])).toBeCloseTo(1, 12);
  });
});

describe('deletion and insertion on the 4×4 region model', () => {
  it('give the curves and areas worked out by hand (mean-colour baseline 0.25)', async () => {
    const input = regionImage();
    const before = tf.memory().numTensors;
    const { probability, scores, forwardPasses } = await scoreFaithfulness({
      input, probability: regionMean, maps: [{ id: 'region', map: regionFirst }], options: { steps: 16, baseline: 'mean', batchSize: 5 },
    });
    expect(tf.memory().numTensors).toBe(before);
    input.dispose();
    expect(probability).toBeCloseTo(1, 6);
    const s = scores.get('region')!;
    // One region pixel per step goes from 1 to the mean colour 0.25: 1, 0.8125, 0.625, 0.4375, then 0.25.
    const deletion = [1, 0.8125, 0.625, 0.4375, ...new Array(13).fill(0.25)];
    s.deletion.y.forEach((y, k) => expect(y).toBeCloseTo(deletion[k]!, 6));
    // (1/16)·[(1 + .8125)/2 + (.8125 + .625)/2 + (.625 + .4375)/2 + (.4375 + .25)/2 + 12 · .25] = 5.5 / 16
    expect(s.deletion.auc).toBeCloseTo(5.5 / 16, 6);
    const insertion = [0.25, 0.4375, 0.625, 0.8125, ...new Array(13).fill(1)];
    s.insertion.y.forEach((y, k) => expect(y).toBeCloseTo(insertion[k]!, 6));
    expect(s.insertion.auc).toBeCloseTo(14.5 / 16, 6);
    // image ⊙ map: the region's pixels become 4, 3, 2, 1 → mean 2.5; the change is 2.5 − 1.
    expect(s.confidenceChange).toBeCloseTo(1.5, 5);
    // 1 original + 2 · 17 curve points + 2 · 9 ROAD images + 1 (image ⊙ map)
    expect(forwardPasses).toBe(1 + 34 + 18 + 1);
  });

  it("measures: 'curves' runs the deletion and insertion images alone", async () => {
    const input = regionImage();
    const { scores, forwardPasses } = await scoreFaithfulness({
      input, probability: regionMean, maps: [{ id: 'region', map: regionFirst }], options: { steps: 16, baseline: 'mean', measures: 'curves' },
    });
    input.dispose();
    expect(forwardPasses).toBe(1 + 2 * 17);
    expect(scores.get('region')!.deletion.auc).toBeCloseTo(5.5 / 16, 6);
    expect(scores.get('region')!.road.morf).toEqual([]);
  });

  it('a map that ranks the region last scores worse on every measure', async () => {
    const input = regionImage();
    const last = regionFirst.map((v) => (v > 0 ? 0 : 1));
    const { scores } = await scoreFaithfulness({
      input, probability: regionMean, maps: [{ id: 'good', map: regionFirst }, { id: 'bad', map: last }], options: { steps: 16, baseline: 'mean' },
    });
    input.dispose();
    const good = scores.get('good')!;
    const bad = scores.get('bad')!;
    expect(good.deletion.auc).toBeLessThan(bad.deletion.auc);
    expect(good.insertion.auc).toBeGreaterThan(bad.insertion.auc);
    expect(good.road.combined).toBeGreaterThan(0);
    expect(bad.road.combined).toBeLessThan(0);
    // ROAD: the region's pixels (most relevant) imputed from zeros around them → lower than LeRF's.
    good.road.morf.forEach((m, k) => expect(m).toBeLessThanOrEqual(good.road.lerf[k]! + 1e-6));
    expect(good.road.percents).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
  });

  it('stops with CANCELLED between batches and leaks nothing', async () => {
    const input = regionImage();
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    let batches = 0;
    const probability: BatchProbability = async (b) => {
      if (++batches === 2) controller.abort();
      return regionMean(b);
    };
    await expect(scoreFaithfulness({ input, probability, maps: [{ id: 'r', map: regionFirst }], options: { batchSize: 4 }, signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(batches).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    input.dispose();
  });
});

describe('noisy linear imputation', () => {
  const width = 8;
  const height = 8;
  const ramp = Float32Array.from({ length: width * height }, (_, p) => 2 * (p % width) + 3 * Math.floor(p / width) + 1);

  it('reproduces a linear ramp exactly inside the image', () => {
    const removed = new Uint8Array(width * height);
    for (let y = 2; y < 6; y++) for (let x = 1; x < 7; x++) removed[y * width + x] = 1;
    const out = noisyLinearImputation(ramp, removed, width, height, 1, { noise: 0, seed: 1 });
    out.forEach((v, p) => expect(v).toBeCloseTo(ramp[p]!, 4));
  });

  it('bends it where a removed pixel lacks neighbours (the border), and keeps known pixels', () => {
    const removed = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) removed[y * width] = 1; // the left column
    const out = noisyLinearImputation(ramp, removed, width, height, 1, { noise: 0, seed: 1 });
    const error = Math.max(...Array.from({ length: height }, (_, y) => Math.abs(out[y * width]! - ramp[y * width]!)));
    expect(error).toBeGreaterThan(0.5);
    for (let p = 0; p < width * height; p++) if (!removed[p]) expect(out[p]).toBe(ramp[p]);
  });

  it('adds seeded noise of the asked size to the imputed pixels only, per channel', () => {
    const rgb = new Float32Array(width * height * 3);
    ramp.forEach((v, p) => rgb.set([v, -v, 5], p * 3));
    const removed = new Uint8Array(width * height);
    for (let y = 2; y < 6; y++) for (let x = 2; x < 6; x++) removed[y * width + x] = 1;
    const a = noisyLinearImputation(rgb, removed, width, height, 3, { noise: 0.5, seed: 3 });
    const b = noisyLinearImputation(rgb, removed, width, height, 3, { noise: 0.5, seed: 3 });
    expect(Array.from(a)).toEqual(Array.from(b));
    let sq = 0;
    let n = 0;
    for (let p = 0; p < width * height; p++) {
      for (let c = 0; c < 3; c++) {
        const d = a[p * 3 + c]! - rgb[p * 3 + c]!;
        if (removed[p]) {
          sq += d * d;
          n++;
        } else {
          expect(d).toBe(0);
        }
      }
    }
    const sigma = Math.sqrt(sq / n);
    expect(sigma).toBeGreaterThan(0.3);
    expect(sigma).toBeLessThan(0.7);
  });
});

describe('similarity', () => {
  it('ranks ties by their mean rank', () => {
    expect(Array.from(ranks([3, 1, 3, 2]))).toEqual([3.5, 1, 3.5, 2]);
  });

  it('Spearman: 1 for a monotone transform, −1 reversed, 0 against a constant', () => {
    const a = [0.1, 0.5, 0.2, 0.9, 0.3];
    expect(spearman(a, a.map((v) => v ** 3 + 2))).toBeCloseTo(1, 12);
    expect(spearman(a, a.map((v) => -v))).toBeCloseTo(-1, 12);
    expect(spearman(a, [1, 1, 1, 1, 1])).toBe(0);
    // n = 4, d = (0, 0, 1, −1): 1 − 6·2 / (4·15) = 0.8
    expect(spearman([1, 2, 3, 4], [1, 2, 4, 3])).toBeCloseTo(0.8, 12);
  });

  it('SSIM: 1 for the same map up to scale, lower for another map', () => {
    const g = centreGaussianMap(16, 16);
    expect(ssim(g, g.map((v) => 3 * v), 16, 16)).toBeCloseTo(1, 6);
    const r = randomMap(16, 16, 5);
    expect(ssim(g, r, 16, 16)).toBeLessThan(0.3);
  });

  it('reference maps: the random one is seeded, the Gaussian peaks in the middle', () => {
    expect(Array.from(randomMap(4, 4, 9))).toEqual(Array.from(randomMap(4, 4, 9)));
    const g = centreGaussianMap(5, 5);
    expect(Math.max(...g)).toBe(g[12]);
  });
});
