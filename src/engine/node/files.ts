/** Node only: InputFiles from paths on disk, read lazily. */
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import type { InputFile } from '../files';
import { studioError } from '../../shared/errors';

function fileAt(absolutePath: string, path: string, size: number): InputFile {
  return {
    name: basename(absolutePath),
    path,
    size,
    bytes: async () => new Uint8Array(await readFile(absolutePath)),
    head: async (n) => {
      const handle = await open(absolutePath, 'r');
      try {
        const buffer = new Uint8Array(Math.min(n, size));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
  };
}

async function walk(dir: string, root: string, recursive: boolean): Promise<InputFile[]> {
  const out: InputFile[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (recursive) out.push(...(await walk(full, root, true)));
    } else if (entry.isFile()) {
      // Paths are relative to the folder's parent so that the folder name names the model.
      out.push(fileAt(full, relative(dirname(root), full).split('\\').join('/'), (await stat(full)).size));
    }
  }
  return out;
}

const KERAS_FILE = /\.(h5|hdf5|keras)$/i;
const ONNX_FILE = /\.onnx$/i;
/** What an ONNX file needs beside it: external weights and synset.txt / imagenet_classes.txt labels. */
const ONNX_SIDECAR = /(\.data|_data|^synset\.txt)$/i;
/** Files that name a model's classes or preprocessing (read by formats/labels.ts). */
const SIDECAR = /^(metadata\.json|.*(label|class).*\.txt)$/i;

/**
 * A directory expands to its files (recursively); a `.json` path brings its siblings, itself first;
 * a Keras file brings the labels.txt / metadata.json beside it, an ONNX file those and its external
 * data; other paths are single files.
 */
export async function filesFromPaths(paths: string[]): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (e) {
      throw studioError('FILE_NOT_FOUND', { path, reason: e instanceof Error && 'code' in e ? String(e.code) : String(e) });
    }
    if (info.isDirectory()) {
      out.push(...(await walk(path, path, true)));
    } else if (path.toLowerCase().endsWith('.json')) {
      const siblings = await walk(dirname(path), dirname(path), false);
      const self = siblings.filter((f) => f.name === basename(path));
      out.push(...self, ...siblings.filter((f) => f.name !== basename(path)));
    } else if (ONNX_FILE.test(path)) {
      const siblings = await walk(dirname(path), dirname(path), false);
      out.push(...siblings.filter((f) => f.name === basename(path)), ...siblings.filter((f) => SIDECAR.test(f.name) || ONNX_SIDECAR.test(f.name)));
    } else if (KERAS_FILE.test(path)) {
      // A Keras file brings the label files beside it, as a folder would.
      const siblings = await walk(dirname(path), dirname(path), false);
      out.push(...siblings.filter((f) => f.name === basename(path)), ...siblings.filter((f) => SIDECAR.test(f.name)));
    } else {
      out.push(fileAt(path, basename(path), info.size));
    }
  }
  return out;
}
