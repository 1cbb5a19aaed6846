import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import jpeg from 'jpeg-js';
import { afterAll, describe, expect, it } from 'vitest';
import { StudioError } from '../../shared/errors';
import { decodeImageBytes, decodeImageFile, encodePng } from './image';

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
    // A 20000×20000 PNG header is refused before any pixel is allocated.
    const huge = encodePng({ width: 1, height: 1, data: new Uint8Array(4) });
    new DataView(huge.buffer).setUint32(16, 20000);
    new DataView(huge.buffer).setUint32(20, 20000);
    expect(codeOf(() => decodeImageBytes(huge, 'huge.png'))).toBe('IMAGE_DECODE_FAILED');
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
