import { describe, expect, it } from 'vitest';
import type { MapFaithfulness } from './metrics';
import { readFaithfulness } from './faithfulness-reading';

function scores(deletion: number, insertion: number, road: number, confidence: number): MapFaithfulness {
  const curve = (auc: number) => ({ x: [0, 1], y: [auc, auc], auc });
  return { deletion: curve(deletion), insertion: curve(insertion), road: { percents: [], morf: [], lerf: [], combined: road }, confidenceChange: confidence };
}

const random = scores(0.5, 0.6, 0.05, -0.2);
const centre = scores(0.4, 0.926, 0.279, 0.1);

describe('readFaithfulness', () => {
  it('Grad-CAM on the Teachable Machine export: below the centre prior on insertion and ROAD', () => {
    const reading = readFaithfulness(scores(0.3, 0.918, 0.239, 0.2), random, centre);
    expect(reading.belowCentre).toEqual(['insertion', 'road']);
    expect(reading.beatsBoth).toEqual(['deletion', 'confidence']);
    expect(reading.text).toBe('below the centre prior on insertion and ROAD: this map adds little beyond “the object is in the middle”.');
  });
  it('a map that beats both references everywhere says so', () => {
    expect(readFaithfulness(scores(0.1, 0.95, 0.4, 0.3), random, centre).text).toBe('beats both the random map and the centre prior on every score.');
  });
  it('a map worse than chance says that first; deletion counts lower as better', () => {
    const reading = readFaithfulness(scores(0.55, 0.7, 0.3, 0.2), random, centre);
    expect(reading.belowRandom).toEqual(['deletion']);
    expect(reading.belowCentre).toEqual(['insertion']);
    expect(reading.text).toMatch(/^no better than the random map on deletion: .*; beats the random map, but the centre prior beats it on insertion \(it beats both on ROAD and confidence change\)\.$/);
  });
  it('unmeasured scores (NaN) are left out', () => {
    const reading = readFaithfulness(scores(0.1, 0.95, Number.NaN, Number.NaN), random, centre);
    expect(reading.beatsBoth).toEqual(['deletion', 'insertion']);
    expect(reading.text).toBe('beats both the random map and the centre prior on deletion and insertion.');
  });
});

describe('one score below the centre prior', () => {
  it('is a caveat, not "adds little"', () => {
    // The demo's figures: Grad-CAM, the random map, the centre Gaussian.
    const reading = readFaithfulness(scores(0.048, 0.641, 0.339, -0.5), scores(0.152, 0.159, -0.059, -0.598), scores(0.215, 0.383, 0.077, -0.15));
    expect(reading.text).toBe('beats the random map, but the centre prior beats it on confidence change (it beats both on deletion, insertion and ROAD).');
  });
});
