/**
 * Keras readers: `.h5`/`.hdf5` (Keras 2, and Keras 3's legacy h5) and `.keras` (Keras 3 zip).
 *
 * HDF5 library: jsfive, not h5wasm.
 * - jsfive is pure JavaScript (~190 kB unminified ESM incl. its zlib), reads from an ArrayBuffer,
 *   and runs unchanged in a Web Worker and in Node; we only ever READ Keras files.
 * - h5wasm wraps the HDF5 C library (a ~3 MB WebAssembly binary) behind an Emscripten file
 *   system: a file must be copied into its virtual FS before it can be opened, and the module is
 *   initialised asynchronously. Its strengths (writing, slicing huge datasets, every HDF5 feature)
 *   are not needed for Keras files: contiguous or chunked float datasets and string attributes.
 * - Both are maintained by the same group (NIST, usnistgov); jsfive is h5wasm's recommended pure-JS reader.
 * The tests use h5wasm (devDependency only) to WRITE HDF5 files that jsfive then reads.
 *
 * Importing this module is cheap: jsfive, fflate and the tfjs-dependent code load inside `open()`.
 */
import type { InputFile } from '../../files';
import { extension, readHead } from '../../files';
import type { ModelReader } from '../reader';
import { studioError, type StudioError } from '../../../shared/errors';

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

async function hasMagic(file: InputFile, magic: number[]): Promise<boolean> {
  return startsWith(await readHead(file, magic.length), magic);
}

/**
 * A file named like a Keras model whose signature is wrong (damaged, cut short, or renamed): the
 * KERAS_UNSUPPORTED error that says so, or null. Read when no reader took the files.
 */
export async function kerasSignatureProblem(files: InputFile[]): Promise<StudioError | null> {
  for (const file of files) {
    const ext = extension(file.name);
    const magic = ext === 'h5' || ext === 'hdf5' ? HDF5_MAGIC : ext === 'keras' ? ZIP_MAGIC : null;
    if (!magic || (await hasMagic(file, magic))) continue;
    const head = [...(await readHead(file, 8))].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const expected = ext === 'keras' ? 'a zip archive (Keras 3)' : 'an HDF5 file';
    return studioError('KERAS_UNSUPPORTED', { reason: `${file.path || file.name} is not ${expected}: it starts with ${head || 'nothing'}, not the signature (the file may be damaged, cut short or renamed)` });
  }
  return null;
}

async function h5Candidates(files: InputFile[]): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for (const file of files) {
    const ext = extension(file.name);
    if ((ext === 'h5' || ext === 'hdf5') && (await hasMagic(file, HDF5_MAGIC))) out.push(file);
  }
  return out;
}

/** A `.keras`, or a zip under another name (`.zip` kept whole by classifyFiles) holding Keras 3's members. */
async function findKeras3File(files: InputFile[]): Promise<InputFile | undefined> {
  for (const file of files) {
    const ext = extension(file.name);
    if (ext !== 'keras' && ext !== 'zip') continue;
    if (!(await hasMagic(file, ZIP_MAGIC))) continue;
    if (ext === 'keras') return file;
    const bytes = await file.bytes();
    const { unzipSync } = await import('fflate');
    const names: string[] = [];
    try {
      // The filter sees every entry's name; returning false decompresses nothing.
      unzipSync(bytes, { filter: (entry) => (names.push(entry.name), false) });
    } catch {
      continue;
    }
    if (names.includes('config.json') && names.includes('model.weights.h5')) return file;
  }
  return undefined;
}

export const kerasH5Reader: ModelReader = {
  name: 'keras-h5',
  async match(files) {
    return (await h5Candidates(files)).length > 0;
  },
  async open(files, onProgress) {
    const { openKerasH5 } = await import('./keras2');
    const candidates = await h5Candidates(files);
    if (candidates.length === 0) throw studioError('NO_MODEL_FILE');
    return openKerasH5(candidates, files, onProgress);
  },
};

export const keras3Reader: ModelReader = {
  name: 'keras-v3',
  async match(files) {
    return (await findKeras3File(files)) !== undefined;
  },
  async open(files, onProgress) {
    const file = await findKeras3File(files);
    const { openKeras3 } = await import('./keras3');
    if (!file) throw studioError('NO_MODEL_FILE');
    return openKeras3(file, files, onProgress);
  },
};
