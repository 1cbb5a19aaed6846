import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { addPngText, pngSize, readPngText } from './png-text';

describe('PNG caption text', () => {
  const image = new PNG({ width: 3, height: 2 });
  image.data.fill(200);
  const png = new Uint8Array(PNG.sync.write(image));

  it('adds an iTXt chunk that decoders accept and that reads back in UTF-8', () => {
    const text = 'model: demo\nlayer: classifier/base/conv_3\nclass: étoile ★ (0.93)';
    const withText = addPngText(png, 'Description', text);
    expect(readPngText(withText)).toEqual({ Description: text });
    expect(pngSize(withText)).toEqual({ width: 3, height: 2 });
    const decoded = PNG.sync.read(Buffer.from(withText));
    expect(decoded.width).toBe(3);
    expect(Array.from(decoded.data.slice(0, 4))).toEqual([200, 200, 200, 200]);
  });

  it('rejects what is not a PNG', () => {
    expect(() => addPngText(new Uint8Array(40), 'k', 'v')).toThrow(/not a PNG/);
  });
});
