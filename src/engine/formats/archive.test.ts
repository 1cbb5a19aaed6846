/** Archive limits hold while inflating: bombs refused early with a code naming the entry; names sanitised. */
import { describe, expect, it } from 'vitest';
import { zipSync, unzipSync } from 'fflate';
import { fromBytes } from '../files';
import { newArchiveBudget, unzipLimited } from './archive';
import { classifyFiles, openModel } from './index';
import { deflatedZeros, nestedBomb, rawZip, zeroBomb } from '../node/zip-bombs';

const codeOf = (f: () => unknown) => {
  try {
    f();
    return 'none';
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('unzipLimited', () => {
  it('opens an ordinary zip exactly as fflate unzipSync does', () => {
    const files = { 'a.txt': new TextEncoder().encode('hello'), 'dir/b.bin': new Uint8Array(300_000).map((_, i) => (i * 31) % 251) };
    const zip = zipSync(files);
    expect(unzipLimited(zip, 'ok.zip')).toEqual(unzipSync(zip));
  });

  it('a 1.9 GB all-zero entry in a 2 MB zip: refused by its declared size, and by ratio after a few MB when the header lies', () => {
    const bomb = zeroBomb(1900);
    expect(bomb.length).toBeLessThan(3_000_000);
    expect(codeOf(() => unzipLimited(bomb, 'bomb.zip'))).toBe('ZIP_ENTRY_TOO_LARGE');
    const lying = rawZip([{ name: 'photo.png', method: 8, data: deflatedZeros(1900), size: 1000 }]);
    const budget = newArchiveBudget();
    let error: { code?: string; message?: string } = {};
    try {
      unzipLimited(lying, 'bomb.zip', { budget });
    } catch (e) {
      error = e as typeof error;
    }
    expect(error.code).toBe('ZIP_RATIO_TOO_HIGH');
    expect(error.message).toContain('photo.png in bomb.zip');
    // Inflated before the refusal: bounded by one 64 KiB slice at deflate's maximum ratio, not gigabytes.
    expect(budget.totalBytes).toBeLessThan(80 * 1024 * 1024);
  });

  it('each limit has its code: total, entry, count, declared size', () => {
    const noise = (n: number) => new Uint8Array(n).map((_, i) => (i * 2654435761) >>> 24);
    const three = zipSync({ 'a.bin': noise(40_000), 'b.bin': noise(40_000), 'c.bin': noise(40_000) }, { level: 0 });
    expect(codeOf(() => unzipLimited(three, 'z', { budget: newArchiveBudget({ maxTotalBytes: 100_000 }) }))).toBe('ZIP_TOO_LARGE');
    expect(codeOf(() => unzipLimited(three, 'z', { budget: newArchiveBudget({ maxEntryBytes: 30_000 }) }))).toBe('ZIP_ENTRY_TOO_LARGE');
    expect(codeOf(() => unzipLimited(three, 'z', { budget: newArchiveBudget({ maxEntries: 2 }) }))).toBe('ZIP_TOO_MANY_ENTRIES');
    expect(codeOf(() => unzipLimited(three, 'z', { budget: newArchiveBudget({ maxEntries: 3, maxTotalBytes: 120_000, maxEntryBytes: 40_000 }) }))).toBe('none');
    // A header that declares a huge size is refused before inflating.
    const declared = rawZip([{ name: 'big.png', method: 0, data: new Uint8Array(10), size: 3_000_000_000 }]);
    expect(codeOf(() => unzipLimited(declared, 'z'))).toBe('ZIP_ENTRY_TOO_LARGE');
  });

  it('a truncated zip is ZIP_INVALID, naming where it ends', () => {
    const zip = zipSync({ 'a.bin': new Uint8Array(200_000).map((_, i) => (i * 7) % 256) }, { level: 0 });
    let message = '';
    try {
      unzipLimited(zip.subarray(0, 100_000), 'cut.zip');
    } catch (e) {
      expect((e as { code?: string }).code).toBe('ZIP_INVALID');
      message = (e as Error).message;
    }
    expect(message).toContain('a.bin');
  });

  it('entry names are sanitised: no .., absolute paths, drive letters or control characters', () => {
    const data = new Uint8Array([1]);
    const zip = rawZip(['../../etc/passwd', '/abs/root.png', 'C:/win/x.png', 'C:\\win\\y.png', 'nul\u0000byte.png', 'ok/./a.png', 'ok/a.png'].map((name) => ({ name, method: 0, data, size: 1, crc: 0xa505df1b })));
    expect(Object.keys(unzipLimited(zip, 'names.zip')).sort()).toEqual(['abs/root.png', 'etc/passwd', 'nulbyte.png', 'ok/a (2).png', 'ok/a.png', 'win/x.png', 'win/y.png']);
  });
});

describe('archives in a drop', () => {
  it('nested bombs (10 × 10 × 200 MB) stop at the first leaf; too deep is its own code', async () => {
    const nested = nestedBomb(10, 10, 200);
    const e = await classifyFiles([fromBytes('nested.zip', nested)]).catch((err: unknown) => err as { code?: string; message?: string });
    expect(e).toMatchObject({ code: 'ZIP_RATIO_TOO_HIGH' });
    expect((e as { message: string }).message).toContain('layer.bin');
    let deep: Uint8Array = zipSync({ 'x.txt': new Uint8Array([1]) });
    for (let i = 0; i < 5; i++) deep = zipSync({ [`level${i}.zip`]: deep }, { level: 0 });
    await expect(classifyFiles([fromBytes('deep.zip', deep)])).rejects.toMatchObject({ code: 'ZIP_TOO_DEEP' });
    await expect(openModel([fromBytes('bomb.zip', zeroBomb(300))])).rejects.toMatchObject({ code: 'ZIP_RATIO_TOO_HIGH' });
  });

  it('a truncated zip beside good files is reported and the rest opens', async () => {
    const good = zipSync({ 'cats/a.png': new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]) });
    const bad = zipSync({ 'b.bin': new Uint8Array(100_000).map((_, i) => i % 256) }, { level: 0 }).subarray(0, 50_000);
    const result = await classifyFiles([fromBytes('good.zip', good), fromBytes('bad.zip', bad)]);
    expect(result.images.map((f) => f.path)).toEqual(['good/cats/a.png']);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ code: 'ZIP_INVALID' });
    expect(result.problems[0]?.message).toContain('bad.zip');
    // Alone, the bad zip is the error.
    await expect(classifyFiles([fromBytes('bad.zip', bad)])).rejects.toMatchObject({ code: 'ZIP_INVALID' });
  });
});
