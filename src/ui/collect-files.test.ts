import { describe, expect, it } from 'vitest';
import { filesFromEntries, filesFromInput, type EntryLike } from './collect-files';

/** A folder tree shaped like the browser's FileSystemEntry API, with readers that hand out batches. */
function fileEntry(fullPath: string, text = fullPath): EntryLike & { file: (ok: (f: File) => void) => void } {
  const name = fullPath.split('/').pop()!;
  return { isFile: true, isDirectory: false, name, fullPath, file: (ok) => ok(new File([text], name)) };
}

function dirEntry(fullPath: string, children: EntryLike[], batch = 2) {
  return {
    isFile: false,
    isDirectory: true,
    name: fullPath.split('/').pop()!,
    fullPath,
    createReader() {
      let at = 0;
      return {
        readEntries(ok: (entries: EntryLike[]) => void) {
          const out = children.slice(at, at + batch);
          at += out.length;
          setTimeout(() => ok(out), 0);
        },
      };
    },
  };
}

describe('filesFromEntries', () => {
  it('walks nested folders through batched readers and keeps relative paths', async () => {
    const tree = dirEntry('/tm', [
      fileEntry('/tm/model.json', '{}'),
      fileEntry('/tm/weights.bin'),
      fileEntry('/tm/metadata.json'),
      dirEntry('/tm/extra', [fileEntry('/tm/extra/labels.txt', 'a\nb')]),
    ]);
    const files = await filesFromEntries([tree, fileEntry('/cat.png')]);
    expect(files.map((f) => f.path)).toEqual(['cat.png', 'tm/extra/labels.txt', 'tm/metadata.json', 'tm/model.json', 'tm/weights.bin']);
    expect(files.map((f) => f.file.name)).toEqual(['cat.png', 'labels.txt', 'metadata.json', 'model.json', 'weights.bin']);
    expect(await files[1].file.text()).toBe('a\nb');
  });

  it('returns nothing for an empty folder', async () => {
    expect(await filesFromEntries([dirEntry('/empty', [])])).toEqual([]);
  });
});

describe('filesFromInput', () => {
  it('uses webkitRelativePath from a folder picker, else the name', () => {
    const inFolder = new File(['x'], 'model.json');
    Object.defineProperty(inFolder, 'webkitRelativePath', { value: 'tm/model.json' });
    const loose = new File(['y'], 'cat.png');
    const list = [inFolder, loose] as unknown as FileList;
    expect(filesFromInput(list).map((f) => f.path)).toEqual(['tm/model.json', 'cat.png']);
    expect(filesFromInput(null)).toEqual([]);
  });
});
