/**
 * A one-line reading of a method's faithfulness scores against the two reference maps: a random map
 * (what chance gives) and a centre Gaussian (what "the object is in the middle" gives). A score only
 * means something beside them: on the Teachable Machine export the centre Gaussian beat Grad-CAM on
 * insertion (0.926 vs 0.918) and ROAD (0.279 vs 0.239).
 */
import type { MapFaithfulness } from './metrics';

export type ScoreId = 'deletion' | 'insertion' | 'road' | 'confidence';

export const SCORE_NAMES: Record<ScoreId, string> = { deletion: 'deletion', insertion: 'insertion', road: 'ROAD', confidence: 'confidence change' };

/** Each score with its direction: deletion is better low, the others high. */
function scores(m: MapFaithfulness): Record<ScoreId, { value: number; lowerIsBetter: boolean }> {
  return {
    deletion: { value: m.deletion.auc, lowerIsBetter: true },
    insertion: { value: m.insertion.auc, lowerIsBetter: false },
    road: { value: m.road.combined, lowerIsBetter: false },
    confidence: { value: m.confidenceChange, lowerIsBetter: false },
  };
}

export interface FaithfulnessReading {
  /** Scores on which the map does worse than the random map. */
  belowRandom: ScoreId[];
  /** Scores on which it beats the random map but not the centre Gaussian. */
  belowCentre: ScoreId[];
  /** Scores on which it beats both references. */
  beatsBoth: ScoreId[];
  text: string;
}

const list = (ids: ScoreId[]) => {
  const names = ids.map((id) => SCORE_NAMES[id]);
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''}`;
};

/** How `method` compares with the `random` and `centre` references, score by score (unmeasured scores, NaN, are left out). */
export function readFaithfulness(method: MapFaithfulness, random: MapFaithfulness, centre: MapFaithfulness): FaithfulnessReading {
  const m = scores(method);
  const r = scores(random);
  const c = scores(centre);
  const reading: FaithfulnessReading = { belowRandom: [], belowCentre: [], beatsBoth: [], text: '' };
  for (const id of Object.keys(m) as ScoreId[]) {
    const { value, lowerIsBetter } = m[id];
    if (!Number.isFinite(value) || !Number.isFinite(r[id].value) || !Number.isFinite(c[id].value)) continue;
    const beats = (other: number) => (lowerIsBetter ? value < other : value > other);
    if (!beats(r[id].value)) reading.belowRandom.push(id);
    else if (!beats(c[id].value)) reading.belowCentre.push(id);
    else reading.beatsBoth.push(id);
  }
  const parts: string[] = [];
  if (reading.belowRandom.length > 0) parts.push(`no better than the random map on ${list(reading.belowRandom)}: there it is no better than chance`);
  // One score alone below the prior is a caveat, not a verdict (on the demo the centre Gaussian keeps
  // more confidence in image × map than every method, while losing on deletion, insertion and ROAD).
  if (reading.belowCentre.length >= 2) parts.push(`below the centre prior on ${list(reading.belowCentre)}: ${reading.belowRandom.length > 0 ? 'elsewhere it' : 'this map'} adds little beyond “the object is in the middle”`);
  else if (reading.belowCentre.length === 1) parts.push(`beats the random map, but the centre prior beats it on ${list(reading.belowCentre)}${reading.beatsBoth.length > 0 ? ` (it beats both on ${list(reading.beatsBoth)})` : ''}`);
  if (parts.length === 0) reading.text = reading.beatsBoth.length > 0 ? `beats both the random map and the centre prior on ${reading.beatsBoth.length === 4 ? 'every score' : list(reading.beatsBoth)}.` : 'no score to compare.';
  else reading.text = `${parts.join('; ')}.`;
  return reading;
}
