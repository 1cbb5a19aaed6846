/**
 * Node only (tests): hostile zips built in memory in a blink, however much they unpack to. An
 * all-zero entry is one full-flushed deflate block of 1 MiB of zeros (~1 KB, no reference to what
 * came before) repeated, then a final empty block: 1.9 GB of zeros in about 2 MB, with no 1.9 GB
 * buffer ever made. The CRC is left 0 (readers refuse these long before they could check it).
 */
import { constants, deflateRawSync } from 'node:zlib';

const MIB = 1024 * 1024;

export interface RawZipEntry {
  name: string;
  /** 0 stored, 8 deflate. */
  method: 0 | 8;
  data: Uint8Array;
  /** Uncompressed size as the headers say. */
  size: number;
  crc?: number;
}

/** `mib` MiB of zeros as a raw deflate stream. */
export function deflatedZeros(mib: number): Uint8Array {
  const block = deflateRawSync(new Uint8Array(MIB), { finishFlush: constants.Z_FULL_FLUSH });
  const out = new Uint8Array(block.length * mib + 2);
  for (let i = 0; i < mib; i++) out.set(block, i * block.length);
  out.set([0x03, 0x00], block.length * mib); // a final, empty fixed-Huffman block
  return out;
}

/** A zip (local headers, central directory, end record) of the entries as given. */
export function rawZip(entries: RawZipEntry[]): Uint8Array {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = encoder.encode(e.name);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, e.method, true);
    lv.setUint32(14, e.crc ?? 0, true);
    lv.setUint32(18, e.data.length, true);
    lv.setUint32(22, e.size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const dir = new Uint8Array(46 + name.length);
    const dv = new DataView(dir.buffer);
    dv.setUint32(0, 0x02014b50, true);
    dv.setUint16(4, 20, true);
    dv.setUint16(6, 20, true);
    dv.setUint16(10, e.method, true);
    dv.setUint32(16, e.crc ?? 0, true);
    dv.setUint32(20, e.data.length, true);
    dv.setUint32(24, e.size, true);
    dv.setUint16(28, name.length, true);
    dv.setUint32(42, offset, true);
    dir.set(name, 46);
    parts.push(local, e.data);
    central.push(dir);
    offset += local.length + e.data.length;
  }
  const centralSize = central.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, centralSize, true);
  ev.setUint32(16, offset, true);
  const all = [...parts, ...central, end];
  const out = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One entry of `mib` MiB of zeros named like a photo (the 2.1 MB zip that held a "1.9 GB image"). */
export function zeroBomb(mib: number, name = 'photo.png', copies = 1): Uint8Array {
  const data = deflatedZeros(mib);
  return rawZip(Array.from({ length: copies }, (_, i) => ({ name: copies === 1 ? name : name.replace(/(\.\w+)$/, `-${i}$1`), method: 8 as const, data, size: mib * MIB })));
}

/** `outer` zips of `inner` zips of one `mib`-MiB zero entry each, nested zips stored. */
export function nestedBomb(outer: number, inner: number, mib: number): Uint8Array {
  const leaf = zeroBomb(mib, 'layer.bin');
  const middle = rawZip(Array.from({ length: inner }, (_, i) => ({ name: `inner-${i}.zip`, method: 0 as const, data: leaf, size: leaf.length })));
  return rawZip(Array.from({ length: outer }, (_, i) => ({ name: `middle-${i}.zip`, method: 0 as const, data: middle, size: middle.length })));
}
