/** Node only: InputFiles from paths on disk, read lazily. */
import { basename, dirname, relative } from 'node:path';
import type { InputFile } from '../files';
import { readFileSafely, statPath, walkFiles } from './safe-fs';

function fileAt(absolutePath: string, path: string, size: number): InputFile {
  return {
    name: basename(absolutePath),
    path,
    size,
    // Links followed, special files refused, reads time out: see safe-fs.ts.
    bytes: () => readFileSafely(absolutePath),
    head: (n) => readFileSafely(absolutePath, { length: n }),
  };
}

async function walk(dir: string, root: string, recursive: boolean): Promise<InputFile[]> {
  // Symbolic links count as what they point at (a Hugging Face snapshot is all links), loops skipped.
  const entries = await walkFiles(dir, { recursive });
  // Paths are relative to the folder's parent so that the folder name names the model.
  return entries.map((e) => fileAt(e.path, relative(dirname(root), e.path).split('\\').join('/'), e.info.size));
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
    const info = await statPath(path);
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
