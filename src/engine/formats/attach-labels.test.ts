import { describe, expect, it } from 'vitest';
import { fromBytes } from '../files';
import { attachLabels, isLabelsOnly } from './attach-labels';
import { expectCode } from '../../test-support/expect-code';
import type { ModelSummary } from '../../shared/types';

const text = (name: string, body: string) => fromBytes(name, new TextEncoder().encode(body));

function summary(labels: string[], head: 'softmax' | 'binary' = 'softmax'): ModelSummary {
  return {
    name: 'm', format: 'tfjs-layers', inputShape: [null, 8, 8, 3], imageSize: [8, 8, 3], labels, labelsFromFile: false,
    tree: { path: 'm', name: 'm', className: 'Functional', outputShape: [null, labels.length], params: 0, explainable: false },
    defaultLayerPath: null, preprocess: { normalization: 'unit', resize: 'stretch', source: 'default' }, outputActivation: 'softmax', head,
    outputs: [{ index: 0, name: 'out', shape: [null, labels.length], classification: true, head, outputActivation: 'softmax', labels }],
    defaultOutput: 0, params: 0, weightBytes: 0, warnings: [],
  } as ModelSummary;
}

describe('attachLabels', () => {
  it('only labels files count as labels-only', () => {
    expect(isLabelsOnly([text('labels.txt', 'a')])).toBe(true);
    expect(isLabelsOnly([text('Metadata.json', '{}')])).toBe(true);
    expect(isLabelsOnly([text('imagenet_classes.txt', 'a')])).toBe(true);
    expect(isLabelsOnly([text('labels.txt', 'a'), text('model.json', '{}')])).toBe(false);
    expect(isLabelsOnly([])).toBe(false);
  });

  it('a labels.txt with the class count renames the classes (the model and its output)', async () => {
    const s = summary(['class 0', 'class 1', 'class 2']);
    const attached = await attachLabels(s, [text('labels.txt', 'neutral\ndrawing\nsexy\n')]);
    expect(attached).toEqual({ labels: ['neutral', 'drawing', 'sexy'], source: 'labels.txt' });
    expect(s.labels).toEqual(['neutral', 'drawing', 'sexy']);
    expect(s.outputs[0]?.labels).toEqual(['neutral', 'drawing', 'sexy']);
    expect(s.labelsFromFile).toBe(true);
  });

  it('metadata.json labels too; a wrong count or no labels is a coded error and changes nothing', async () => {
    const s = summary(['class 0', 'class 1']);
    await attachLabels(s, [text('metadata.json', JSON.stringify({ labels: ['cat', 'dog'] }))]);
    expect(s.labels).toEqual(['cat', 'dog']);
    const t = summary(['class 0', 'class 1']);
    const err = await expectCode(attachLabels(t, [text('labels.txt', 'a\nb\nc')]), 'LABELS_NOT_ATTACHED');
    expect(err.message).toBe('labels.txt has 3 labels but the model has 2 classes; the labels were not attached.');
    expect(t.labels).toEqual(['class 0', 'class 1']);
    await expectCode(attachLabels(t, [text('labels.txt', '\n\n')]), 'LABELS_EMPTY');
  });

  it('a binary head takes one label (and its negation) or two (the unit is the second)', async () => {
    const one = summary(['class 0', 'not class 0'], 'binary');
    await attachLabels(one, [text('labels.txt', 'real')]);
    expect(one.labels).toEqual(['real', 'not real']);
    const two = summary(['class 0', 'not class 0'], 'binary');
    await attachLabels(two, [text('labels.txt', 'fake\nreal')]);
    expect(two.labels).toEqual(['real', 'fake']);
  });
});
