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
import { appendFile, mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { LoadedModel } from '../src/engine';
import { decodeImageFile, encodePng } from '../src/engine/node';
import { overlayOnPhoto } from './overlay';
import { toStudioError } from '../src/shared/errors';
import { csvFiles, csvHeader, csvRow, labelFromPath, mapStatistics, type BatchRecord } from '../src/shared/batch-results';
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

/** Image files under `root`, as sorted '/'-separated paths relative to it; hidden files skipped. */
export async function listImages(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name === '__MACOSX') continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && IMAGE_FILE.test(entry.name)) out.push(relative(root, full).split(sep).join('/'));
    }
  };
  await walk(root);
  return out.sort();
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
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.partial`;
  await writeFile(temporary, data);
  await rename(temporary, path);
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
  const all = await listImages(options.images);
  const mine = options.shard ? all.filter((f) => shardOf(f, options.shard!.n) === options.shard!.k - 1) : all;
  const csv = batchCsvPath(options);
  await mkdir(dirname(csv), { recursive: true });
  const done = new Set(existsSync(csv) ? csvFiles(await readFile(csv, 'utf8')) : []);
  if (!existsSync(csv)) await writeFile(csv, `${csvHeader()}\n`);
  const todo = mine.filter((f) => !done.has(f));
  const skipped = mine.length - todo.length;
  log(`images: ${mine.length}${options.shard ? ` (shard ${options.shard.k}/${options.shard.n} of ${all.length})` : ''}, ${skipped} already in ${csv}, ${todo.length} to explain`);
  const preprocess = { ...lm.summary.preprocess, ...options.explain.preprocess } as PreprocessOptions;
  const method = options.explain.methods?.[0] ?? 'gradcam';
  const started = performance.now();
  let explained = 0;
  let failed = 0;
  for (const [i, file] of todo.entries()) {
    const record: BatchRecord = { file, trueLabel: labelFromPath(file), predicted: null, probability: null, top5: [], stats: null, error: null };
    try {
      const image = await decodeImageFile(join(options.images, file));
      const result = await lm.explain(image, { ...options.explain, methods: [method] });
      const top = result.predictions[0]!;
      record.predicted = top.label;
      record.probability = top.probability;
      record.top5 = result.predictions.slice(0, 5).map((p) => ({ label: p.label, probability: p.probability }));
      const map = result.maps[method];
      if (map?.kind === 'heatmap') {
        record.stats = mapStatistics(map.upsampled);
        if (options.outDir) {
          const rgba = overlayOnPhoto(image, map.upsampled, preprocess.resize);
          await writeAtomically(overlayPath(options.outDir, file), encodePng({ width: image.width, height: image.height, data: rgba }));
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
    await appendFile(csv, `${csvRow(record)}\n`);
    const elapsed = (performance.now() - started) / 1000;
    const rate = (i + 1) / Math.max(elapsed, 1e-3);
    progress(`[${i + 1}/${todo.length}] ${file}${record.error ? ` — ${record.error}` : ''} · ${rate.toFixed(1)} images/s, ${seconds((todo.length - i - 1) / rate)} left`);
  }
  log(`done: ${explained} explained, ${failed} failed, ${skipped} skipped (already done) → ${csv}`);
  return { total: mine.length, explained, failed, skipped, csv };
}
