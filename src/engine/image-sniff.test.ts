import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { decodeSize, displayedSize, sniffImage } from './image-sniff';
import { withExifOrientation } from './node/image';

function png(width: number, height: number): Uint8Array {
  const image = new PNG({ width, height });
  return new Uint8Array(PNG.sync.write(image));
}

/** A minimal GIF: header, logical screen (no global table), `frames` 1×1 frames, trailer. */
function gif(width: number, height: number, frames: number, netscape = false): Uint8Array {
  const bytes: number[] = [...'GIF89a'].map((c) => c.charCodeAt(0));
  bytes.push(width & 255, width >> 8, height & 255, height >> 8, 0, 0, 0);
  if (netscape) bytes.push(0x21, 0xff, 11, ...[...'NETSCAPE2.0'].map((c) => c.charCodeAt(0)), 3, 1, 0, 0, 0);
  for (let f = 0; f < frames; f++) {
    bytes.push(0x21, 0xf9, 4, 0, 0, 0, 0, 0); // graphic control extension
    bytes.push(0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0); // image descriptor, 1×1, no local table
    bytes.push(2, 2, 0x44, 0x01, 0); // LZW data
  }
  bytes.push(0x3b);
  return new Uint8Array(bytes);
}

describe('image sniffing', () => {
  it('reads PNG and JPEG sizes from headers', () => {
    expect(sniffImage(png(7, 5))).toMatchObject({ kind: 'png', width: 7, height: 5 });
    const jpg = jpeg.encode({ width: 9, height: 4, data: Buffer.alloc(9 * 4 * 4, 128) }, 80).data;
    expect(sniffImage(new Uint8Array(jpg))).toMatchObject({ kind: 'jpeg', width: 9, height: 4 });
  });

  it('tells animated GIFs from still ones', () => {
    expect(sniffImage(gif(3, 2, 1))).toEqual({ kind: 'gif', width: 3, height: 2, animated: false });
    expect(sniffImage(gif(3, 2, 2))).toMatchObject({ kind: 'gif', animated: true });
    expect(sniffImage(gif(3, 2, 1, true))).toMatchObject({ animated: true });
  });

  it('reads BMP and WebP (VP8X) headers, spots SVG, and gives up on the rest', () => {
    const bmp = new Uint8Array(54);
    bmp.set([0x42, 0x4d]);
    new DataView(bmp.buffer).setInt32(18, 20000, true);
    new DataView(bmp.buffer).setInt32(22, -300, true); // top-down BMP
    expect(sniffImage(bmp)).toEqual({ kind: 'bmp', width: 20000, height: 300 });
    const webp = new Uint8Array(30);
    webp.set([...'RIFF'].map((c) => c.charCodeAt(0)), 0);
    webp.set([...'WEBPVP8X'].map((c) => c.charCodeAt(0)), 8);
    webp.set([99, 0, 0, 49, 0, 0], 24);
    expect(sniffImage(webp)).toEqual({ kind: 'webp', width: 100, height: 50 });
    expect(sniffImage(new TextEncoder().encode('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>')).kind).toBe('svg');
    expect(sniffImage(new TextEncoder().encode('hello')).kind).toBe('unknown');
    expect(sniffImage(new Uint8Array(0)).kind).toBe('unknown');
  });

  it('downscales only above the limit, keeping the aspect', () => {
    expect(decodeSize(4000, 3000)).toEqual({ width: 4000, height: 3000, downscaled: false });
    expect(decodeSize(20000, 20000)).toEqual({ width: 4096, height: 4096, downscaled: true });
    expect(decodeSize(20000, 100)).toEqual({ width: 4096, height: 20, downscaled: true });
  });
});

describe('orientation, undecodable kinds and impossible headers', () => {
  const jpg = new Uint8Array(jpeg.encode({ width: 12, height: 8, data: Buffer.alloc(12 * 8 * 4, 90) }, 80).data);

  it('reads the EXIF orientation (either byte order); 5–8 swap the shown width and height', () => {
    for (const little of [false, true]) {
      const turned = sniffImage(withExifOrientation(jpg, 6, little));
      expect(turned).toMatchObject({ kind: 'jpeg', width: 12, height: 8, orientation: 6 });
      expect(displayedSize(turned)).toEqual({ width: 8, height: 12 });
    }
    expect(displayedSize(sniffImage(withExifOrientation(jpg, 3)))).toEqual({ width: 12, height: 8 });
    expect(sniffImage(jpg).orientation).toBeUndefined();
  });

  it('recognises TIFF, HEIC and AVIF by their first bytes', () => {
    const enc = (t: string) => [...t].map((c) => c.charCodeAt(0));
    expect(sniffImage(new Uint8Array([...enc('II*'), 0, 8, 0, 0, 0])).kind).toBe('tiff');
    expect(sniffImage(new Uint8Array([...enc('MM'), 0, 42, 0, 0, 0, 8])).kind).toBe('tiff');
    const ftyp = (major: string, ...compatible: string[]) => {
      const brands = [major, '\0\0\0\0', ...compatible].join('');
      const size = 8 + brands.length;
      return new Uint8Array([0, 0, 0, size, ...enc('ftyp'), ...enc(brands)]);
    };
    expect(sniffImage(ftyp('heic', 'mif1', 'heic')).kind).toBe('heic');
    expect(sniffImage(ftyp('mif1', 'mif1', 'avif')).kind).toBe('avif');
    expect(sniffImage(ftyp('avif', 'mif1')).kind).toBe('avif');
    expect(sniffImage(ftyp('isom', 'mp41')).kind).toBe('unknown'); // an MP4 video
  });

  it('knows the fewest bytes a PNG or baseline JPEG with that header can have', () => {
    // A 69-byte PNG claiming 20000×20000 (1-bit grey): its rows alone deflate to at least 48 KB.
    const claim = png(1, 1);
    const view = new DataView(claim.buffer, claim.byteOffset);
    view.setUint32(16, 20000);
    view.setUint32(20, 20000);
    claim[24] = 1;
    claim[25] = 0;
    const sniffed = sniffImage(claim);
    expect(sniffed.minBytes).toBe(Math.floor((20000 * (1 + 2500)) / 1032));
    expect(claim.byteLength).toBeLessThan(sniffed.minBytes!);
    // A real PNG is always at least its bound.
    const real = png(300, 200);
    expect(real.byteLength).toBeGreaterThanOrEqual(sniffImage(real).minBytes!);
    expect(jpg.byteLength).toBeGreaterThanOrEqual(sniffImage(jpg).minBytes!);
  });
});
