/**
 * One interface for files from a browser drop/picker/zip and from Node paths,
 * so that every format reader is written once.
 */
export interface InputFile {
  /** Base name, e.g. `group1-shard1of1.bin`. */
  name: string;
  /** Path inside the dropped folder or zip (`tm/model.json`); equals `name` for loose files. */
  path: string;
  size: number;
  bytes(): Promise<Uint8Array>;
  /** The first `n` bytes without reading the rest (a 60 MB .h5 is not read to look at its signature). */
  head?(n: number): Promise<Uint8Array>;
}

/** The first `n` bytes of a file: through `head` when it has one, else a prefix of all its bytes. */
export async function readHead(file: InputFile, n: number): Promise<Uint8Array> {
  return file.head ? file.head(n) : (await file.bytes()).subarray(0, n);
}

export function fromBrowserFile(file: File, path?: string): InputFile {
  const rel = path ?? ((file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name);
  return {
    name: file.name,
    path: rel,
    size: file.size,
    bytes: async () => new Uint8Array(await file.arrayBuffer()),
    head: async (n) => new Uint8Array(await file.slice(0, n).arrayBuffer()),
  };
}

export function fromBytes(name: string, data: Uint8Array, path = name): InputFile {
  return { name: baseName(name), path, size: data.byteLength, bytes: async () => data, head: async (n) => data.subarray(0, n) };
}

export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1];
}

/** The folder part of a path ('' for a bare name). */
export function dirName(path: string): string {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return cut < 0 ? '' : path.slice(0, cut);
}

export function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

export async function readText(file: InputFile): Promise<string> {
  return new TextDecoder().decode(await file.bytes());
}

/** RGBA pixels, row-major: what every image decoder hands to the engine. */
export interface RawImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}
