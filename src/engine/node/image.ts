/** Node only: decode PNG/JPEG files to RGBA and encode RGBA to PNG (browsers use createImageBitmap instead). */
import { basename } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import type { RawImage } from '../files';
import { studioError } from '../../shared/errors';
import { refuseFromHeader, sniffImage } from '../image-sniff';
import { readFileSafely } from './safe-fs';

/** Node decodes at full size (no downscaling decoder): refuse above this rather than exhaust memory (400 MB RGBA). */
const MAX_MEGAPIXELS = 100;

/**
 * Decode PNG or JPEG bytes (sorted by the app's own sniffer, not by name) to RGBA, the right way up
 * (EXIF orientation applied, as browsers do), with the app's refusals for TIFF/HEIC and impossible headers.
 */
export function decodeImageBytes(bytes: Uint8Array, fileName: string): RawImage {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sniff = sniffImage(bytes);
  refuseFromHeader(sniff, bytes.byteLength, fileName);
  let image: RawImage;
  try {
    if (sniff.kind === 'png') {
      // The header's size is checked before any pixel is allocated.
      if ((sniff.width ?? 0) * (sniff.height ?? 0) > MAX_MEGAPIXELS * 1e6) throw new Error('too large');
      const png = PNG.sync.read(buffer);
      image = { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    } else if (sniff.kind === 'jpeg') {
      const jpg = jpeg.decode(buffer, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: 1024 });
      image = orient({ width: jpg.width, height: jpg.height, data: jpg.data }, sniff.orientation ?? 1);
    } else {
      throw new Error('not PNG or JPEG');
    }
  } catch {
    throw studioError('IMAGE_DECODE_FAILED', { file: fileName });
  }
  if (image.width === 0 || image.height === 0) throw studioError('IMAGE_EMPTY', { file: fileName });
  return image;
}

/** RGBA turned as EXIF orientation `o` says (1 = as stored; 5–8 swap width and height). */
export function orient(image: RawImage, o: number): RawImage {
  if (o < 2 || o > 8) return image;
  const { width: w, height: h, data } = image;
  const turned = o >= 5;
  const width = turned ? h : w;
  const height = turned ? w : h;
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      // Where stored pixel (x, y) is shown, per the EXIF definitions of orientations 2–8.
      const [dx, dy] = [
        [x, y],
        [x, y],
        [w - 1 - x, y],
        [w - 1 - x, h - 1 - y],
        [x, h - 1 - y],
        [y, x],
        [h - 1 - y, x],
        [h - 1 - y, w - 1 - x],
        [y, w - 1 - x],
      ][o]!;
      out.set(data.subarray((y * w + x) * 4, (y * w + x) * 4 + 4), (dy * width + dx) * 4);
    }
  return { width, height, data: out };
}

/** `jpg` with an APP1 Exif segment holding Orientation = `orientation`, right after SOI (tests). */
export function withExifOrientation(jpg: Uint8Array, orientation: number, littleEndian = false): Uint8Array {
  const tiff = new Uint8Array(8 + 2 + 12 + 4);
  const view = new DataView(tiff.buffer);
  tiff.set(littleEndian ? [0x49, 0x49] : [0x4d, 0x4d], 0);
  view.setUint16(2, 42, littleEndian);
  view.setUint32(4, 8, littleEndian); // IFD0 right after the header
  view.setUint16(8, 1, littleEndian); // one entry
  view.setUint16(10, 0x0112, littleEndian); // Orientation
  view.setUint16(12, 3, littleEndian); // SHORT
  view.setUint32(14, 1, littleEndian);
  view.setUint16(18, orientation, littleEndian);
  const payload = new Uint8Array([...[...'Exif'].map((c) => c.charCodeAt(0)), 0, 0, ...tiff]);
  const segment = new Uint8Array(4 + payload.length);
  segment.set([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]);
  segment.set(payload, 4);
  return new Uint8Array([...jpg.subarray(0, 2), ...segment, ...jpg.subarray(2)]);
}

export async function decodeImageFile(path: string): Promise<RawImage> {
  return decodeImageBytes(await readFileSafely(path), basename(path));
}

export function encodePng(image: RawImage): Uint8Array {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return new Uint8Array(PNG.sync.write(png));
}
