import { describe, expect, it } from 'vitest';
import { mappingByOrder, noFolderMatches, relabelEntries } from './gallery-labels';

const LABELS = ['class 0', 'class 1', 'class 2'];

describe('folder names against the model labels', () => {
  it('none matching is flagged; one match (any case / separator) is enough to trust the folders', () => {
    expect(noFolderMatches(['neutral', 'drawing'], LABELS)).toBe(true);
    expect(noFolderMatches(['neutral', 'Class_1'], LABELS)).toBe(false);
    expect(noFolderMatches([], LABELS)).toBe(false);
  });
  it('maps sorted folders onto the labels by order; extra folders map to nothing', () => {
    expect([...mappingByOrder(['neutral', 'drawing', 'sexy', 'porn'], LABELS)]).toEqual([['drawing', 'class 0'], ['neutral', 'class 1'], ['porn', 'class 2']]);
  });
  it('ignore drops the truth; order relabels it; folders keeps it', () => {
    const entries = [{ record: { trueLabel: 'neutral', predicted: 'class 1' } }, undefined, { record: { trueLabel: null, predicted: 'class 0' } }];
    const mapping = mappingByOrder(['neutral', 'drawing'], LABELS);
    expect(relabelEntries(entries, 'ignore', mapping).map((e) => e?.record.trueLabel)).toEqual([null, undefined, null]);
    expect(relabelEntries(entries, 'order', mapping).map((e) => e?.record.trueLabel)).toEqual(['class 1', undefined, null]);
    expect(relabelEntries(entries, 'folders', mapping)[0]).toBe(entries[0]);
  });
});
