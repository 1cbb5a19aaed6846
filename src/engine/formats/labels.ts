/**
 * Class labels and preprocessing defaults from the sidecar files that travel with a model:
 * Teachable Machine's `metadata.json` and the common `labels.txt`.
 */
import type { InputFile } from '../files';
import { dirName, readText } from '../files';
import type { PreprocessOptions } from '../../shared/types';
import { notice, type StudioNotice } from '../../shared/errors';

export interface SidecarInfo {
  labels?: string[];
  /** The file the labels came from, e.g. `metadata.json`. */
  labelsSource?: string;
  preprocess?: Partial<PreprocessOptions> & { source: string };
  warnings: StudioNotice[];
}

/** `0 Cat` / `0: Cat` / `0, Cat` / `0\tCat`: an index, a separator, then the label. */
const NUMBERED_LINE = /^(\d+)(?:\s*[:,]\s*|\s+)(.*)$/;

/**
 * One label per line; trailing empty lines are dropped and every label is trimmed.
 * When the lines are numbered 0..n-1 in order, the numbers are stripped.
 */
export function parseLabelsText(text: string): string[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).map((line) => line.trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) return [];
  const numbered = lines.map((line) => NUMBERED_LINE.exec(line));
  const inOrder = numbered.every((m, i) => m !== null && Number(m[1]) === i && m[2].trim() !== '');
  return inOrder ? numbered.map((m) => (m as RegExpExecArray)[2].trim()) : lines;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Teachable Machine writes tfjsVersion/tmVersion/packageName `@teachablemachine/...` and sometimes imageSize. */
export function isTeachableMachineMetadata(meta: unknown): boolean {
  if (!isRecord(meta)) return false;
  const packageName = typeof meta.packageName === 'string' ? meta.packageName.toLowerCase() : '';
  return (
    'tmVersion' in meta ||
    'imageSize' in meta ||
    packageName.includes('teachablemachine') ||
    packageName.includes('teachable-machine') ||
    packageName.includes('teachable machine') ||
    ('tfjsVersion' in meta && 'labels' in meta)
  );
}

const NORMALIZATIONS: readonly string[] = ['unit', 'symmetric', 'imagenet', 'caffe', 'raw'];
const RESIZES: readonly string[] = ['stretch', 'center-crop'];

/** `{ normalization?, resize? }` with known values only; null when it names neither. */
function explicitPreprocess(raw: unknown): Partial<PreprocessOptions> | null {
  if (!isRecord(raw)) return null;
  const out: Partial<PreprocessOptions> = {};
  if (typeof raw.normalization === 'string' && NORMALIZATIONS.includes(raw.normalization)) out.normalization = raw.normalization as PreprocessOptions['normalization'];
  if (typeof raw.resize === 'string' && RESIZES.includes(raw.resize)) out.resize = raw.resize as PreprocessOptions['resize'];
  return out.normalization || out.resize ? out : null;
}

/** What a parsed `metadata.json` says: labels (strings only) and TM preprocessing. */
export function parseMetadataJson(meta: unknown, fileName = 'metadata.json'): Omit<SidecarInfo, 'warnings'> {
  const out: Omit<SidecarInfo, 'warnings'> = {};
  if (!isRecord(meta)) return out;
  if (Array.isArray(meta.labels) && meta.labels.length > 0) {
    out.labels = meta.labels.map((label) => String(label));
    out.labelsSource = fileName;
  }
  // An explicit `preprocess` (the demo trainer and our TF.js export write one) wins over the TM guess.
  const explicit = explicitPreprocess(meta.preprocess);
  if (explicit) out.preprocess = { ...explicit, source: fileName };
  else if (isTeachableMachineMetadata(meta)) {
    out.preprocess = { normalization: 'symmetric', resize: 'center-crop', source: `${fileName} (Teachable Machine)` };
  }
  return out;
}

/** The sidecar named `name`, preferring one in the model's own folder. */
function findSidecar(files: InputFile[], name: string, modelDir: string | undefined): InputFile | undefined {
  const matches = files.filter((f) => f.name.toLowerCase() === name);
  if (modelDir !== undefined) {
    const sameDir = matches.find((f) => dirName(f.path) === modelDir);
    if (sameDir) return sameDir;
  }
  return matches[0];
}

/**
 * Read `metadata.json` (labels + Teachable Machine preprocessing) and `labels.txt`.
 * metadata.json labels win over labels.txt. A broken sidecar is a warning, never fatal.
 * `modelPath` (the model file's path) picks the sidecars in the same folder when several exist.
 */
export async function readSidecars(files: InputFile[], modelPath?: string): Promise<SidecarInfo> {
  const modelDir = modelPath === undefined ? undefined : dirName(modelPath);
  const info: SidecarInfo = { warnings: [] };
  const metadataFile = findSidecar(files, 'metadata.json', modelDir);
  if (metadataFile) {
    try {
      const parsed = parseMetadataJson(JSON.parse(await readText(metadataFile)), metadataFile.name);
      Object.assign(info, parsed);
    } catch (e) {
      info.warnings.push(notice('MODEL_JSON_INVALID', { file: metadataFile.path, reason: e instanceof Error ? e.message : String(e) }));
    }
  }
  if (!info.labels) {
    const labelsFile = findSidecar(files, 'labels.txt', modelDir);
    if (labelsFile) {
      const labels = parseLabelsText(await readText(labelsFile));
      if (labels.length > 0) {
        info.labels = labels;
        info.labelsSource = labelsFile.name;
      }
    }
  }
  return info;
}

/**
 * LABELS_COUNT_MISMATCH when a label file names more classes than the model's output has (a
 * 10,000-line labels.txt on a 4-class model: the wrong file), or fewer (the rest show as "class i").
 * Binary heads (one sigmoid unit, two labels) are not counted here.
 */
export function labelCountNotice(labels: string[] | undefined, units: number, head: string): StudioNotice | null {
  if (!labels || labels.length === 0 || head === 'binary' || labels.length === units) return null;
  return notice('LABELS_COUNT_MISMATCH', { labels: labels.length, classes: units });
}
