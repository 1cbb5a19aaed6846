/**
 * The batch command line's files besides the images: the output folder (checked before any row),
 * the CSV (read for resuming with a torn last row dropped) and its lock file (one writer per CSV).
 */
import { mkdir, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { csvHeader, parseBatchCsv, type ParsedBatchCsv } from '../src/shared/batch-results';
import { studioError } from '../src/shared/errors';
import { fsError, readFileSafely, statPath } from '../src/engine/node/safe-fs';

/** The output folder exists as a folder (made if missing) and can be written: else a coded error now. */
export async function checkOutDir(outDir: string): Promise<void> {
  try {
    await mkdir(outDir, { recursive: true });
  } catch (e) {
    throw fsError(e, outDir);
  }
  const info = await statPath(outDir);
  if (!info.isDirectory()) throw studioError('NOT_A_FOLDER', { path: outDir });
  // Writable: a probe file, removed at once (access() says yes to root on a read-only mount).
  const probe = `${outDir}/.gradcam-write-test-${process.pid}`;
  try {
    await writeFile(probe, '');
    await unlink(probe);
  } catch (e) {
    const err = fsError(e, outDir);
    throw err.code === 'FILE_READ_FAILED' ? studioError('FILE_WRITE_FAILED', { path: outDir, reason: String((e as { code?: unknown }).code ?? e) }) : err;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as { code?: string }).code === 'EPERM';
  }
  // A killed run can linger as a zombie (in a container whose init does not reap): dead all the same.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): trust kill()
  }
}

/**
 * `<csv>.lock`, made with O_EXCL and holding our pid. A second run on the same CSV refuses with
 * BATCH_LOCKED while the holder lives; a lock left by a killed run (its pid gone) is taken over.
 * Returns the release function.
 */
export async function acquireCsvLock(csv: string): Promise<() => Promise<void>> {
  const lock = `${csv}.lock`;
  try {
    await mkdir(dirname(lock), { recursive: true });
  } catch (e) {
    throw fsError(e, dirname(lock));
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lock, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        await unlink(lock).catch(() => undefined);
      };
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw fsError(e, lock);
    }
    const holder = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) throw studioError('BATCH_LOCKED', { csv, pid: holder });
    // Stale (its run was killed) or half-written: remove and try once more; a racing run that wins
    // the O_EXCL create makes this one refuse on the second attempt.
    await unlink(lock).catch(() => undefined);
  }
  throw studioError('BATCH_LOCKED', { csv, pid: 0 });
}

/**
 * The CSV's complete rows (for skipping done images), created with its header when missing. A torn
 * last row (a kill mid-append) is cut off on disk, by writing the complete rows to a temporary file
 * and renaming it over, so that the next row does not glue onto it.
 */
export async function openBatchCsv(csv: string): Promise<ParsedBatchCsv> {
  let text: string | null = null;
  try {
    text = new TextDecoder().decode(await readFileSafely(csv));
  } catch (e) {
    if (!(e instanceof Error && 'code' in e && e.code === 'FILE_NOT_FOUND')) throw e;
  }
  const write = async (content: string) => {
    try {
      await mkdir(dirname(csv), { recursive: true });
      await writeFile(`${csv}.partial`, content);
      await rename(`${csv}.partial`, csv);
    } catch (e) {
      throw fsError(e, csv);
    }
  };
  if (text === null || text.length === 0) {
    await write(`${csvHeader()}\n`);
    return { files: [], complete: `${csvHeader()}\n`, tornTail: false };
  }
  const parsed = parseBatchCsv(text);
  if (parsed.tornTail) await write(parsed.complete);
  return parsed;
}
