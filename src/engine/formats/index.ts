/**
 * Entry point for loading: expand zips, sort dropped files into model files and images,
 * and open a model with the first reader that recognises the files.
 */
import type { InputFile } from '../files';
import { extension, fromBytes, readHead } from '../files';
import type { LoadProgress } from '../../shared/types';
import { StudioError, studioError, toStudioError, type StudioNotice } from '../../shared/errors';
import { newArchiveBudget, unzipLimited, type ArchiveBudget } from './archive';
import type { ModelReader, OpenedModel } from './reader';
import { modelJsonCandidates, tfjsLayersReader } from './tfjs-layers';
import { tfjsGraphReader } from './tfjs-graph';
import { onnxReader } from './onnx';
import { keras3Reader, kerasH5Reader, kerasSignatureProblem } from './keras';
import { sniffImage } from '../image-sniff';

export type { ModelReader, OpenedModel } from './reader';
export { findUnsupportedLayers, tfjsLayersReader } from './tfjs-layers';
export { parseLabelsText, readSidecars } from './labels';
export { buildLayersModel, buildError, disposeLayersModel } from './build';

// Keras readers are cheap to hold: their HDF5 library loads only when a Keras file is opened.
// The graph reader looks first: the layers reader claims any model.json.
export const modelReaders: ModelReader[] = [onnxReader, tfjsGraphReader, tfjsLayersReader, kerasH5Reader, keras3Reader];

export function registerReader(reader: ModelReader): void {
  if (!modelReaders.some((r) => r.name === reader.name)) modelReaders.push(reader);
}

const IMAGE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'jfif', 'gif', 'webp', 'bmp', 'svg', 'avif', 'tif', 'tiff', 'heic', 'heif']);
const KERAS_EXTENSIONS = new Set(['h5', 'hdf5', 'keras']);
const SHARD_NAME = /^group\d+-shard\d+of\d+(\.bin)?$/i;
const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

function startsWith(bytes: Uint8Array, magic: number[], at = 0): boolean {
  return bytes.length >= at + magic.length && magic.every((b, i) => bytes[at + i] === b);
}


function isHiddenPath(path: string): boolean {
  return path.split(/[\\/]/).some((part) => part.startsWith('.') || part === '__MACOSX');
}

function isZipName(name: string): boolean {
  return extension(name) === 'zip';
}

function isModelFileName(name: string): boolean {
  const lower = name.toLowerCase();
  const ext = extension(lower);
  return (
    ext === 'json' ||
    ext === 'bin' ||
    KERAS_EXTENSIONS.has(ext) ||
    SHARD_NAME.test(name) ||
    // ONNX: the model, its external weights (model.onnx.data, *.onnx_data) and synset.txt labels.
    ext === 'onnx' ||
    lower.endsWith('.onnx.data') ||
    lower.endsWith('.onnx_data') ||
    (ext === 'txt' && (lower.includes('label') || lower.includes('class') || lower.includes('synset')))
  );
}

/** A zip holding config.json + model.weights.h5 at its root is a Keras 3 model saved under another name. */
function looksLikeKerasV3(entries: Record<string, Uint8Array>): boolean {
  return 'config.json' in entries && 'model.weights.h5' in entries;
}

/** The zip's entries as InputFiles under a folder named after the zip; hidden and macOS files dropped. */
function zipEntries(file: InputFile, entries: Record<string, Uint8Array>): InputFile[] {
  const folder = file.path.replace(/\.zip$/i, '');
  return Object.entries(entries)
    .filter(([path]) => !path.endsWith('/') && !isHiddenPath(path))
    // Names were sanitised by unzipLimited (no `..`, absolute paths, drive letters or control characters).
    .map(([path, data]) => fromBytes(path, data, `${folder}/${path}`));
}

/** One drop's archive expansion: the shared limits, and the archives refused so far (when others can go on). */
interface Expansion {
  budget: ArchiveBudget;
  refused: StudioError[];
  /** Whether a refused archive is set aside (several files dropped) or ends the whole open. */
  keepGoing: boolean;
}

/**
 * Replace every `.zip` by its entries (recursively, to a bounded depth), with the limits of
 * archive.ts checked while inflating. `sniff` also expands files that are zips by content but not by
 * name (never a `.keras`, which is itself a model file).
 */
async function expandArchives(files: InputFile[], sniff: boolean, expansion: Expansion, depth = 0): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for (const file of files) {
    const ext = extension(file.name);
    const knownNotZip = KERAS_EXTENSIONS.has(ext) || IMAGE_EXTENSIONS.has(ext) || ext === 'json' || ext === 'bin' || ext === 'onnx' || SHARD_NAME.test(file.name);
    const candidate = isZipName(file.name) || (sniff && !knownNotZip);
    if (!candidate) {
      out.push(file);
      continue;
    }
    if (!isZipName(file.name) && !startsWith(await readHead(file, ZIP_MAGIC.length), ZIP_MAGIC)) {
      out.push(file);
      continue;
    }
    try {
      const { limits } = expansion.budget;
      if (depth >= limits.maxDepth) throw studioError('ZIP_TOO_DEEP', { file: file.path || file.name, limit: limits.maxDepth });
      const entries = unzipLimited(await file.bytes(), file.path || file.name, { budget: expansion.budget });
      if (looksLikeKerasV3(entries)) {
        out.push(file);
        continue;
      }
      out.push(...(await expandArchives(zipEntries(file, entries), sniff, expansion, depth + 1)));
    } catch (e) {
      // In a drop of several files, a bad archive is reported and the rest opens; alone, it is the error.
      const error = toStudioError(e);
      if (!expansion.keepGoing) throw error;
      expansion.refused.push(error);
    }
  }
  return out;
}

/** Expand zips (fflate) and folders into plain InputFiles, then split by content and name. */
export async function classifyFiles(files: InputFile[]): Promise<{ modelFiles: InputFile[]; images: InputFile[]; ignored: InputFile[]; problems: StudioNotice[] }> {
  const modelFiles: InputFile[] = [];
  const images: InputFile[] = [];
  const ignored: InputFile[] = [];
  const visible = files.filter((f) => {
    if (isHiddenPath(f.path) || f.name.startsWith('.')) {
      ignored.push(f);
      return false;
    }
    return true;
  });
  // Shards and .bin files are raw numbers with no magic: their names are authoritative and they
  // are not read here (they can be large). Everything else is sniffed.
  const expansion: Expansion = { budget: newArchiveBudget(), refused: [], keepGoing: visible.length > 1 };
  const expanded = await expandArchives(visible, true, expansion);
  // Nothing else came of the drop: the archive's own error says more than "no model found".
  const firstRefusal = expansion.refused[0];
  if (expanded.length === 0 && firstRefusal) throw firstRefusal;
  for (const file of expanded) {
    const ext = extension(file.name);
    if (ext === 'bin' || SHARD_NAME.test(file.name)) {
      modelFiles.push(file);
      continue;
    }
    const head = await readHead(file, 1024);
    // TIFF and HEIC count as images too: the decoder then says that browsers cannot read them.
    if (sniffImage(head).kind !== 'unknown') images.push(file);
    else if (startsWith(head, HDF5_MAGIC) || (ext === 'keras' && startsWith(head, ZIP_MAGIC))) modelFiles.push(file);
    else if (isModelFileName(file.name)) modelFiles.push(file);
    // A file named like an image that does not decode is still the user's image: the decoder says why.
    else if (IMAGE_EXTENSIONS.has(ext)) images.push(file);
    else ignored.push(file);
  }
  return { modelFiles, images, ignored, problems: expansion.refused.map((e) => e.toNotice()) };
}

/** Open a model with the first reader whose `match` is true; throws StudioError (NO_MODEL_FILE, MISSING_SHARD, ...). */
export async function openModel(files: InputFile[], onProgress?: (p: LoadProgress) => void): Promise<OpenedModel> {
  try {
    const expanded = await expandArchives(
      files.filter((f) => !isHiddenPath(f.path)),
      false,
      { budget: newArchiveBudget(), refused: [], keepGoing: false },
    );
    for (const reader of modelReaders) {
      if (await reader.match(expanded)) return await reader.open(expanded, onProgress);
    }
    // No reader claims the files, but a JSON is there: let the layers reader say what is wrong with it.
    if (modelJsonCandidates(expanded).length > 0) return await tfjsLayersReader.open(expanded, onProgress);
    // A Keras file whose signature is wrong: say so rather than "no model found".
    const damaged = await kerasSignatureProblem(expanded);
    if (damaged) throw damaged;
    throw studioError('NO_MODEL_FILE');
  } catch (e) {
    throw toStudioError(e);
  }
}
