import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StudioError } from '../../shared/errors';
import { filesFromPaths } from './files';

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'files-test-'));
  mkdirSync(join(root, 'model/sub'), { recursive: true });
  writeFileSync(join(root, 'model/model.json'), '{"a":1}');
  writeFileSync(join(root, 'model/group1-shard1of1'), new Uint8Array([1, 2, 3]));
  writeFileSync(join(root, 'model/sub/labels.txt'), 'x\n');
  writeFileSync(join(root, 'photo.png'), new Uint8Array([9]));
  mkdirSync(join(root, 'keras'));
  for (const name of ['net.h5', 'labels.txt', 'metadata.json', 'notes.md', 'other.h5']) writeFileSync(join(root, 'keras', name), 'x');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('filesFromPaths', () => {
  it('a directory expands to its files recursively, with paths under the folder name', async () => {
    const files = await filesFromPaths([join(root, 'model')]);
    expect(files.map((f) => f.path)).toEqual(['model/group1-shard1of1', 'model/model.json', 'model/sub/labels.txt']);
    const shard = files[0];
    expect(shard.name).toBe('group1-shard1of1');
    expect(shard.size).toBe(3);
    expect(Array.from(await shard.bytes())).toEqual([1, 2, 3]);
  });

  it('a model.json path brings its siblings (not sub-folders), itself first', async () => {
    const files = await filesFromPaths([join(root, 'model/model.json')]);
    expect(files.map((f) => f.path)).toEqual(['model/model.json', 'model/group1-shard1of1']);
  });

  it('a Keras file brings labels.txt and metadata.json beside it, nothing else', async () => {
    const files = await filesFromPaths([join(root, 'keras/net.h5')]);
    expect(files.map((f) => f.path)).toEqual(['keras/net.h5', 'keras/labels.txt', 'keras/metadata.json']);
  });

  it('any other file is itself; a missing path → FILE_NOT_FOUND naming it', async () => {
    const files = await filesFromPaths([join(root, 'photo.png')]);
    expect(files.map((f) => [f.name, f.size])).toEqual([['photo.png', 1]]);
    const missing = join(root, 'nope.json');
    const e = await filesFromPaths([missing]).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(StudioError);
    expect((e as StudioError).code).toBe('FILE_NOT_FOUND');
    expect((e as StudioError).message).toContain(missing);
  });
});
