/**
 * Reads an image's kind and size from its first bytes, before decoding, so a huge image can be
 * decoded straight to a smaller size. Pure (no DOM); unit-tested in Node.
 */
export type ImageKind = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | 'svg' | 'unknown';

export interface ImageSniff {
  kind: ImageKind;
  width?: number;
  height?: number;
  /** GIF with a NETSCAPE looping block or more than one frame. */
  animated?: boolean;
}

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

export function sniffImage(bytes: Uint8Array): ImageSniff {
  const b = bytes;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length >= 24 && b[0] === 0x89 && ascii(b, 1, 3) === 'PNG') return { kind: 'png', width: view.getUint32(16), height: view.getUint32(20) };
  if (b.length >= 10 && ascii(b, 0, 4) === 'GIF8') {
    const animated = ascii(b, 0, Math.min(b.length, 4096)).includes('NETSCAPE2.0') || gifFrameCount(b) > 1;
    return { kind: 'gif', width: view.getUint16(6, true), height: view.getUint16(8, true), animated };
  }
  if (b.length >= 26 && b[0] === 0x42 && b[1] === 0x4d) return { kind: 'bmp', width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
  if (b.length >= 30 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') {
    const chunk = ascii(b, 12, 4);
    if (chunk === 'VP8X') return { kind: 'webp', width: 1 + (b[24] | (b[25] << 8) | (b[26] << 16)), height: 1 + (b[27] | (b[28] << 8) | (b[29] << 16)) };
    if (chunk === 'VP8L') {
      const bits = view.getUint32(21, true);
      return { kind: 'webp', width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
    }
    if (chunk === 'VP8 ') return { kind: 'webp', width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
    return { kind: 'webp' };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    // Walk JPEG segments to the first SOFn (not DHT C4, JPG C8, DAC CC).
    let at = 2;
    while (at + 9 < b.length) {
      if (b[at] !== 0xff) { at++; continue; }
      const marker = b[at + 1];
      if (marker === 0xff) { at++; continue; }
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
        return { kind: 'jpeg', height: view.getUint16(at + 5), width: view.getUint16(at + 7) };
      if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { at += 2; continue; }
      at += 2 + view.getUint16(at + 2);
    }
    return { kind: 'jpeg' };
  }
  const head = new TextDecoder().decode(b.subarray(0, 1024)).trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg')) || head.includes('<svg')) return { kind: 'svg' };
  return { kind: 'unknown' };
}

/** Size to decode to: the same, or scaled so the longer side is `maxSide`. */
export function decodeSize(width: number, height: number, maxSide = MAX_IMAGE_SIDE): { width: number; height: number; downscaled: boolean } {
  const longer = Math.max(width, height);
  if (longer <= maxSide) return { width, height, downscaled: false };
  const scale = maxSide / longer;
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)), downscaled: true };
}
