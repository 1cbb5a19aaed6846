// jsfive ships no types: its declarations live beside this file and must reach every program that imports it.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./jsfive.d.ts" />
/**
 * Thin typed layer over jsfive (loaded on demand) for what the Keras readers need:
 * string attributes (NUL-padded, possibly split into `name0`, `name1`… when large),
 * float datasets as Float32Array, and a walk over every dataset below a group.
 */
import type * as Jsfive from 'jsfive';
import { studioError } from '../../../shared/errors';

export type H5Group = Jsfive.Group;
export type H5Dataset = Jsfive.Dataset;

/** A weight read from a file: row-major float32 data with its shape. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

export async function openHdf5(bytes: Uint8Array, fileName: string): Promise<Jsfive.File> {
  const hdf5 = await import('jsfive');
  // jsfive wants a whole ArrayBuffer; copy only when the view is a window on a larger one.
  const buffer =
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? (bytes.buffer as ArrayBuffer)
      : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  try {
    return new hdf5.File(buffer, fileName);
  } catch (e) {
    throw studioError('KERAS_UNSUPPORTED', { reason: `${fileName} is not a readable HDF5 file (${errorText(e)}).` });
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** jsfive groups expose `keys` as an array getter; datasets are Arrays whose `keys` is a method. */
export function isGroup(node: unknown): node is H5Group {
  return node !== null && typeof node === 'object' && Array.isArray((node as { keys?: unknown }).keys);
}

export function isDataset(node: unknown): node is H5Dataset {
  return node !== null && typeof node === 'object' && !isGroup(node) && 'dtype' in node && 'shape' in node;
}

/** `get` throws on a missing path in jsfive; here a missing path is `null`. */
export function getNode(group: H5Group, path: string): H5Group | H5Dataset | null {
  try {
    return group.get(path);
  } catch {
    return null;
  }
}

/** Fixed-length HDF5 strings come back NUL-padded from some writers/readers; bytes are decoded as UTF-8. */
export function cleanString(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (value instanceof Uint8Array) text = new TextDecoder().decode(value);
  else if (Array.isArray(value) && value.every((v) => typeof v === 'number')) text = new TextDecoder().decode(Uint8Array.from(value as number[]));
  else text = String(value);
  return text.replace(/\0+$/, '');
}

export function stringAttr(node: H5Group | H5Dataset, name: string): string | undefined {
  const attrs = node.attrs;
  if (!(name in attrs) || attrs[name] === null || attrs[name] === undefined) return undefined;
  const value = attrs[name];
  return cleanString(Array.isArray(value) && value.length === 1 ? value[0] : value);
}

/**
 * A list-of-strings attribute. Keras splits one that exceeds the 64 KiB object-header limit into
 * `name0`, `name1`, … (see `save_attributes_to_hdf5_group`); both layouts are read here.
 */
export function stringListAttr(node: H5Group, name: string): string[] | undefined {
  const attrs = node.attrs;
  const asList = (value: unknown): string[] => (Array.isArray(value) ? value.map(cleanString) : [cleanString(value)]);
  if (name in attrs) return asList(attrs[name]).filter((s) => s.length > 0);
  if (!(`${name}0` in attrs)) return undefined;
  const out: string[] = [];
  for (let chunk = 0; `${name}${chunk}` in attrs; chunk++) out.push(...asList(attrs[`${name}${chunk}`]));
  return out.filter((s) => s.length > 0);
}

/** Read a numeric dataset as float32 (float64 and integer weights are converted). */
export function readTensor(dataset: H5Dataset, label: string): HostTensor {
  const dtype = typeof dataset.dtype === 'string' ? dataset.dtype : JSON.stringify(dataset.dtype);
  if (!/^[<>|=]?[fiu]\d$/.test(dtype)) {
    throw studioError('KERAS_UNSUPPORTED', { reason: `weight ${label} has data type ${dtype}, not a number type.` });
  }
  const shape = [...dataset.shape];
  const size = shape.reduce((a, b) => a * b, 1);
  let values: ArrayLike<number | bigint>;
  try {
    values = dataset.value;
  } catch (e) {
    throw studioError('KERAS_UNSUPPORTED', { reason: `weight ${label} could not be read (${errorText(e)}).` });
  }
  const data = new Float32Array(size);
  if (values.length !== size) {
    throw studioError('KERAS_UNSUPPORTED', { reason: `weight ${label} holds ${values.length} values for shape [${shape.join(', ')}].` });
  }
  for (let i = 0; i < size; i++) data[i] = Number(values[i]);
  return { shape, data };
}

/** Every dataset below `group`, by path relative to it (`layers/conv2d/vars/0`), in key order. */
export function collectDatasets(group: H5Group, prefix = ''): Map<string, H5Dataset> {
  const out = new Map<string, H5Dataset>();
  for (const key of group.keys) {
    const child = getNode(group, key);
    const path = prefix ? `${prefix}/${key}` : key;
    if (isGroup(child)) for (const [p, d] of collectDatasets(child, path)) out.set(p, d);
    else if (isDataset(child)) out.set(path, child);
  }
  return out;
}
