/**
 * Node only: file-system access for the command line that never hangs and never reports INTERNAL.
 * Every errno becomes a coded StudioError naming the path; special files (a FIFO, a socket, a
 * device) are refused without blocking (opened O_NONBLOCK, then fstat'ed); a read that does not
 * finish in time is abandoned with FILE_READ_TIMEOUT; symbolic links are followed, with a guard
 * against loops (a Hugging Face snapshot is a folder of links into a blob store).
 */
import { constants } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { StudioError, studioError } from '../../shared/errors';

/** Long enough for a slow network disk to answer; short enough that a stuck mount does not stall a batch. */
export const READ_TIMEOUT_MS = 30_000;

function errnoOf(e: unknown): string {
  return e && typeof e === 'object' && 'code' in e ? String((e as { code: unknown }).code) : '';
}

/** An errno (ENOENT, EISDIR, …) on `path` as the coded error the user sees. */
export function fsError(e: unknown, path: string): StudioError {
  if (e instanceof StudioError) return e;
  const errno = errnoOf(e);
  const reason = errno || (e instanceof Error ? e.message : String(e));
  switch (errno) {
    case 'ENOENT':
    case 'ENOTDIR':
      return studioError('FILE_NOT_FOUND', { path, reason });
    case 'EISDIR':
      return studioError('NOT_A_FILE', { path, kind: 'folder' });
    case 'EACCES':
    case 'EPERM':
      return studioError('FILE_PERMISSION_DENIED', { path });
    case 'ELOOP':
      return studioError('SYMLINK_LOOP', { path });
    case 'EEXIST':
      return studioError('NOT_A_FOLDER', { path });
    default:
      return studioError('FILE_READ_FAILED', { path, reason });
  }
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'folder';
  if (info.isFIFO()) return 'named pipe (FIFO)';
  if (info.isSocket()) return 'socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'device';
  return 'special file';
}

function withTimeout<T>(work: Promise<T>, ms: number, path: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(studioError('FILE_READ_TIMEOUT', { path, seconds: Math.round(ms / 1000) })), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** stat (links followed) with coded errors. */
export async function statPath(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (e) {
    throw fsError(e, path);
  }
}

/**
 * The bytes of a regular file (links followed). O_NONBLOCK makes opening a FIFO return at once, so
 * a file swapped for a pipe after listing is refused rather than waited on forever.
 */
export async function readFileSafely(path: string, options: { timeoutMs?: number; maxBytes?: number; length?: number } = {}): Promise<Uint8Array> {
  const timeoutMs = options.timeoutMs ?? READ_TIMEOUT_MS;
  let handle;
  try {
    handle = await withTimeout(open(path, constants.O_RDONLY | constants.O_NONBLOCK), timeoutMs, path);
  } catch (e) {
    throw fsError(e, path);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw studioError('NOT_A_FILE', { path, kind: kindOf(info) });
    const wanted = Math.min(info.size, options.length ?? Infinity);
    if (options.maxBytes !== undefined && wanted > options.maxBytes) throw studioError('FILE_TOO_LARGE', { path, mb: Math.round(wanted / 1e6), limitMb: Math.round(options.maxBytes / 1e6) });
    const buffer = new Uint8Array(wanted);
    const read = async () => {
      let offset = 0;
      while (offset < wanted) {
        const { bytesRead } = await handle.read(buffer, offset, wanted - offset, offset);
        if (bytesRead === 0) break; // shrank since fstat: what is there
        offset += bytesRead;
      }
      return buffer.subarray(0, offset);
    };
    return await withTimeout(read(), timeoutMs, path);
  } catch (e) {
    throw fsError(e, path);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

export interface WalkEntry {
  /** Absolute (as joined) path, through the links as named. */
  path: string;
  /** Name as listed (a link's own name, not its target's). */
  name: string;
  info: Stats;
}

/**
 * Regular files under `dir` (sorted by name at each level), links followed. A folder reached twice
 * by its real path (a link to an ancestor, or two links to one place) is walked once; a dangling
 * link or a link loop is skipped, as is any special file. `skip` filters names before any stat.
 */
export async function walkFiles(dir: string, options: { recursive: boolean; skip?: (name: string) => boolean }): Promise<WalkEntry[]> {
  const out: WalkEntry[] = [];
  const seen = new Set<string>();
  const visit = async (folder: string) => {
    let real: string;
    let names: string[];
    try {
      real = await realpath(folder);
      if (seen.has(real)) return;
      seen.add(real);
      names = (await readdir(folder)).sort((a, b) => a.localeCompare(b));
    } catch (e) {
      throw fsError(e, folder);
    }
    for (const name of names) {
      if (options.skip?.(name)) continue;
      const full = join(folder, name);
      let info: Stats;
      try {
        info = await stat(full); // follows links
      } catch {
        continue; // a dangling link or a loop: nothing to read
      }
      if (info.isDirectory()) {
        if (options.recursive) await visit(full);
      } else if (info.isFile()) out.push({ path: full, name, info });
    }
  };
  await visit(dir);
  return out;
}
