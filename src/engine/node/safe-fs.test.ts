/** Coded file-system errors, special files refused without blocking, links followed with a loop guard. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSafely, walkFiles } from './safe-fs';
import { filesFromPaths } from './files';

let dir: string;
let hasMkfifo = true;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gradcam-safe-fs-'));
  writeFileSync(join(dir, 'real.bin'), new Uint8Array([1, 2, 3, 4]));
  mkdirSync(join(dir, 'blobs'));
  writeFileSync(join(dir, 'blobs', 'abc123'), 'blob');
  mkdirSync(join(dir, 'snapshot'));
  symlinkSync('../blobs/abc123', join(dir, 'snapshot', 'weights.bin'));
  symlinkSync('..', join(dir, 'snapshot', 'up')); // a loop back to an ancestor
  symlinkSync('missing', join(dir, 'snapshot', 'dangling'));
  symlinkSync('self', join(dir, 'self'));
  try {
    execFileSync('mkfifo', [join(dir, 'pipe')]);
  } catch {
    hasMkfifo = false;
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code?: string }) => e.code);

describe('safe file access (command line)', () => {
  it('reads a file and a prefix of it', async () => {
    expect([...(await readFileSafely(join(dir, 'real.bin')))]).toEqual([1, 2, 3, 4]);
    expect([...(await readFileSafely(join(dir, 'real.bin'), { length: 2 }))]).toEqual([1, 2]);
  });

  it('errno values become codes, never INTERNAL', async () => {
    expect(await codeOf(readFileSafely(join(dir, 'nope.png')))).toBe('FILE_NOT_FOUND');
    expect(await codeOf(readFileSafely(join(dir, 'real.bin', 'below')))).toBe('FILE_NOT_FOUND'); // ENOTDIR
    expect(await codeOf(readFileSafely(join(dir, 'blobs')))).toBe('NOT_A_FILE');
    expect(await codeOf(readFileSafely(join(dir, 'self')))).toBe('SYMLINK_LOOP');
    expect(await codeOf(readFileSafely(join(dir, 'real.bin'), { maxBytes: 2 }))).toBe('FILE_TOO_LARGE');
  });

  it('a FIFO is refused at once instead of blocking the reader', async () => {
    if (!hasMkfifo) return;
    expect(await codeOf(readFileSafely(join(dir, 'pipe')))).toBe('NOT_A_FILE');
    // And a listing leaves it out.
    expect((await walkFiles(dir, { recursive: false })).map((e) => e.name)).not.toContain('pipe');
  });

  it('links are followed by their own names; a loop is walked once and a dangling link skipped', async () => {
    const files = await walkFiles(join(dir, 'snapshot'), { recursive: true });
    const names = files.map((e) => e.name);
    expect(names).toContain('weights.bin');
    expect(names).not.toContain('dangling');
    // snapshot/up → the temp folder, which holds snapshot again: walked once, so each file appears once.
    expect(names.filter((n) => n === 'weights.bin')).toHaveLength(1);
    const model = await filesFromPaths([join(dir, 'snapshot')]);
    const weights = model.find((f) => f.name === 'weights.bin');
    expect(weights?.size).toBe(4);
    expect(new TextDecoder().decode(await weights?.bytes())).toBe('blob');
  });
});
