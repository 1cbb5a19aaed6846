/** Node only: decode PNG/JPEG files to RGBA and encode RGBA to PNG (browsers use createImageBitmap instead). */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import type { RawImage } from '../files';
import { studioError } from '../../shared/errors';

/** Node decodes at full size (no downscaling decoder): refuse above this rather than exhaust memory (400 MB RGBA). */
const MAX_MEGAPIXELS = 100;

/** Decode PNG or JPEG bytes (by magic bytes, not by name) to RGBA. */
export function decodeImageBytes(bytes: Uint8Array, fileName: string): RawImage {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let image: RawImage;
  try {
    if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
      // IHDR holds width and height right after the signature: check them before allocating pixels.
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (bytes.length >= 24 && view.getUint32(16) * view.getUint32(20) > MAX_MEGAPIXELS * 1e6) throw new Error('too large');
      const png = PNG.sync.read(buffer);
      image = { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    } else if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
      const jpg = jpeg.decode(buffer, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: 1024 });
      image = { width: jpg.width, height: jpg.height, data: jpg.data };
    } else {
      throw new Error('not PNG or JPEG');
    }
  } catch {
    throw studioError('IMAGE_DECODE_FAILED', { file: fileName });
  }
  if (image.width === 0 || image.height === 0) throw studioError('IMAGE_EMPTY', { file: fileName });
  return image;
}

export async function decodeImageFile(path: string): Promise<RawImage> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw studioError('FILE_NOT_FOUND', { path, reason: e instanceof Error && 'code' in e ? String(e.code) : String(e) });
  }
  return decodeImageBytes(bytes, basename(path));
}

export function encodePng(image: RawImage): Uint8Array {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return new Uint8Array(PNG.sync.write(png));
}
