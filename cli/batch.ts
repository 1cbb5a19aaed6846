/**
 * `npm run explain -- --model M --images DIR [--out-dir OUT] [--csv results.csv] [--shard K/N]`:
 * every image under DIR (class subfolders give the true labels) through the same engine, one CSV row
 * per image (src/shared/batch-results.ts: the gallery export's columns) and one overlay PNG per image.
 *
 * Resumable: rows are appended as images finish (an overlay is written, by rename, before its row),
 * and a restart skips every file already in the CSV. `--shard K/N` keeps the images whose path hashes
 * to K of N, so N machines (a job array) split a set without talking to each other; the shards
 * together cover every image exactly once.
 */
import { appendFile, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { LoadedModel } from '../src/engine';
import { decodeImageFile, encodePng, fsError, walkFiles } from '../src/engine/node';
import { overlayOnPhoto } from './overlay';
import { toStudioError } from '../src/shared/errors';
import { csvRow, labelFromPath, mapStatistics, type BatchRecord } from '../src/shared/batch-results';
import { acquireCsvLock, checkOutDir, openBatchCsv } from './batch-files';
import type { ExplainOptions, PreprocessOptions } from '../src/shared/types';

const IMAGE_FILE = /\.(png|jpe?g|jfif|gif|webp|bmp|tiff?|heic|heif|avif)$/i;

export interface BatchOptions {
  images: string;
  outDir?: string;
  csv?: string;
  shard?: { k: number; n: number };
  explain: ExplainOptions;
}

/** FNV-1a of the path: which shard (0..n-1) an image belongs to, the same on every machine. */
export function shardOf(path: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) {
    h ^= path.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % n;
}

/**
 * Image files under `root`, as sorted '/'-separated paths relative to it; hidden files skipped.
 * Symbolic links (files and class folders) count as what they point at; a loop is walked once.
 */
export async function listImages(root: string): Promise<string[]> {
  const entries = await walkFiles(root, { recursive: true, skip: (name) => name.startsWith('.') || name === '__MACOSX' });
  return entries
    .filter((e) => IMAGE_FILE.test(e.name))
    .map((e) => relative(root, e.path).split(sep).join('/'))
    .sort();
}

/** Where a batch writes its CSV: --csv, else results[-K-of-N].csv in the output folder. */
export function batchCsvPath(options: BatchOptions): string {
  if (options.csv) return options.csv;
  const name = options.shard ? `results-${options.shard.k}-of-${options.shard.n}.csv` : 'results.csv';
  return join(options.outDir ?? '.', name);
}

/** The overlay's path for an image: its relative path under the output folder, plus `.png`. */
export function overlayPath(outDir: string, file: string): string {
  return join(outDir, `${file}.png`);
}

async function writeAtomically(path: string, data: Uint8Array): Promise<void> {
  const temporary = `${path}.partial`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (e) {
    throw fsError(e, path);
  }
}

function seconds(s: number): string {
  return s >= 90 ? `${Math.round(s / 60)} min` : `${Math.round(s)} s`;
}

export interface BatchSummary {
  total: number;
  explained: number;
  failed: number;
  skipped: number;
  csv: string;
}

export async function runBatch(
  lm: LoadedModel,
  options: BatchOptions,
  log: (line: string) => void,
  progress: (line: string) => void,
): Promise<BatchSummary> {
  // Everything that can refuse the whole run does so before the first row: the output folder, the
  // lock (one writer per CSV), the image folder.
  if (options.outDir) await checkOutDir(options.outDir);
  const csv = batchCsvPath(options);
  const release = await acquireCsvLock(csv);
  try {
    return await runLocked(lm, options, csv, log, progress);
  } finally {
    await release();
  }
}

async function runLocked(
  lm: LoadedModel,
  options: BatchOptions,
  csv: string,
  log: (line: string) => void,
  progress: (line: string) => void,
): Promise<BatchSummary> {
  const all = await listImages(options.images);
  const shard = options.shard;
  const mine = shard ? all.filter((f) => shardOf(f, shard.n) === shard.k - 1) : all;
  const existing = await openBatchCsv(csv);
  if (existing.tornTail) log(`the last row of ${csv} was cut short (a run was stopped mid-write): dropped, that image is done again`);
  const done = new Set(existing.files);
  const todo = mine.filter((f) => !done.has(f));
  const skipped = mine.length - todo.length;
  log(`images: ${mine.length}${shard ? ` (shard ${shard.k}/${shard.n} of ${all.length})` : ''}, ${skipped} already in ${csv}, ${todo.length} to explain`);
  const preprocess = { ...lm.summary.preprocess, ...options.explain.preprocess } as PreprocessOptions;
  const method = options.explain.methods?.[0] ?? 'gradcam';
  const started = performance.now();
  let explained = 0;
  let failed = 0;
  for (const [i, file] of todo.entries()) {
    let overlay: { path: string; png: Uint8Array } | null = null;
    const record: BatchRecord = { file, trueLabel: labelFromPath(file), predicted: null, probability: null, top5: [], stats: null, error: null };
    try {
      const image = await decodeImageFile(join(options.images, file));
      const result = await lm.explain(image, { ...options.explain, methods: [method] });
      const top = result.predictions[0];
      record.predicted = top?.label ?? null;
      record.probability = top?.probability ?? null;
      record.top5 = result.predictions.slice(0, 5).map((p) => ({ label: p.label, probability: p.probability }));
      const map = result.maps[method];
      if (map?.kind === 'heatmap') {
        record.stats = mapStatistics(map.upsampled);
        if (options.outDir) {
          const rgba = overlayOnPhoto(image, map.upsampled, preprocess.resize);
          overlay = { path: overlayPath(options.outDir, file), png: encodePng({ width: image.width, height: image.height, data: rgba }) };
        }
      }
      explained++;
    } catch (e) {
      const err = toStudioError(e);
      record.error = `${err.code}: ${err.message}`;
      failed++;
    } finally {
      // One image at a time: its activations are not needed once its row is out.
      lm.clearCache();
    }
    // A write that fails (disk full, folder gone) ends the run with its code, before the row: the
    // image is not marked done, so the next run does it again.
    if (overlay) await writeAtomically(overlay.path, overlay.png);
    try {
      await appendFile(csv, `${csvRow(record)}\n`);
    } catch (e) {
      throw fsError(e, csv);
    }
    const elapsed = (performance.now() - started) / 1000;
    const rate = (i + 1) / Math.max(elapsed, 1e-3);
    progress(`[${i + 1}/${todo.length}] ${file}${record.error ? ` — ${record.error}` : ''} · ${rate.toFixed(1)} images/s, ${seconds((todo.length - i - 1) / rate)} left`);
  }
  log(`done: ${explained} explained, ${failed} failed, ${skipped} skipped (already done) → ${csv}`);
  return { total: mine.length, explained, failed, skipped, csv };
}
