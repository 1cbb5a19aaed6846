import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import jpeg from 'jpeg-js';
import { afterAll, describe, expect, it } from 'vitest';
import { StudioError } from '../../shared/errors';
import { decodeImageBytes, decodeImageFile, encodePng, orient, withExifOrientation } from './image';

const dir = mkdtempSync(join(tmpdir(), 'image-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function gradient(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([(i * 7) % 256, (i * 13) % 256, (i * 29) % 256, i % 2 ? 255 : 128], i * 4);
  return data;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof StudioError ? e.code : 'untyped';
  }
  return undefined;
}

describe('Node image helpers', () => {
  it('PNG round trip keeps every RGBA byte', async () => {
    const image = { width: 5, height: 3, data: gradient(5, 3) };
    const path = join(dir, 'g.png');
    writeFileSync(path, encodePng(image));
    const decoded = await decodeImageFile(path);
    expect([decoded.width, decoded.height]).toEqual([5, 3]);
    expect(Array.from(decoded.data)).toEqual(Array.from(image.data));
  });

  it('JPEG decodes to RGBA by content even when misnamed', async () => {
    const data = Buffer.alloc(8 * 8 * 4, 0);
    for (let i = 0; i < 64; i++) data.set([200, 40, 10, 255], i * 4);
    const path = join(dir, 'really-a-jpeg.png');
    writeFileSync(path, jpeg.encode({ width: 8, height: 8, data }, 95).data);
    const decoded = await decodeImageFile(path);
    expect([decoded.width, decoded.height, decoded.data.length]).toEqual([8, 8, 256]);
    expect(Math.abs(decoded.data[0] - 200)).toBeLessThan(8);
    expect(decoded.data[3]).toBe(255);
  });

  it('undecodable bytes → IMAGE_DECODE_FAILED naming the file; a missing file → FILE_NOT_FOUND', async () => {
    expect(codeOf(() => decodeImageBytes(new TextEncoder().encode('hello'), 'x.png'))).toBe('IMAGE_DECODE_FAILED');
    const truncated = encodePng({ width: 4, height: 4, data: gradient(4, 4) }).slice(0, 40);
    expect(codeOf(() => decodeImageBytes(truncated, 't.png'))).toBe('IMAGE_DECODE_FAILED');
    // A 20000×20000 PNG header in a tiny file is refused before any pixel is allocated: it cannot hold that many.
    const huge = encodePng({ width: 1, height: 1, data: new Uint8Array(4) });
    new DataView(huge.buffer).setUint32(16, 20000);
    new DataView(huge.buffer).setUint32(20, 20000);
    expect(codeOf(() => decodeImageBytes(huge, 'huge.png'))).toBe('IMAGE_CORRUPT');
    await expect(decodeImageFile(join(dir, 'missing.png'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });

  const photos = resolve(process.cwd(), '../shared/fixtures/images');
  it.skipIf(!existsSync(photos))('decodes the fixture photos (skipped without ../shared/fixtures)', async () => {
    const cat = await decodeImageFile(join(photos, 'skimage_chelsea_cat.png'));
    expect([cat.width, cat.height, cat.data.length]).toEqual([451, 300, 451 * 300 * 4]);
    const rocket = await decodeImageFile(join(photos, 'skimage_rocket.jpg'));
    expect([rocket.width, rocket.height]).toEqual([640, 427]);
  });
});

describe('EXIF orientation and refusals in Node (the CLI decodes as the app does)', () => {
  /** 8×4: left half red, right half blue. */
  const halves = () => {
    const data = new Uint8Array(8 * 4 * 4);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) data.set(x < 4 ? [255, 0, 0, 255] : [0, 0, 255, 255], (y * 8 + x) * 4);
    return new Uint8Array(jpeg.encode({ width: 8, height: 4, data: Buffer.from(data) }, 95).data);
  };
  const at = (img: { width: number; data: Uint8Array | Uint8ClampedArray }, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3));
  const red = (p: number[]) => p[0] > 180 && p[2] < 80;
  const blue = (p: number[]) => p[2] > 180 && p[0] < 80;

  it('orientation 6 (turned 90° clockwise) comes out portrait with the stored left edge on top', () => {
    const img = decodeImageBytes(withExifOrientation(halves(), 6), 'turned.jpg');
    expect([img.width, img.height]).toEqual([4, 8]);
    expect(red(at(img, 1, 1))).toBe(true);
    expect(blue(at(img, 1, 6))).toBe(true);
  });

  it('orient() maps every orientation to the EXIF definition', () => {
    // A 3×2 image whose pixels are numbered 0..5 in the red channel.
    const data = new Uint8Array(3 * 2 * 4);
    for (let i = 0; i < 6; i++) data[i * 4] = i;
    const shown = (o: number) => {
      const r = orient({ width: 3, height: 2, data }, o);
      return Array.from({ length: r.height }, (_, y) => Array.from({ length: r.width }, (_, x) => r.data[(y * r.width + x) * 4]));
    };
    expect(shown(1)).toEqual([[0, 1, 2], [3, 4, 5]]);
    expect(shown(2)).toEqual([[2, 1, 0], [5, 4, 3]]);
    expect(shown(3)).toEqual([[5, 4, 3], [2, 1, 0]]);
    expect(shown(4)).toEqual([[3, 4, 5], [0, 1, 2]]);
    expect(shown(5)).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(shown(6)).toEqual([[3, 0], [4, 1], [5, 2]]);
    expect(shown(7)).toEqual([[5, 2], [4, 1], [3, 0]]);
    expect(shown(8)).toEqual([[2, 5], [1, 4], [0, 3]]);
  });

  it('TIFF → IMAGE_FORMAT_UNSUPPORTED; a PNG header claiming 20000×20000 in 69 bytes → IMAGE_CORRUPT', () => {
    expect(codeOf(() => decodeImageBytes(new Uint8Array([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0]), 'scan.tif'))).toBe('IMAGE_FORMAT_UNSUPPORTED');
    const claim = encodePng({ width: 1, height: 1, data: new Uint8Array(4) }).slice(0, 69);
    const view = new DataView(claim.buffer);
    view.setUint32(16, 20000);
    view.setUint32(20, 20000);
    expect(codeOf(() => decodeImageBytes(claim, 'bomb.png'))).toBe('IMAGE_CORRUPT');
  });
});
