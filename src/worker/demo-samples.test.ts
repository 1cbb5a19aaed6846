import { describe, expect, it } from 'vitest';
import { demoSamplePath, parseSamples } from './demo-samples';

describe('demo samples index', () => {
  it('reads the list form and the { samples } form, skipping bad entries and bad shapes', () => {
    const index = {
      imageSize: 256,
      samples: [
        { file: 'samples/two.png', shapes: [{ label: 'circle', bbox: [1, 2, 3, 4] }, { label: 'star', bbox: [1, 2] }, { bbox: [0, 0, 1, 1] }] },
        'plain.png',
        { nofile: true },
        42,
        { file: 'noshapes.png', shapes: 'x' },
      ],
    };
    expect(parseSamples(index)).toEqual([
      { file: 'samples/two.png', shapes: [{ label: 'circle', bbox: [1, 2, 3, 4] }] },
      { file: 'plain.png', shapes: [] },
      { file: 'noshapes.png', shapes: [] },
    ]);
    expect(parseSamples([{ file: 'a.png', shapes: [] }])).toEqual([{ file: 'a.png', shapes: [] }]);
    expect(parseSamples(null)).toEqual([]);
    expect(parseSamples('nonsense')).toEqual([]);
  });

  it('reads boxes written as { x, y, width, height } (the demo trainer) and rejects incomplete ones', () => {
    const index = { samples: [{ file: 'samples/ab.png', shapes: [{ label: 'circle', bbox: { x: 28, y: 90, width: 77, height: 76 } }, { label: 'star', bbox: { x: 1, y: 2 } }] }] };
    expect(parseSamples(index)).toEqual([{ file: 'samples/ab.png', shapes: [{ label: 'circle', bbox: [28, 90, 77, 76] }] }]);
  });

  it('resolves file names relative to demo/ or to samples/', () => {
    expect(demoSamplePath('samples/two.png')).toBe('samples/two.png');
    expect(demoSamplePath('./samples/two.png')).toBe('samples/two.png');
    expect(demoSamplePath('two.png')).toBe('samples/two.png');
  });
});
