/**
 * An ONNX file (a protobuf ModelProto) decoded into plain data with protobufjs (light build + the
 * schema generated from ONNX's own onnx.proto, onnx-schema.ts). Tensors come out as typed arrays:
 * raw_data is copied (a protobuf byte field sits at any offset, a Float32Array needs 4-byte
 * alignment), float_data / int32_data / int64_data (Long → number) / double_data and float16 are
 * converted; tensors kept in an external file carry where to find them. Nothing here touches tfjs.
 */
import * as protobufModule from 'protobufjs/light.js';
import type { Type } from 'protobufjs/light.js';
import { ONNX_SCHEMA } from './onnx-schema';

/** TensorProto.DataType values used here. */
export const ONNX_DTYPE = { FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16 } as const;

const DTYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(ONNX_DTYPE).map(([k, v]) => [v, k.toLowerCase()]));

export function dtypeName(dataType: number): string {
  return DTYPE_NAMES[dataType] ?? `type ${dataType}`;
}

export interface ExternalRef {
  location: string;
  offset: number;
  length: number | null;
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** Floats as Float32Array, integers and booleans as Float64Array (exact below 2^53). Empty until external data is read. */
  data: Float32Array | Float64Array;
  external?: ExternalRef;
}

export type OnnxAttr = number | number[] | string | string[] | OnnxTensor | { graph: true };

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, OnnxAttr>;
}

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  /** Dimensions; a symbolic or missing one is -1. Null when the file gives no shape. */
  shape: number[] | null;
}

export interface OnnxModel {
  irVersion: number;
  /** The default domain's opset. */
  opset: number;
  producer: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  /** Graph inputs that are not initializers. */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

/** protobufjs is CommonJS: Node's ESM loader (the CLI) gives its exports as `default`, bundlers as names. */
export const protobufLight = (protobufModule as unknown as { default?: typeof protobufModule }).default ?? protobufModule;

let modelType: Type | null = null;

function modelProto(): Type {
  modelType ??= protobufLight.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
  return modelType;
}

type Raw = Record<string, unknown>;

const isRaw = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : v instanceof Uint8Array ? new TextDecoder().decode(v) : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : 0);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** IEEE half → float. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

const FLOAT_TYPES = new Set<number>([ONNX_DTYPE.FLOAT, ONNX_DTYPE.FLOAT16, ONNX_DTYPE.DOUBLE, ONNX_DTYPE.BFLOAT16]);

/** Little-endian bytes of one data type → values. */
export function decodeRaw(bytes: Uint8Array, dataType: number, name: string): Float32Array | Float64Array {
  // A copy: the field can start at any byte, and DataView reads need no alignment anyway.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = (width: number, get: (at: number) => number, Out: typeof Float32Array | typeof Float64Array) => {
    const n = Math.floor(bytes.byteLength / width);
    const out = new Out(n);
    for (let i = 0; i < n; i++) out[i] = get(i * width);
    return out;
  };
  switch (dataType) {
    case ONNX_DTYPE.FLOAT: return read(4, (at) => view.getFloat32(at, true), Float32Array);
    case ONNX_DTYPE.DOUBLE: return read(8, (at) => view.getFloat64(at, true), Float32Array);
    case ONNX_DTYPE.FLOAT16: return read(2, (at) => halfToFloat(view.getUint16(at, true)), Float32Array);
    case ONNX_DTYPE.BFLOAT16: return read(2, (at) => new Float32Array(new Uint32Array([view.getUint16(at, true) << 16]).buffer)[0] ?? 0, Float32Array);
    case ONNX_DTYPE.INT64: return read(8, (at) => Number(view.getBigInt64(at, true)), Float64Array);
    case ONNX_DTYPE.UINT64: return read(8, (at) => Number(view.getBigUint64(at, true)), Float64Array);
    case ONNX_DTYPE.INT32: return read(4, (at) => view.getInt32(at, true), Float64Array);
    case ONNX_DTYPE.UINT32: return read(4, (at) => view.getUint32(at, true), Float64Array);
    case ONNX_DTYPE.INT16: return read(2, (at) => view.getInt16(at, true), Float64Array);
    case ONNX_DTYPE.UINT16: return read(2, (at) => view.getUint16(at, true), Float64Array);
    case ONNX_DTYPE.INT8: return read(1, (at) => view.getInt8(at), Float64Array);
    case ONNX_DTYPE.UINT8:
    case ONNX_DTYPE.BOOL: return read(1, (at) => view.getUint8(at), Float64Array);
    default: throw new Error(`tensor ${name} has data type ${dtypeName(dataType)}, which cannot be read`);
  }
}

function tensorOf(raw: Raw): OnnxTensor {
  const name = str(raw.name);
  const dims = list(raw.dims).map(num);
  const dataType = num(raw.data_type);
  const external = list(raw.external_data).filter(isRaw);
  if (num(raw.data_location) === 1 || external.length > 0) {
    const entry = (key: string) => str(external.find((e) => str(e.key) === key)?.value);
    const length = entry('length');
    return { name, dims, dataType, data: new Float32Array(0), external: { location: entry('location'), offset: Number(entry('offset') || 0), length: length ? Number(length) : null } };
  }
  let data: Float32Array | Float64Array;
  const rawData = raw.raw_data;
  if (rawData instanceof Uint8Array && rawData.byteLength > 0) data = decodeRaw(rawData, dataType, name);
  else if (dataType === ONNX_DTYPE.FLOAT) data = Float32Array.from(list(raw.float_data).map(num));
  else if (dataType === ONNX_DTYPE.DOUBLE) data = Float32Array.from(list(raw.double_data).map(num));
  // float16 / bfloat16 values sit in int32_data as their bit patterns.
  else if (dataType === ONNX_DTYPE.FLOAT16) data = Float32Array.from(list(raw.int32_data).map((v) => halfToFloat(num(v))));
  else if (dataType === ONNX_DTYPE.BFLOAT16) data = Float32Array.from(list(raw.int32_data).map((v) => new Float32Array(new Uint32Array([num(v) << 16]).buffer)[0] ?? 0));
  else if (dataType === ONNX_DTYPE.INT64) data = Float64Array.from(list(raw.int64_data).map(num));
  else if (dataType === ONNX_DTYPE.UINT64 || dataType === ONNX_DTYPE.UINT32) data = Float64Array.from(list(raw.uint64_data).map(num));
  else data = Float64Array.from(list(raw.int32_data).map(num));
  return { name, dims, dataType, data };
}

export function isFloatType(dataType: number): boolean {
  return FLOAT_TYPES.has(dataType);
}

function attrOf(raw: Raw): OnnxAttr {
  switch (num(raw.type)) {
    case 1: return num(raw.f);
    case 2: return num(raw.i);
    case 3: return str(raw.s);
    case 4: return isRaw(raw.t) ? tensorOf(raw.t) : { graph: true };
    case 5: return { graph: true };
    case 6: return list(raw.floats).map(num);
    case 7: return list(raw.ints).map(num);
    case 8: return list(raw.strings).map(str);
    case 10: return { graph: true };
    default:
      // Old exporters leave `type` unset: the filled field says what it is.
      if (isRaw(raw.t)) return tensorOf(raw.t);
      if (list(raw.ints).length > 0) return list(raw.ints).map(num);
      if (list(raw.floats).length > 0) return list(raw.floats).map(num);
      if (raw.s instanceof Uint8Array && raw.s.byteLength > 0) return str(raw.s);
      if (raw.f !== undefined) return num(raw.f);
      return num(raw.i);
  }
}

function valueInfo(raw: Raw): OnnxValueInfo {
  const tensorType = isRaw(raw.type) && isRaw(raw.type.tensor_type) ? raw.type.tensor_type : undefined;
  const shape = tensorType && isRaw(tensorType.shape) ? list(tensorType.shape.dim).filter(isRaw).map((d) => (d.dim_value !== undefined && num(d.dim_value) > 0 ? num(d.dim_value) : -1)) : null;
  return { name: str(raw.name), elemType: num(tensorType?.elem_type), shape };
}

/** One TensorProto (the backend tests' input_N.pb / output_N.pb). */
export function decodeTensorProto(bytes: Uint8Array): OnnxTensor {
  const type = protobufLight.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.TensorProto');
  return tensorOf(type.toObject(type.decode(bytes), { longs: Number, enums: Number, arrays: true }) as Raw);
}

/** Decode a ModelProto; throws a plain Error with the reason when the bytes are not one. */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModel {
  const type = modelProto();
  const message = type.decode(bytes);
  const model = type.toObject(message, { longs: Number, enums: Number, arrays: true }) as Raw;
  const graph = isRaw(model.graph) ? model.graph : null;
  if (!graph || list(graph.node).length === 0) throw new Error('no graph with nodes');
  const opsets = list(model.opset_import).filter(isRaw);
  const defaultOpset = opsets.find((o) => str(o.domain) === '' || str(o.domain) === 'ai.onnx');
  const initializers = new Map<string, OnnxTensor>();
  for (const t of list(graph.initializer).filter(isRaw)) {
    const tensor = tensorOf(t);
    initializers.set(tensor.name, tensor);
  }
  const nodes: OnnxNode[] = list(graph.node).filter(isRaw).map((n) => ({
    name: str(n.name),
    opType: str(n.op_type),
    domain: str(n.domain),
    inputs: list(n.input).map(str),
    outputs: list(n.output).map(str),
    attrs: Object.fromEntries(list(n.attribute).filter(isRaw).map((a) => [str(a.name), attrOf(a)])),
  }));
  return {
    irVersion: num(model.ir_version),
    opset: defaultOpset ? num(defaultOpset.version) : 1,
    producer: [str(model.producer_name), str(model.producer_version)].filter(Boolean).join(' '),
    nodes,
    initializers,
    inputs: list(graph.input).filter(isRaw).map(valueInfo).filter((v) => !initializers.has(v.name)),
    outputs: list(graph.output).filter(isRaw).map(valueInfo),
  };
}
