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
    expect(reading.text).toMatch(/^no better than the random map on deletion: .*; below the centre prior on insertion: elsewhere it adds little/);
  });
  it('unmeasured scores (NaN) are left out', () => {
    const reading = readFaithfulness(scores(0.1, 0.95, Number.NaN, Number.NaN), random, centre);
    expect(reading.beatsBoth).toEqual(['deletion', 'insertion']);
    expect(reading.text).toBe('beats both the random map and the centre prior on deletion and insertion.');
  });
});
