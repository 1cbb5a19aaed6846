import { describe, expect, it } from 'vitest';
import type { BatchRecord } from '../shared/batch-results';
import { confusionMatrix, formatDuration, isMisclassified, visibleEntries, type GalleryEntryView } from './gallery-view';

function entry(index: number, file: string, trueLabel: string | null, predicted: string | null, probability: number | null, outsideCentre = 0, error: string | null = null): GalleryEntryView {
  const record: BatchRecord = {
    file, trueLabel, predicted, probability, top5: [], error,
    stats: error ? null : { mean: 0.3, outsideCentre, border: outsideCentre / 2 },
  };
  return { index, record, classIndex: null, thumb: null };
}

const entries = [
  entry(0, 'cat/1.png', 'cat', 'cat', 0.9, 0.2),
  entry(1, 'cat/2.png', 'cat', 'dog', 0.6, 0.8),
  entry(2, 'dog/1.png', 'dog', 'dog', 0.7, 0.5),
  entry(3, 'dog/bad.png', 'dog', null, null, 0, 'IMAGE_DECODE_FAILED: dog/bad.png could not be decoded'),
  undefined, // not reached yet
  entry(5, 'loose.png', null, 'cat', 0.55, 0.1),
];

describe('gallery view', () => {
  it('filters: misclassified, correct, failed, by class, by confusion cell', () => {
    const files = (f: Parameters<typeof visibleEntries>[1]) => visibleEntries(entries, f, 'file').map((e) => e.record.file);
    expect(files({ kind: 'misclassified' })).toEqual(['cat/2.png']);
    expect(files({ kind: 'correct' })).toEqual(['cat/1.png', 'dog/1.png']);
    expect(files({ kind: 'errors' })).toEqual(['dog/bad.png']);
    expect(files({ kind: 'true', label: 'dog' })).toEqual(['dog/1.png', 'dog/bad.png']);
    expect(files({ kind: 'predicted', label: 'cat' })).toEqual(['cat/1.png', 'loose.png']);
    expect(files({ kind: 'cell', trueLabel: 'cat', predicted: 'dog' })).toEqual(['cat/2.png']);
    expect(files({ kind: 'all' })).toHaveLength(5);
    expect(isMisclassified(entries[5]!.record)).toBe(false); // no truth: not "wrong"
  });

  it('sorts: misclassified first, lowest confidence, most map outside the centre', () => {
    const order = (s: Parameters<typeof visibleEntries>[2]) => visibleEntries(entries, { kind: 'all' }, s).map((e) => e.index);
    expect(order('misclassified')[0]).toBe(1);
    expect(order('misclassified').at(-1)).toBe(3); // the failed image last
    expect(order('confidence')).toEqual([5, 1, 2, 0, 3]);
    expect(order('outside-centre')).toEqual([1, 2, 0, 5, 3]);
  });

  it('counts the confusion matrix over explained images with a true label', () => {
    const m = confusionMatrix(entries);
    expect(m.labels).toEqual(['cat', 'dog']);
    expect(m.counts).toEqual([
      [1, 1],
      [0, 1],
    ]);
  });

  it('formats time left', () => {
    expect(formatDuration(4.4)).toBe('4 s');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(3840)).toBe('1 h 4 min');
  });
});
