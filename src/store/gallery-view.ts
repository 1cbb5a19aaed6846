/**
 * What the gallery grid shows, as pure functions of the items: the filter (misclassified, a class,
 * a confusion-matrix cell, the failed images), the sort (misclassified first, lowest confidence, map
 * outside the centre / on the border…) and the confusion matrix. No tensors, no DOM.
 */
import type { BatchRecord } from '../shared/batch-results';

export interface GalleryEntryView {
  index: number;
  record: BatchRecord;
  classIndex: number | null;
  /** PNG of the thumbnail with its overlay (null: the image failed); the grid makes URLs only for the cells in view. */
  thumb: Blob | null;
}

export type GallerySort = 'file' | 'misclassified' | 'confidence' | 'outside-centre' | 'border' | 'true' | 'predicted';

export type GalleryFilter =
  | { kind: 'all' }
  | { kind: 'misclassified' }
  | { kind: 'correct' }
  | { kind: 'errors' }
  | { kind: 'true'; label: string }
  | { kind: 'predicted'; label: string }
  | { kind: 'cell'; trueLabel: string; predicted: string };

export const SORT_LABELS: Record<GallerySort, string> = {
  file: 'File name',
  misclassified: 'Misclassified first',
  confidence: 'Lowest confidence first',
  'outside-centre': 'Most map outside the centre',
  border: 'Most map on the border',
  true: 'By true class',
  predicted: 'By predicted class',
};

/** Wrong: a true label is known and the top-1 differs. Unknown truth or a failed image is not "wrong". */
export function isMisclassified(r: BatchRecord): boolean {
  return r.error === null && r.trueLabel !== null && r.predicted !== null && r.trueLabel !== r.predicted;
}

export function isCorrect(r: BatchRecord): boolean {
  return r.error === null && r.trueLabel !== null && r.predicted !== null && r.trueLabel === r.predicted;
}

function matches(r: BatchRecord, filter: GalleryFilter): boolean {
  switch (filter.kind) {
    case 'all':
      return true;
    case 'misclassified':
      return isMisclassified(r);
    case 'correct':
      return isCorrect(r);
    case 'errors':
      return r.error !== null;
    case 'true':
      return r.trueLabel === filter.label;
    case 'predicted':
      return r.error === null && r.predicted === filter.label;
    case 'cell':
      return r.error === null && r.trueLabel === filter.trueLabel && r.predicted === filter.predicted;
  }
}

/** Sort keys: ascending; ties by file name. */
function key(e: GalleryEntryView, sort: GallerySort): number | string {
  const r = e.record;
  switch (sort) {
    case 'file':
      return r.file;
    case 'misclassified':
      return isMisclassified(r) ? 0 : r.error ? 2 : 1;
    case 'confidence':
      return r.probability ?? Infinity;
    case 'outside-centre':
      return -(r.stats?.outsideCentre ?? -Infinity);
    case 'border':
      return -(r.stats?.border ?? -Infinity);
    case 'true':
      return r.trueLabel ?? '\uffff';
    case 'predicted':
      return r.predicted ?? '\uffff';
  }
}

/** The entries shown, in order (only the explained/failed ones: images not reached yet are not listed). */
export function visibleEntries(entries: ReadonlyArray<GalleryEntryView | undefined>, filter: GalleryFilter, sort: GallerySort): GalleryEntryView[] {
  const shown = entries.filter((e): e is GalleryEntryView => !!e && matches(e.record, filter));
  return shown.sort((a, b) => {
    const [ka, kb] = [key(a, sort), key(b, sort)];
    if (ka < kb) return -1;
    if (ka > kb) return 1;
    return a.record.file.localeCompare(b.record.file);
  });
}

export interface Confusion {
  /** Row labels (true) and column labels (predicted), sorted; the same set for both. */
  labels: string[];
  /** counts[t][p]: images of true label labels[t] predicted as labels[p]. */
  counts: number[][];
}

/** The confusion matrix of the explained images that have a true label. */
export function confusionMatrix(entries: ReadonlyArray<GalleryEntryView | undefined>): Confusion {
  const records = entries.flatMap((e) => (e && e.record.error === null && e.record.trueLabel !== null && e.record.predicted !== null ? [e.record] : []));
  const labels = [...new Set(records.flatMap((r) => [r.trueLabel!, r.predicted!]))].sort();
  const at = new Map(labels.map((l, i) => [l, i]));
  const counts = labels.map(() => labels.map(() => 0));
  for (const r of records) counts[at.get(r.trueLabel!)!]![at.get(r.predicted!)!]!++;
  return { labels, counts };
}

/** "3 s", "2 min 5 s", "1 h 4 min". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
