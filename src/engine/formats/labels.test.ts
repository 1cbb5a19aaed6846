import { describe, expect, it } from 'vitest';
import { fromBytes } from '../files';
import { isTeachableMachineMetadata, parseLabelsText, parseMetadataJson, readSidecars } from './labels';

const text = (name: string, content: string, path?: string) => fromBytes(name, new TextEncoder().encode(content), path);

describe('parseLabelsText', () => {
  it('reads one label per line, trims, drops trailing empty lines and CRLF', () => {
    expect(parseLabelsText('cat \r\n dog\r\nbird\r\n\r\n')).toEqual(['cat', 'dog', 'bird']);
  });

  it('strips indices when lines are numbered 0..n-1 in order, in the "0 Cat", "0: Cat" and "0, Cat" forms', () => {
    expect(parseLabelsText('0 Cat\n1 Dog\n2 Tiger cat\n')).toEqual(['Cat', 'Dog', 'Tiger cat']);
    expect(parseLabelsText('0: Cat\n1: Dog\n')).toEqual(['Cat', 'Dog']);
    expect(parseLabelsText('0, Cat\n1,Dog')).toEqual(['Cat', 'Dog']);
  });

  it('keeps numbers that are part of the labels (not 0..n-1 in order)', () => {
    expect(parseLabelsText('1 Cat\n2 Dog\n')).toEqual(['1 Cat', '2 Dog']);
    expect(parseLabelsText('0 Cat\n2 Dog\n')).toEqual(['0 Cat', '2 Dog']);
    expect(parseLabelsText('7 Up\nSprite\n')).toEqual(['7 Up', 'Sprite']);
  });

  it('keeps an empty line in the middle (a class may be unnamed) and returns [] for an empty file', () => {
    expect(parseLabelsText('a\n\nc\n')).toEqual(['a', '', 'c']);
    expect(parseLabelsText('\n\n')).toEqual([]);
  });
});

describe('metadata.json', () => {
  it('Teachable Machine metadata gives labels and symmetric + centre-crop preprocessing', () => {
    const meta = { tfjsVersion: '1.3.1', tmVersion: '2.2.2', packageName: '@teachablemachine/image', labels: ['Peace', 'Stop'] };
    expect(isTeachableMachineMetadata(meta)).toBe(true);
    expect(parseMetadataJson(meta)).toEqual({
      labels: ['Peace', 'Stop'],
      labelsSource: 'metadata.json',
      preprocess: { normalization: 'symmetric', resize: 'center-crop', source: 'metadata.json (Teachable Machine)' },
    });
    expect(isTeachableMachineMetadata({ imageSize: 224 })).toBe(true);
  });

  it('an explicit preprocess object wins over the Teachable Machine guess; unknown values are ignored', () => {
    const demo = { labels: ['circle', 'square'], imageSize: 64, preprocess: { normalization: 'unit', resize: 'stretch' } };
    expect(parseMetadataJson(demo).preprocess).toEqual({ normalization: 'unit', resize: 'stretch', source: 'metadata.json' });
    expect(parseMetadataJson({ labels: ['a'], preprocess: { normalization: 'imagenet', resize: 'sideways' } }).preprocess).toEqual({ normalization: 'imagenet', source: 'metadata.json' });
    expect(parseMetadataJson({ tmVersion: '2', labels: ['a'], preprocess: { normalization: 'bogus' } }).preprocess).toEqual({
      normalization: 'symmetric',
      resize: 'center-crop',
      source: 'metadata.json (Teachable Machine)',
    });
  });

  it('other metadata gives labels only', () => {
    expect(isTeachableMachineMetadata({ labels: ['a'] })).toBe(false);
    expect(parseMetadataJson({ labels: ['a', 2] })).toEqual({ labels: ['a', '2'], labelsSource: 'metadata.json' });
  });
});

describe('readSidecars', () => {
  it('prefers metadata.json labels over labels.txt', async () => {
    const info = await readSidecars([text('metadata.json', '{"labels":["x","y"]}'), text('labels.txt', 'a\nb\n')]);
    expect(info.labels).toEqual(['x', 'y']);
    expect(info.labelsSource).toBe('metadata.json');
  });

  it('falls back to labels.txt, picking the one beside the model', async () => {
    const info = await readSidecars(
      [text('labels.txt', 'wrong\n', 'other/labels.txt'), text('labels.txt', '0 right\n1 too\n', 'm/labels.txt')],
      'm/model.json',
    );
    expect(info.labels).toEqual(['right', 'too']);
  });

  it('a broken metadata.json is a warning, and labels.txt still counts', async () => {
    const info = await readSidecars([text('metadata.json', '{"labels": ['), text('labels.txt', 'a\n')]);
    expect(info.labels).toEqual(['a']);
    expect(info.warnings.map((w) => w.code)).toEqual(['MODEL_JSON_INVALID']);
    expect(info.warnings[0].message).toContain('metadata.json');
  });

  it('no sidecar: no labels (caller uses "class 0..n-1")', async () => {
    const info = await readSidecars([text('model.json', '{}')]);
    expect(info.labels).toBeUndefined();
    expect(info.preprocess).toBeUndefined();
  });
});
