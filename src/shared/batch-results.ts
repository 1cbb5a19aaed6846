/**
 * One image's result in a batch (the gallery and `npm run explain -- --images DIR`): what the model
 * predicted, the true label where the folder says it, and cheap statistics of the map that flag
 * "looks at the background". The CSV written by the gallery export and by the batch command line is
 * made here, so the two always have the same columns. Plain data: no tensors.
 */
import Papa from 'papaparse';
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

/**
 * A text cell that a spreadsheet would read as a formula (=, +, -, @, tab, CR first, as OWASP's
 * "CSV injection" page lists) gets a leading apostrophe; so does one that already starts with an
 * apostrophe, so that reading strips exactly one and every name round-trips.
 */
const FORMULA_START = /^[=+\-@\t\r']/;

function textCell(value: string | null): string {
  if (value === null) return '';
  return FORMULA_START.test(value) ? `'${value}` : value;
}

function numberCell(value: number | null): string {
  if (value === null) return '';
  return Number.isInteger(value) ? String(value) : value.toFixed(6);
}

/** What textCell wrote, back as the original text. */
export function readTextCell(cell: string): string {
  return cell.startsWith("'") && FORMULA_START.test(cell.slice(1)) ? cell.slice(1) : cell;
}

/** Quoting by papaparse (quotes, commas and newlines inside a cell round-trip); rows end with \n. */
function csvLine(cells: string[]): string {
  return Papa.unparse([cells], { newline: '\n', header: false, escapeFormulae: false });
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(',');
}

export function csvRow(r: BatchRecord): string {
  const correct = r.trueLabel === null || r.predicted === null ? null : r.trueLabel === r.predicted ? 1 : 0;
  const top5 = r.top5.map((p) => `${p.label}:${p.probability.toFixed(4)}`).join(';');
  return csvLine([
    textCell(r.file),
    textCell(r.trueLabel),
    textCell(r.predicted),
    numberCell(r.probability),
    numberCell(correct),
    textCell(top5 || null),
    numberCell(r.stats?.mean ?? null),
    numberCell(r.stats?.outsideCentre ?? null),
    numberCell(r.stats?.border ?? null),
    textCell(r.error),
  ]);
}

/** A whole CSV (header, rows, final newline): the gallery's export. */
export function csvDocument(records: Iterable<BatchRecord>): string {
  const lines = [csvHeader()];
  for (const r of records) lines.push(csvRow(r));
  return `${lines.join('\n')}\n`;
}

export interface ParsedBatchCsv {
  /** The file column of each complete row, as the original path. */
  files: string[];
  /** The complete rows' text (header included, each ending in \n): what to keep when the tail is torn. */
  complete: string;
  /** Whether the last row was cut short (a kill mid-write): dropped, so that image is done again. */
  tornTail: boolean;
}

/**
 * Read a batch CSV for resuming. A row counts only when it has every column and ends with a newline
 * (rows are appended whole, so anything else is a write cut short by a kill).
 */
export function parseBatchCsv(csv: string): ParsedBatchCsv {
  const parsed = Papa.parse<string[]>(csv, { header: false, delimiter: ',', quoteChar: '"', skipEmptyLines: false, newline: '\n' });
  const rows = parsed.data;
  // A file ending in \n parses to a last empty row; without one, the last row is unfinished.
  const endsWithNewline = csv.endsWith('\n');
  if (endsWithNewline && rows.length > 0 && rows[rows.length - 1]?.length === 1 && rows[rows.length - 1]?.[0] === '') rows.pop();
  const unterminatedQuote = parsed.errors.some((e) => e.code === 'MissingQuotes');
  let tornTail = false;
  if (rows.length > 1 && (!endsWithNewline || unterminatedQuote || rows[rows.length - 1]?.length !== CSV_COLUMNS.length)) {
    rows.pop();
    tornTail = true;
  } else if (rows.length <= 1 && !endsWithNewline) {
    // Even the header was cut short: start again from a whole header.
    return { files: [], complete: `${csvHeader()}\n`, tornTail: true };
  }
  const body = rows.slice(1).filter((row) => row.length === CSV_COLUMNS.length);
  const files = body.map((row) => readTextCell(row[0] ?? ''));
  const complete = tornTail ? `${[csvHeader(), ...body.map((row) => csvLine(row))].join('\n')}\n` : csv;
  return { files, complete, tornTail };
}

/** The file column of each complete data row of a CSV written by csvRow (for resuming a batch). */
export function csvFiles(csv: string): string[] {
  return parseBatchCsv(csv).files;
}
