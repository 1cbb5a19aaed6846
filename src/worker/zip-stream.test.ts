import { describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import { BlobZipWriter } from './zip-stream';

describe('BlobZipWriter', () => {
  it('writes entries as they come into a zip that fflate reads back; past the fold size too', async () => {
    const zip = new BlobZipWriter();
    const big = new Uint8Array(17 * 1024 * 1024).map((_, i) => (i * 2654435761) >>> 24);
    const entries: Record<string, Uint8Array> = { 'overlays/a.png.png': new Uint8Array([1, 2, 3]), 'overlays/big.png': big, 'results.csv': new TextEncoder().encode('file\na\n') };
    for (const [name, data] of Object.entries(entries)) zip.add(name, data, name.endsWith('.csv'));
    const blob = await zip.finish();
    expect(blob.type).toBe('application/zip');
    const back = unzipSync(new Uint8Array(await blob.arrayBuffer()));
    expect(Object.keys(back).sort()).toEqual(Object.keys(entries).sort());
    // Byte comparison (a deep-equal of 17 MB arrays would be slow and its diff huge).
    for (const [name, data] of Object.entries(entries)) expect(Buffer.compare(Buffer.from(back[name] ?? []), Buffer.from(data)), name).toBe(0);
  });
});
