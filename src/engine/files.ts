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
}

export function fromBrowserFile(file: File, path?: string): InputFile {
  const rel = path ?? ((file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name);
  return {
    name: file.name,
    path: rel,
    size: file.size,
    bytes: async () => new Uint8Array(await file.arrayBuffer()),
  };
}

export function fromBytes(name: string, data: Uint8Array, path = name): InputFile {
  return { name: baseName(name), path, size: data.byteLength, bytes: async () => data };
}

export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1];
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
