/**
 * Turn a drop, a picker or a paste into the flat file list the worker takes, keeping each file's
 * path inside a dropped folder (Netron-style: a whole folder is one model).
 */
import type { TransferredFile } from '../protocol';

/** The subset of FileSystemEntry that the walk uses (lets tests hand in plain objects). */
export interface EntryLike {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  fullPath: string;
}

function relativePath(entry: EntryLike): string {
  return entry.fullPath.replace(/^\/+/, '') || entry.name;
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** A directory reader hands out entries in batches (100 in Chromium): read until it is empty. */
async function readAll(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) return all;
    all.push(...batch);
  }
}

/** Every file under the given entries, folders walked recursively, in a stable (path) order. */
export async function filesFromEntries(entries: EntryLike[]): Promise<TransferredFile[]> {
  const out: TransferredFile[] = [];
  const walk = async (entry: EntryLike): Promise<void> => {
    if (entry.isFile) {
      out.push({ file: await fileOf(entry as unknown as FileSystemFileEntry), path: relativePath(entry) });
    } else if (entry.isDirectory) {
      for (const child of await readAll(entry as unknown as FileSystemDirectoryEntry)) await walk(child);
    }
  };
  for (const entry of entries) await walk(entry);
  return out.sort((a, b) => (a.path ?? '').localeCompare(b.path ?? ''));
}

/**
 * Read a drop. The entries must be taken synchronously inside the drop event (the browser empties
 * the DataTransfer afterwards); the walk itself is async.
 */
export function takeDrop(dt: DataTransfer): Promise<TransferredFile[]> {
  const entries: EntryLike[] = [];
  const plain: File[] = [];
  for (const item of Array.from(dt.items ?? [])) {
    if (item.kind !== 'file') continue;
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) plain.push(f);
    }
  }
  if (!entries.length && !plain.length) plain.push(...Array.from(dt.files ?? []));
  return filesFromEntries(entries).then((walked) => [...walked, ...plain.map((file) => ({ file, path: file.name }))]);
}

/** Files from an <input type="file"> (a folder picker sets webkitRelativePath). */
export function filesFromInput(list: FileList | null): TransferredFile[] {
  return Array.from(list ?? []).map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/** Images pasted with Ctrl+V (screenshots, copied images). */
export function filesFromClipboard(data: DataTransfer | null): TransferredFile[] {
  if (!data) return [];
  const files = Array.from(data.files ?? []);
  if (!files.length) {
    for (const item of Array.from(data.items ?? [])) {
      if (item.kind === 'file') {
        const f = item.getAsFile();
        if (f) files.push(f);
      }
    }
  }
  return files.map((file) => ({ file, path: file.name || 'pasted-image.png' }));
}
