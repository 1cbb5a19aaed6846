/**
 * A labels file opened on its own (labels.txt or metadata.json, no model beside it) attaches to the
 * model already loaded: before, it failed with NO_MODEL_FILE, so a model without labels kept its
 * "class 0…n" names. The count must equal the model's class count, or nothing changes (a coded error).
 */
import { studioError } from '../../shared/errors';
import type { ModelSummary } from '../../shared/types';
import type { InputFile } from '../files';
import { readSidecars } from './labels';

/** A labels sidecar's name: metadata.json, or a .txt naming labels or classes (as classifyFiles counts them). */
function isSidecarName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === 'metadata.json' || (lower.endsWith('.txt') && (lower.includes('label') || lower.includes('class')));
}

/** True when every file is a labels sidecar: what to attach, not a model to open. */
export function isLabelsOnly(files: readonly InputFile[]): boolean {
  return files.length > 0 && files.every((f) => isSidecarName(f.name));
}

/**
 * The labels of `files` put on `summary` (changed in place, and returned): the default output's and
 * the model's. Throws LABELS_EMPTY when the files hold none, LABELS_NOT_ATTACHED when their count is
 * not the output's class count (a binary head: one or two labels, named as model.ts's binaryLabels does
 * when loading — not imported, model.ts imports the formats).
 */
export async function attachLabels(summary: ModelSummary, files: InputFile[]): Promise<{ labels: string[]; source: string }> {
  const file = files[0]?.name ?? 'labels.txt';
  // readSidecars looks for labels.txt by name; another *.txt is read as the same format.
  const renamed = files.map((f) => (f.name.toLowerCase().endsWith('.txt') ? { ...f, name: 'labels.txt' } : f));
  const sidecars = await readSidecars(renamed);
  const labels = sidecars.labels;
  if (!labels || labels.length === 0) throw studioError('LABELS_EMPTY', { file });
  const source = sidecars.labelsSource === 'labels.txt' ? file : (sidecars.labelsSource ?? file);
  const k = summary.defaultOutput;
  const output = summary.outputs[k];
  const binary = (output?.head ?? summary.head) === 'binary';
  const classes = binary ? 2 : (output?.labels.length ?? summary.labels.length);
  const fits = binary ? labels.length === 1 || labels.length === 2 : labels.length === classes;
  if (!fits) throw studioError('LABELS_NOT_ATTACHED', { file: source, labels: labels.length, classes });
  const [first = '', second] = labels;
  const named = !binary ? labels : second !== undefined ? [second, first] : [first, `not ${first}`];
  if (output) output.labels = named;
  summary.labels = named;
  summary.labelsFromFile = true;
  return { labels: named, source };
}
