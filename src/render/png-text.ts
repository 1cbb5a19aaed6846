/**
 * Adds text metadata (an iTXt chunk, UTF-8) to a PNG, so an exported picture carries its caption
 * as machine-readable text as well as drawn pixels. Pure, no DOM.
 */
const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

let crcTable: Uint32Array | null = null;
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length > 33 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Insert an iTXt chunk right after IHDR. Throws on non-PNG input (a programming error). */
export function addPngText(png: Uint8Array, keyword: string, text: string): Uint8Array {
  if (!isPng(png)) throw new Error('addPngText: not a PNG');
  const enc = new TextEncoder();
  const key = enc.encode(keyword.slice(0, 79));
  const body = enc.encode(text);
  // keyword \0 compression-flag compression-method language-tag \0 translated-keyword \0 text
  const data = new Uint8Array(key.length + 5 + body.length);
  data.set(key, 0);
  data.set(body, key.length + 5);
  const typeAndData = new Uint8Array(4 + data.length);
  typeAndData.set(enc.encode('iTXt'), 0);
  typeAndData.set(data, 4);
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  chunk.set(typeAndData, 4);
  view.setUint32(8 + data.length, crc32(typeAndData));
  const ihdrEnd = 8 + 12 + new DataView(png.buffer, png.byteOffset).getUint32(8);
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, ihdrEnd), 0);
  out.set(chunk, ihdrEnd);
  out.set(png.subarray(ihdrEnd), ihdrEnd + chunk.length);
  return out;
}

/** Read every tEXt/iTXt chunk (keyword → text); checks each chunk's CRC. */
export function readPngText(png: Uint8Array): Record<string, string> {
  if (!isPng(png)) throw new Error('readPngText: not a PNG');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const dec = new TextDecoder();
  const out: Record<string, string> = {};
  let at = 8;
  while (at + 12 <= png.length) {
    const length = view.getUint32(at);
    const type = dec.decode(png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + length);
    if (crc32(png.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length)) throw new Error(`readPngText: bad CRC in ${type}`);
    if (type === 'tEXt' || type === 'iTXt') {
      const zero = data.indexOf(0);
      const keyword = dec.decode(data.subarray(0, zero));
      if (type === 'tEXt') out[keyword] = new TextDecoder('latin1').decode(data.subarray(zero + 1));
      else {
        const lang = data.indexOf(0, zero + 3);
        const translated = data.indexOf(0, lang + 1);
        out[keyword] = dec.decode(data.subarray(translated + 1));
      }
    }
    if (type === 'IEND') break;
    at += 12 + length;
  }
  return out;
}

/** Width and height from IHDR. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  if (!isPng(png)) throw new Error('pngSize: not a PNG');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
