/**
 * The one image sniffer: what kind of image a file is, its size and orientation, read from its first
 * bytes before anything is decoded. Used to sort dropped files (formats/index.ts), to decode huge
 * images straight to a smaller size and the right way up, and to refuse impossible headers at once
 * (worker/image-decode.ts, and node/image.ts for the CLI). Pure (no DOM); unit-tested in Node.
 */
import { studioError } from '../shared/errors';
import { formatBytes } from '../shared/format';
export type ImageKind = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | 'svg' | 'avif' | 'tiff' | 'heic' | 'unknown';

/** Kinds browsers cannot decode: recognised, so that the person is told why, not "no model found". */
export const UNDECODABLE_KINDS: Partial<Record<ImageKind, string>> = { tiff: 'TIFF', heic: 'HEIC/HEIF' };

export interface ImageSniff {
  kind: ImageKind;
  width?: number;
  height?: number;
  /** GIF with a NETSCAPE looping block or more than one frame. */
  animated?: boolean;
  /** EXIF orientation of a JPEG (1–8); 5–8 mean the picture is shown with width and height swapped. */
  orientation?: number;
  /** The fewest bytes a valid file with this header can have (PNG, baseline JPEG), when known. */
  minBytes?: number;
}

/** How many leading bytes the sniffer needs to see (EXIF can sit after a large APP0/APP1). */
export const SNIFF_BYTES = 64 * 1024;

/** Images larger than this on a side are decoded downscaled (keeps RGBA under 64 MB). */
export const MAX_IMAGE_SIDE = 4096;

const ascii = (bytes: Uint8Array, at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length));

function gifFrameCount(b: Uint8Array, max = 2): number {
  // Walk the GIF block structure: count image descriptors (0x2C) up to `max`.
  if (b.length < 13) return 0;
  let at = 13;
  if (b[10] & 0x80) at += 3 * (1 << ((b[10] & 7) + 1));
  let frames = 0;
  const skipSubBlocks = () => {
    while (at < b.length && b[at] !== 0) at += b[at] + 1;
    at += 1;
  };
  while (at < b.length && frames < max) {
    const marker = b[at];
    if (marker === 0x2c) {
      frames++;
      const packed = b[at + 9];
      at += 10;
      if (packed & 0x80) at += 3 * (1 << ((packed & 7) + 1));
      at += 1; // LZW minimum code size
      skipSubBlocks();
    } else if (marker === 0x21) {
      at += 2;
      skipSubBlocks();
    } else break; // trailer (0x3B) or garbage
  }
  return frames;
}

/** Deflate codes at most 258 bytes in 2 bits: no zlib stream is smaller than raw / 1032. */
const DEFLATE_MAX_RATIO = 1032;
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function sniffPng(b: Uint8Array, view: DataView): ImageSniff {
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const bitDepth = b[24];
  const channels = PNG_CHANNELS[b[25]];
  const out: ImageSniff = { kind: 'png', width, height };
  if (channels && bitDepth && b[28] === 0) {
    // Non-interlaced: each row is a filter byte plus its packed samples, all deflated.
    const raw = height * (1 + Math.ceil((width * bitDepth * channels) / 8));
    out.minBytes = Math.floor(raw / DEFLATE_MAX_RATIO);
  }
  return out;
}

/** EXIF Orientation (tag 0x0112) from an APP1 segment's TIFF block, or undefined. */
function exifOrientation(b: Uint8Array, start: number, end: number): number | undefined {
  if (ascii(b, start, 6) !== 'Exif\0\0') return undefined;
  const tiff = start + 6;
  if (tiff + 8 > end) return undefined;
  const little = ascii(b, tiff, 2) === 'II';
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u16 = (at: number) => view.getUint16(at, little);
  const u32 = (at: number) => view.getUint32(at, little);
  const ifd = tiff + u32(tiff + 4);
  if (ifd + 2 > end) return undefined;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > end) return undefined;
    if (u16(entry) === 0x0112) {
      const value = u16(entry + 8);
      return value >= 1 && value <= 8 ? value : undefined;
    }
  }
  return undefined;
}

function sniffJpeg(b: Uint8Array, view: DataView): ImageSniff {
  // Walk the segments to the first SOFn (not DHT C4, JPG C8, DAC CC), noting the EXIF orientation.
  const out: ImageSniff = { kind: 'jpeg' };
  let at = 2;
  while (at + 9 < b.length) {
    if (b[at] !== 0xff) {
      at++;
      continue;
    }
    const marker = b[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      out.height = view.getUint16(at + 5);
      out.width = view.getUint16(at + 7);
      // Baseline / extended sequential Huffman: every 8×8 block of the first component costs at
      // least two codes (DC difference and end of block) of at least one bit each.
      if (marker === 0xc0 || marker === 0xc1) out.minBytes = Math.floor((Math.ceil(out.width / 8) * Math.ceil(out.height / 8) * 2) / 8);
      return out;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    const length = view.getUint16(at + 2);
    if (marker === 0xe1 && out.orientation === undefined) out.orientation = exifOrientation(b, at + 4, Math.min(b.length, at + 2 + length));
    at += 2 + length;
  }
  return out;
}

/** ISO base media files (HEIC, AVIF): `ftyp` with a major brand and compatible brands. */
function sniffIsoMedia(b: Uint8Array, view: DataView): ImageKind | null {
  if (b.length < 16 || ascii(b, 4, 4) !== 'ftyp') return null;
  const size = Math.min(view.getUint32(0), b.length);
  const brands = [ascii(b, 8, 4)];
  for (let at = 16; at + 4 <= size; at += 4) brands.push(ascii(b, at, 4));
  if (brands.some((brand) => brand === 'avif' || brand === 'avis')) return 'avif';
  if (brands.some((brand) => ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(brand))) return 'heic';
  return null;
}

export function sniffImage(bytes: Uint8Array): ImageSniff {
  const b = bytes;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length >= 29 && b[0] === 0x89 && ascii(b, 1, 3) === 'PNG') return sniffPng(b, view);
  if (b.length >= 8 && b[0] === 0x89 && ascii(b, 1, 7) === 'PNG\r\n\x1a\n') return { kind: 'png' };
  if (b.length >= 10 && ascii(b, 0, 4) === 'GIF8') {
    const animated = ascii(b, 0, Math.min(b.length, 4096)).includes('NETSCAPE2.0') || gifFrameCount(b) > 1;
    return { kind: 'gif', width: view.getUint16(6, true), height: view.getUint16(8, true), animated };
  }
  if (b.length >= 26 && b[0] === 0x42 && b[1] === 0x4d) return { kind: 'bmp', width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') {
    if (b.length < 30) return { kind: 'webp' };
    const chunk = ascii(b, 12, 4);
    if (chunk === 'VP8X') return { kind: 'webp', width: 1 + (b[24] | (b[25] << 8) | (b[26] << 16)), height: 1 + (b[27] | (b[28] << 8) | (b[29] << 16)) };
    if (chunk === 'VP8L') {
      const bits = view.getUint32(21, true);
      return { kind: 'webp', width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
    }
    if (chunk === 'VP8 ') return { kind: 'webp', width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
    return { kind: 'webp' };
  }
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return sniffJpeg(b, view);
  if (b.length >= 4 && ((ascii(b, 0, 4) === 'II*\0') || ascii(b, 0, 4) === 'MM\0*')) return { kind: 'tiff' };
  const media = sniffIsoMedia(b, view);
  if (media) return { kind: media };
  const head = new TextDecoder().decode(b.subarray(0, 1024)).replace(/^\uFEFF/, '').trimStart();
  if (head.startsWith('<') && /<svg[\s>/]/i.test(head)) return { kind: 'svg' };
  return { kind: 'unknown' };
}

/** Size to decode to: the same, or scaled so the longer side is `maxSide`. */
export function decodeSize(width: number, height: number, maxSide = MAX_IMAGE_SIDE): { width: number; height: number; downscaled: boolean } {
  const longer = Math.max(width, height);
  if (longer <= maxSide) return { width, height, downscaled: false };
  const scale = maxSide / longer;
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)), downscaled: true };
}

/** The size the picture is shown at: EXIF orientations 5–8 turn it a quarter, swapping width and height. */
export function displayedSize(sniff: ImageSniff): { width: number; height: number } | null {
  if (!sniff.width || !sniff.height) return null;
  const turned = sniff.orientation !== undefined && sniff.orientation >= 5;
  return turned ? { width: sniff.height, height: sniff.width } : { width: sniff.width, height: sniff.height };
}

/**
 * What every decoder refuses from the header alone, before decoding: formats browsers cannot read
 * (IMAGE_FORMAT_UNSUPPORTED), a 0-pixel side (IMAGE_EMPTY), and a header claiming more pixels than
 * the file can hold (IMAGE_CORRUPT — at once, not after seconds of decoding).
 */
export function refuseFromHeader(sniff: ImageSniff, byteLength: number, file: string): void {
  const unsupported = UNDECODABLE_KINDS[sniff.kind];
  if (unsupported) throw studioError('IMAGE_FORMAT_UNSUPPORTED', { file, format: unsupported });
  if (sniff.width === 0 || sniff.height === 0) throw studioError('IMAGE_EMPTY', { file });
  if (sniff.minBytes !== undefined && byteLength < sniff.minBytes) {
    throw studioError('IMAGE_CORRUPT', {
      file,
      reason: `its header says ${sniff.width}×${sniff.height} pixels, which needs at least ${formatBytes(sniff.minBytes)}, but the file has ${formatBytes(byteLength)}`,
    });
  }
}
