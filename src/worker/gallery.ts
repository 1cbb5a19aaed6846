/**
 * The gallery in the worker: the images of a drop of several images (a folder with class
 * subfolders, a zip), explained in a bounded pipeline — a batch is decoded, cut to thumbnails and
 * the model's input, explained in one forward and one backward pass (engine/batch-explain.ts), and
 * dropped before the next batch is decoded. What stays per image is small: its record (the CSV row),
 * its 32×32 map and a JPEG of its plain thumbnail. Per-class means are running sums.
 */
import { zipSync } from 'fflate';
import { studioError, toStudioError } from '../shared/errors';
import { csvHeader, csvRow, labelFromPath, mapStatistics, type BatchRecord } from '../shared/batch-results';
import type { Heatmap, ViewOptions } from '../shared/types';
import type { InputFile, RawImage } from '../engine/files';
import type { LoadedModel } from '../engine/model';
import { explainBatch, explainEach, GALLERY_MAP_SIZE } from '../engine/batch-explain';
import { cropBox } from '../engine/preprocess';
import { yieldToEvents } from '../engine/methods/context';
import { colormapLut } from '../render/colormaps';
import { drawRegion } from '../render/composite';
import { ClassMeans, colouredMap, GALLERY_THUMB, MEAN_IMAGE_SIZE, overlayThumb } from '../render/gallery-render';
import { displaySize, type PanelPixels } from '../render/pixels';
import type { GalleryClassSummary, GalleryItem, GalleryOpened, GalleryProgress, GalleryRunOptions, GalleryRunResult } from '../protocol/gallery';
import { decodeImage } from './image-decode';

/** Images per batch when the page does not say. */
export const GALLERY_BATCH = 16;

interface Entry {
  file: InputFile;
  /** Path relative to the dataset root (what the CSV shows). */
  path: string;
  /** The folder the image sits in (labelFromPath), as named on disk. */
  folder: string | null;
  /** The folder spelt as the model's label when it matches one (set at each run: the model may change). */
  trueLabel: string | null;
  record: BatchRecord | null;
  classIndex: number | null;
  map: Heatmap | null;
  /** The plain thumbnail (no overlay), JPEG: recolouring and the contact sheet draw from it. */
  thumb: Blob | null;
}

/** The longest folder prefix shared by every path ("shapes/" for shapes/circle/a.png, shapes/star/b.png). */
export function datasetRoot(paths: readonly string[]): string {
  if (paths.length === 0) return '';
  const dirs = paths.map((p) => p.split(/[\\/]/).filter(Boolean).slice(0, -1));
  const first = dirs[0]!;
  let n = 0;
  while (n < first.length && dirs.every((d) => d[n] === first[n])) n++;
  return first.slice(0, n).map((d) => `${d}/`).join('');
}

/** A folder name as the model spells the label (case and spaces aside), else the folder name itself. */
export function matchLabel(folder: string | null, labels: readonly string[]): string | null {
  if (folder === null) return null;
  const key = (s: string) => s.trim().toLowerCase().replace(/[\s_-]+/g, ' ');
  return labels.find((l) => key(l) === key(folder)) ?? folder;
}

async function pngOf(pixels: PanelPixels, type: 'image/png' | 'image/jpeg' = 'image/png'): Promise<Blob> {
  const canvas = new OffscreenCanvas(pixels.width, pixels.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw studioError('INTERNAL', { reason: '2D canvas context unavailable in the worker' });
  ctx.putImageData(new ImageData(new Uint8ClampedArray(pixels.data), pixels.width, pixels.height), 0, 0);
  return canvas.convertToBlob(type === 'image/jpeg' ? { type, quality: 0.9 } : { type });
}

async function pixelsOf(blob: Blob): Promise<PanelPixels> {
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw studioError('INTERNAL', { reason: '2D canvas context unavailable in the worker' });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return { width: canvas.width, height: canvas.height, data: ctx.getImageData(0, 0, canvas.width, canvas.height).data };
}

function errorRecord(entry: Entry, e: unknown): BatchRecord {
  const err = toStudioError(e);
  return { file: entry.path, trueLabel: entry.trueLabel, predicted: null, probability: null, top5: [], stats: null, error: `${err.code}: ${err.message}` };
}

export class Gallery {
  private entries: Entry[] = [];
  private means = new ClassMeans();
  private pausedNow = false;
  private resume: (() => void) | null = null;

  get size(): number {
    return this.entries.length;
  }

  /** Take these images (a new drop replaces the gallery); true labels come from their folders. */
  setFiles(files: InputFile[]): GalleryOpened {
    const sorted = [...files].sort((a, b) => (a.path || a.name).localeCompare(b.path || b.name));
    const root = datasetRoot(sorted.map((f) => f.path || f.name));
    this.entries = sorted.map((file) => {
      const path = (file.path || file.name).slice(root.length);
      const folder = labelFromPath(path);
      return { file, path, folder, trueLabel: folder, record: null, classIndex: null, map: null, thumb: null };
    });
    this.means = new ClassMeans();
    this.setPaused(false); // a pause belonged to the old images' run
    const trueLabels = [...new Set(this.entries.flatMap((e) => (e.trueLabel === null ? [] : [e.trueLabel])))].sort();
    return { count: this.entries.length, trueLabels };
  }

  file(index: number): InputFile {
    const entry = this.entries[index];
    if (!entry) throw studioError('GALLERY_EMPTY');
    return entry.file;
  }

  /**
   * Tests only (?testGalleryHoldMs=): the next run waits up to this long before its first batch, or
   * until it is paused, so a test can pause a run in flight without racing it. Used once.
   */
  holdNextRunMs = 0;
  private onPause: (() => void) | null = null;

  /** Wait `ms`, or until paused or aborted (the test hold above). */
  private holdUntilPaused(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.onPause = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.onPause = done;
      signal.addEventListener('abort', done, { once: true });
      if (this.pausedNow) done();
    });
  }

  /** Whether a run waits between batches (the page shows the same). */
  get paused(): boolean {
    return this.pausedNow;
  }

  setPaused(paused: boolean): void {
    this.pausedNow = paused;
    if (paused) this.onPause?.();
    if (!paused) {
      this.resume?.();
      this.resume = null;
    }
  }

  private async waitWhilePaused(signal: AbortSignal): Promise<void> {
    while (this.pausedNow && !signal.aborted) {
      await new Promise<void>((resolve) => {
        this.resume = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }

  /**
   * Explain every image, batch by batch; `report` gets each batch's items. At most one batch of
   * images is decoded at a time. An image that cannot be decoded gets its error record; the rest go on.
   */
  async run(loaded: LoadedModel, options: GalleryRunOptions, signal: AbortSignal, report: (p: GalleryProgress) => void): Promise<GalleryRunResult> {
    if (this.entries.length === 0) throw studioError('GALLERY_EMPTY');
    const total = this.entries.length;
    const batchSize = Math.max(1, Math.min(64, options.batchSize ?? GALLERY_BATCH));
    const [modelHeight, modelWidth] = loaded.summary.imageSize;
    const resize = options.preprocess?.resize ?? loaded.summary.preprocess.resize;
    const labels = loaded.summary.labels;
    const lut = colormapLut(options.view.colormap);
    const means = new ClassMeans();
    this.means = means;
    for (const e of this.entries) Object.assign(e, { record: null, classIndex: null, map: null, trueLabel: matchLabel(e.folder, labels) });
    const started = performance.now();
    const timings = { decodeMs: 0, explainMs: 0, drawMs: 0 };
    let done = 0;
    let pausedMs = 0;
    type Ready = { entry: Entry; index: number; raw: RawImage; thumb: PanelPixels; small: PanelPixels };
    /** Decode a batch: its images at once (the browser decodes off this thread), failures as error items. */
    const decodeBatch = async (start: number): Promise<{ ready: Ready[]; failed: GalleryItem[] }> => {
      const t0 = performance.now();
      const chunk = this.entries.slice(start, start + batchSize);
      const settled = await Promise.allSettled(chunk.map((entry) => decodeImage(entry.file)));
      const ready: Ready[] = [];
      const failed: GalleryItem[] = [];
      settled.forEach((outcome, k) => {
        const entry = chunk[k]!;
        if (outcome.status === 'rejected') {
          entry.record = errorRecord(entry, outcome.reason);
          failed.push({ index: start + k, record: entry.record, classIndex: null, thumb: null });
          return;
        }
        const decoded = outcome.value;
        const region = cropBox(decoded.raw, [modelHeight, modelWidth], resize);
        const size = displaySize(region.width, region.height, GALLERY_THUMB);
        ready.push({
          entry,
          index: start + k,
          raw: decoded.raw,
          thumb: drawRegion(decoded.canvas, region, size.width, size.height),
          small: drawRegion(decoded.canvas, region, MEAN_IMAGE_SIZE, MEAN_IMAGE_SIZE),
        });
      });
      timings.decodeMs += performance.now() - t0;
      return { ready, failed };
    };
    // The next batch is decoded while this one is explained: at most two batches of images are held.
    let next: Promise<{ ready: Ready[]; failed: GalleryItem[] }> | null = decodeBatch(0);
    if (this.holdNextRunMs > 0) {
      const hold = this.holdNextRunMs;
      this.holdNextRunMs = 0;
      await this.holdUntilPaused(hold, signal);
    }
    for (let start = 0; start < total; start += batchSize) {
      // Between batches: the page's other calls (a ping, a cancel, a single-image explanation) get in.
      await yieldToEvents();
      const pauseStarted = performance.now();
      await this.waitWhilePaused(signal);
      pausedMs += performance.now() - pauseStarted;
      if (signal.aborted) throw studioError('CANCELLED');
      const chunkSize = Math.min(batchSize, total - start);
      const { ready, failed } = await next!;
      next = start + batchSize < total ? decodeBatch(start + batchSize) : null;
      next?.catch(() => undefined); // awaited on the next turn; never an unhandled rejection meanwhile
      const items: GalleryItem[] = [...failed];
      const targets = ready.map(({ entry }) => {
        if (options.classMode === 'fixed') return options.fixedClass ?? null;
        if (options.classMode === 'true' && entry.trueLabel !== null) {
          const i = labels.indexOf(entry.trueLabel);
          return i >= 0 ? i : null;
        }
        return null;
      });
      const images = ready.map((r) => r.raw);
      const batchOptions = { layerPath: options.layerPath, method: options.method, targets, preprocess: options.preprocess };
      const explainStarted = performance.now();
      const results = options.singleImagePath
        ? await explainEach(loaded, images, batchOptions, targets, GALLERY_MAP_SIZE, signal)
        : await explainBatch(loaded, images, batchOptions, signal);
      timings.explainMs += performance.now() - explainStarted;
      const drawStarted = performance.now();
      // The PNG/JPEG encodes of the whole batch run together (the browser encodes off this thread).
      const drawn = await Promise.all(
        ready.map(async (r, k) => {
          const result = results[k]!;
          const [plain, overlay] = await Promise.all([pngOf(r.thumb, 'image/jpeg'), pngOf(overlayThumb(r.thumb, result.map, lut, options.view))]);
          return { r, result, plain, overlay };
        }),
      );
      for (const { r, result, plain, overlay } of drawn) {
        const top = result.top5[0]!;
        const record: BatchRecord = {
          file: r.entry.path,
          trueLabel: r.entry.trueLabel,
          predicted: top.label,
          probability: top.probability,
          top5: result.top5.map((p) => ({ label: p.label, probability: p.probability })),
          stats: mapStatistics(result.map),
          error: null,
        };
        Object.assign(r.entry, { record, classIndex: result.classIndex, map: result.map, thumb: plain });
        means.add(r.entry.trueLabel ?? top.label, result.map, r.small);
        items.push({ index: r.index, record, classIndex: result.classIndex, thumb: overlay });
      }
      timings.drawMs += performance.now() - drawStarted;
      done += chunkSize;
      const seconds = (performance.now() - started - pausedMs) / 1000;
      const rate = seconds > 0 ? done / seconds : 0;
      report({ done, total, imagesPerSecond: rate, secondsLeft: rate > 0 ? (total - done) / rate : null, paused: this.pausedNow, items: items.sort((a, b) => a.index - b.index) });
    }
    const elapsedMs = performance.now() - started - pausedMs;
    return { done, total, elapsedMs, imagesPerSecond: done / Math.max(elapsedMs / 1000, 1e-9), timings };
  }

  /** The thumbnail of image `index` with its overlay in `view`'s colours; null when it has none. */
  async overlay(index: number, view: ViewOptions): Promise<PanelPixels | null> {
    const e = this.entries[index];
    if (!e?.thumb || !e.map) return null;
    return overlayThumb(await pixelsOf(e.thumb), e.map, colormapLut(view.colormap), view);
  }

  async summary(view: ViewOptions): Promise<GalleryClassSummary[]> {
    const lut = colormapLut(view.colormap);
    const out: GalleryClassSummary[] = [];
    for (const label of this.means.labels()) {
      const map = this.means.meanMap(label)!;
      out.push({
        label,
        count: this.means.count(label),
        meanMap: await pngOf(colouredMap(map, lut, MEAN_IMAGE_SIZE, MEAN_IMAGE_SIZE)),
        meanImage: await pngOf(this.means.meanImage(label)!),
      });
    }
    return out;
  }

  /** Thumbnails with overlays in a grid, each captioned (file; true → predicted, probability), plus caption lines. */
  async contactSheet(indices: number[], caption: string[], view: ViewOptions): Promise<Blob> {
    const columns = Math.max(1, Math.min(8, indices.length));
    const cellW = GALLERY_THUMB + 8;
    const cellH = GALLERY_THUMB + 40;
    const rows = Math.ceil(indices.length / columns);
    const captionH = 16 + caption.length * 18;
    const canvas = new OffscreenCanvas(Math.max(cellW * columns, 400), Math.max(1, rows * cellH + captionH));
    const ctx = canvas.getContext('2d');
    if (!ctx) throw studioError('INTERNAL', { reason: '2D canvas context unavailable in the worker' });
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.textBaseline = 'top';
    for (const [i, index] of indices.entries()) {
      const x = (i % columns) * cellW + 4;
      const y = Math.floor(i / columns) * cellH + 4;
      const e = this.entries[index];
      if (!e) continue;
      const pixels = await this.overlay(index, view);
      if (pixels) ctx.putImageData(new ImageData(new Uint8ClampedArray(pixels.data), pixels.width, pixels.height), x, y);
      const r = e.record;
      const wrong = r?.trueLabel != null && r.predicted !== null && r.trueLabel !== r.predicted;
      ctx.fillStyle = r?.error ? '#b00020' : wrong ? '#b00020' : '#111';
      ctx.font = '10px sans-serif';
      ctx.fillText(e.path.split('/').pop() ?? e.path, x, y + GALLERY_THUMB + 2, GALLERY_THUMB);
      const line = r?.error ? 'not decoded' : `${r?.trueLabel ? `${r.trueLabel} → ` : ''}${r?.predicted ?? '?'} ${r?.probability != null ? `${(r.probability * 100).toFixed(0)} %` : ''}`;
      ctx.fillText(line, x, y + GALLERY_THUMB + 15, GALLERY_THUMB);
    }
    ctx.fillStyle = '#111';
    ctx.font = '13px sans-serif';
    caption.forEach((line, i) => ctx.fillText(line, 8, rows * cellH + 8 + i * 18, canvas.width - 16));
    return canvas.convertToBlob({ type: 'image/png' });
  }

  /**
   * results.csv (the batch command line's columns) and one overlay PNG per explained image, at the
   * panels' display size, re-decoded one at a time (nothing else of the images was kept).
   */
  async exportZip(indices: number[], view: ViewOptions, loaded: LoadedModel, signal: AbortSignal): Promise<Blob> {
    const lut = colormapLut(view.colormap);
    const [modelHeight, modelWidth] = loaded.summary.imageSize;
    const resize = loaded.summary.preprocess.resize;
    const files: Record<string, Uint8Array> = {};
    const rows = [csvHeader()];
    for (const index of indices) {
      const e = this.entries[index];
      if (!e) continue;
      if (signal.aborted) throw studioError('CANCELLED');
      rows.push(csvRow(e.record ?? errorRecord(e, studioError('CANCELLED'))));
      if (!e.map || !e.record || e.record.error) continue;
      await yieldToEvents();
      try {
        const decoded = await decodeImage(e.file);
        const region = cropBox(decoded.raw, [modelHeight, modelWidth], resize);
        const size = displaySize(region.width, region.height);
        const overlay = overlayThumb(drawRegion(decoded.canvas, region, size.width, size.height), e.map, lut, view);
        files[`overlays/${e.path.replace(/\.[^./]+$/, '')}.png`] = new Uint8Array(await (await pngOf(overlay)).arrayBuffer());
      } catch {
        // It decoded during the run; if it no longer does, its CSV row stays and its overlay is left out.
      }
    }
    files['results.csv'] = new TextEncoder().encode(`${rows.join('\n')}\n`);
    // PNGs are already compressed: stored, not deflated again.
    const zip = zipSync(Object.fromEntries(Object.entries(files).map(([name, data]) => [name, [data, { level: name.endsWith('.png') ? 0 : 6 }]])));
    return new Blob([zip as BlobPart], { type: 'application/zip' });
  }
}
