/**
 * Zip archives opened with limits that hold WHILE inflating (fflate's streaming Unzip), never after:
 * total uncompressed bytes, bytes per entry, entry count, nesting depth and compression ratio. A zip
 * bomb (2 MB holding a 1.9 GB all-zero "image") is refused after its first 64 KiB of compressed
 * input instead of being inflated to gigabytes first.
 */
import { Unzip, UnzipInflate, UnzipPassThrough, type UnzipFile } from 'fflate';
import { StudioError, studioError } from '../../shared/errors';
import { sanitizeEntryName, uniqueEntryName } from '../../shared/entry-names';
import { defaultMemoryBudgetMb } from './memory-estimate';

export interface ArchiveLimits {
  /** Uncompressed bytes of one drop's archives together (nested ones included). */
  maxTotalBytes: number;
  /** Uncompressed bytes of one entry. */
  maxEntryBytes: number;
  /** Entries of one drop's archives together. */
  maxEntries: number;
  /** Zips inside zips: how deep (1 = a zip's entries may not be zips). */
  maxDepth: number;
  /** Uncompressed ÷ compressed bytes of an entry, checked once it is past `ratioFloorBytes`. */
  maxRatio: number;
  ratioFloorBytes: number;
}

/**
 * Defaults: the total is the memory budget the app already uses for models (navigator.deviceMemory / 4,
 * 1 GB when unknown), since every entry is held in memory. Deflate's ratio tops out near 1032:1 (all
 * zeros); photos and weights compress 1–3:1, JSON about 10:1; 200:1 past 4 MB leaves a wide margin.
 */
export function defaultArchiveLimits(): ArchiveLimits {
  const deviceMemory = (globalThis as { navigator?: { deviceMemory?: number } }).navigator?.deviceMemory;
  const budget = defaultMemoryBudgetMb(deviceMemory) * 1024 * 1024;
  return { maxTotalBytes: budget, maxEntryBytes: Math.min(budget, 512 * 1024 * 1024), maxEntries: 20_000, maxDepth: 3, maxRatio: 200, ratioFloorBytes: 4 * 1024 * 1024 };
}

/** What a drop's archives have used so far (nested archives share it with their parent). */
export interface ArchiveBudget {
  limits: ArchiveLimits;
  totalBytes: number;
  entries: number;
}

export function newArchiveBudget(limits: Partial<ArchiveLimits> = {}): ArchiveBudget {
  return { limits: { ...defaultArchiveLimits(), ...limits }, totalBytes: 0, entries: 0 };
}

/**
 * Compressed input is fed in slices this big: fflate inflates each pushed slice in one go, so the
 * slice bounds what one step can produce (≤ ~66 MB at deflate's maximum ratio) before a check runs.
 */
const SLICE = 64 * 1024;

const mb = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MB`;

export interface UnzipOptions {
  /** Entries to inflate (by their name as stored); others are skipped without inflating. */
  filter?: (name: string) => boolean;
  budget?: ArchiveBudget;
}

/**
 * The archive's entries by sanitised, unique name (directories left out). Throws a coded error
 * (ZIP_TOO_LARGE, ZIP_ENTRY_TOO_LARGE, ZIP_TOO_MANY_ENTRIES, ZIP_RATIO_TOO_HIGH, ZIP_INVALID) that
 * names the archive and the entry.
 */
export function unzipLimited(bytes: Uint8Array, archive: string, options: UnzipOptions = {}): Record<string, Uint8Array> {
  const budget = options.budget ?? newArchiveBudget();
  const { limits } = budget;
  const out: Record<string, Uint8Array> = {};
  const used = new Set<string>();
  const open = new Set<string>();
  let failure: StudioError | null = null;
  let pushed = 0;
  const fail = (error: StudioError, file?: UnzipFile) => {
    failure ??= error;
    file?.terminate();
  };
  let seen = 0;
  const unzipper = new Unzip((file) => {
    seen += 1;
    if (failure) return;
    if (file.name.endsWith('/')) return; // a folder entry: nothing to hold
    if (options.filter && !options.filter(file.name)) return;
    const entry = file.name;
    budget.entries += 1;
    if (budget.entries > limits.maxEntries) return fail(studioError('ZIP_TOO_MANY_ENTRIES', { file: archive, entry, limit: limits.maxEntries }));
    // A declared size over the limit is refused before a byte is inflated (the real size is checked too: headers can lie).
    if ((file.originalSize ?? 0) > limits.maxEntryBytes) return fail(studioError('ZIP_ENTRY_TOO_LARGE', { file: archive, entry, size: mb(file.originalSize ?? 0), limit: mb(limits.maxEntryBytes) }));
    const startedAt = pushed;
    const chunks: Uint8Array[] = [];
    let size = 0;
    open.add(entry);
    file.ondata = (err, chunk, final) => {
      if (failure) return;
      if (err) return fail(studioError('ZIP_INVALID', { file: archive, reason: `${entry}: ${err.message}` }), file);
      size += chunk.length;
      budget.totalBytes += chunk.length;
      if (size > limits.maxEntryBytes) return fail(studioError('ZIP_ENTRY_TOO_LARGE', { file: archive, entry, size: `over ${mb(limits.maxEntryBytes)}`, limit: mb(limits.maxEntryBytes) }), file);
      if (budget.totalBytes > limits.maxTotalBytes) return fail(studioError('ZIP_TOO_LARGE', { file: archive, entry, limit: mb(limits.maxTotalBytes) }), file);
      // Compressed bytes this entry can have used: everything pushed since its header (an upper bound).
      const compressed = Math.max(1, pushed + SLICE - startedAt);
      if (size > limits.ratioFloorBytes && size / compressed > limits.maxRatio) {
        return fail(studioError('ZIP_RATIO_TOO_HIGH', { file: archive, entry, ratio: Math.round(size / compressed), limit: limits.maxRatio }), file);
      }
      if (chunk.length) chunks.push(chunk);
      if (final) {
        open.delete(entry);
        out[uniqueEntryName(sanitizeEntryName(entry), used)] = concat(chunks, size);
      }
    };
    file.start();
  });
  unzipper.register(UnzipInflate);
  unzipper.register(UnzipPassThrough);
  try {
    for (let at = 0; at < bytes.length && !failure; at += SLICE) {
      pushed = at;
      unzipper.push(bytes.subarray(at, Math.min(bytes.length, at + SLICE)), at + SLICE >= bytes.length);
    }
    if (bytes.length === 0) unzipper.push(new Uint8Array(0), true);
  } catch (e) {
    const inside = [...open][0];
    fail(studioError('ZIP_INVALID', { file: archive, reason: `${e instanceof Error ? e.message : String(e)}${inside ? `, inside ${inside}: truncated?` : ''}` }));
  }
  if (failure) throw failure;
  if (open.size > 0) throw studioError('ZIP_INVALID', { file: archive, reason: `it ends inside ${[...open][0]} (truncated?)` });
  if (seen === 0 && !isEmptyZip(bytes)) throw studioError('ZIP_INVALID', { file: archive, reason: 'no zip entries found' });
  return out;
}

/** An empty archive is only an end-of-central-directory record (PK\5\6, 22 bytes). */
function isEmptyZip(bytes: Uint8Array): boolean {
  return bytes.length === 22 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x05 && bytes[3] === 0x06;
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const whole = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    whole.set(c, at);
    at += c.length;
  }
  return whole;
}
