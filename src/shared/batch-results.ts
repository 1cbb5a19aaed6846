/**
 * One image's result in a batch (the gallery and `npm run explain -- --images DIR`): what the model
 * predicted, the true label where the folder says it, and cheap statistics of the map that flag
 * "looks at the background". The CSV written by the gallery export and by the batch command line is
 * made here, so the two always have the same columns. Plain data: no tensors.
 */
import type { Heatmap } from './types';

export interface MapStatistics {
  /** Mean of the normalised map, [0, 1]. */
  mean: number;
  /** Share of the map's mass outside the central box (the middle half of each side), [0, 1]. */
  outsideCentre: number;
  /** Share of the map's mass in the outer tenth of each side, [0, 1]. */
  border: number;
}

export interface BatchRecord {
  /** Path as given (relative to the folder or zip). */
  file: string;
  /** The true label from the folder (`cats/img1.png` → cats), or null. */
  trueLabel: string | null;
  predicted: string | null;
  probability: number | null;
  /** Top-5 as label and probability. */
  top5: { label: string; probability: number }[];
  stats: MapStatistics | null;
  /** The coded error when the image could not be decoded or explained. */
  error: string | null;
}

/** Map statistics of a normalised heatmap (any resolution). Mass = the map's values summed. */
export function mapStatistics(map: Heatmap): MapStatistics {
  const { width, height, data } = map;
  let total = 0;
  let centre = 0;
  let border = 0;
  const [cx0, cx1, cy0, cy1] = [width / 4, (3 * width) / 4, height / 4, (3 * height) / 4];
  const [bx, by] = [width / 10, height / 10];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = data[y * width + x]!;
      // Pixel centres decide which region a pixel belongs to.
      const [px, py] = [x + 0.5, y + 0.5];
      total += v;
      if (px >= cx0 && px <= cx1 && py >= cy0 && py <= cy1) centre += v;
      if (px < bx || px > width - bx || py < by || py > height - by) border += v;
    }
  }
  const n = width * height;
  if (!(total > 0)) return { mean: 0, outsideCentre: 0, border: 0 };
  return { mean: total / n, outsideCentre: 1 - centre / total, border: border / total };
}

/**
 * The true label of a file from its path RELATIVE TO THE DATASET ROOT (`cats/img1.png` → cats, the
 * layout of Teachable Machine and Keras `image_dataset_from_directory`); null for a file at the root.
 */
export function labelFromPath(relativePath: string): string | null {
  const parts = relativePath.split(/[\\/]/).filter(Boolean);
  return parts.length >= 2 ? parts[parts.length - 2]! : null;
}

export const CSV_COLUMNS = ['file', 'true', 'predicted', 'probability', 'correct', 'top5', 'map_mean', 'map_outside_centre', 'map_border', 'error'] as const;

function cell(value: string | number | null): string {
  if (value === null) return '';
  const text = typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(6)) : value;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(',');
}

export function csvRow(r: BatchRecord): string {
  const correct = r.trueLabel === null || r.predicted === null ? null : r.trueLabel === r.predicted ? 1 : 0;
  const top5 = r.top5.map((p) => `${p.label}:${p.probability.toFixed(4)}`).join(';');
  return [r.file, r.trueLabel, r.predicted, r.probability, correct, top5 || null, r.stats?.mean ?? null, r.stats?.outsideCentre ?? null, r.stats?.border ?? null, r.error].map(cell).join(',');
}

/** The file column of each data row of a CSV written by csvRow (for resuming a batch). */
export function csvFiles(csv: string): string[] {
  const files: string[] = [];
  const lines = csv.split(/\r?\n/).slice(1).filter((l) => l.length > 0);
  for (const line of lines) {
    if (line.startsWith('"')) {
      // A quoted first cell: up to the closing quote not followed by another quote.
      let i = 1;
      let out = '';
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') {
          out += '"';
          i += 2;
        } else if (line[i] === '"') break;
        else out += line[i++];
      }
      files.push(out);
    } else files.push(line.slice(0, line.indexOf(',') < 0 ? undefined : line.indexOf(',')));
  }
  return files;
}
