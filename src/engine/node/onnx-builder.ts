/**
 * Test support: small ONNX files written with protobufjs and ONNX's own schema (the encoder twin
 * of onnx/onnx-proto.ts), so reader tests need no Python.
 */
import { protobufLight } from '../onnx/onnx-proto';
import { ONNX_SCHEMA } from '../onnx/onnx-schema';

export type AttrSpec = { name: string } & ({ f: number } | { i: number } | { ints: number[] } | { floats: number[] } | { s: string } | { t: TensorSpec });

export interface TensorSpec {
  name: string;
  dims: number[];
  /** Values (float32 unless dataType says otherwise). */
  data?: number[];
  dataType?: number;
  /** Store as raw_data (little endian) instead of float_data / int64_data. */
  raw?: boolean;
  external?: { location: string; offset: number; length: number };
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: AttrSpec[];
}

export interface ModelSpec {
  opset?: number;
  inputs: Array<{ name: string; shape: Array<number | string>; elemType?: number }>;
  outputs: Array<{ name: string; shape?: Array<number | string> }>;
  nodes: NodeSpec[];
  initializers?: TensorSpec[];
}

function rawBytes(t: TensorSpec): Uint8Array {
  const data = t.data ?? [];
  if ((t.dataType ?? 1) === 7) {
    const out = new BigInt64Array(data.map((v) => BigInt(v)));
    return new Uint8Array(out.buffer);
  }
  if (t.dataType === 3) return new Uint8Array(new Int8Array(data).buffer);
  return new Uint8Array(new Float32Array(data).buffer);
}

function tensorProto(t: TensorSpec): Record<string, unknown> {
  const dataType = t.dataType ?? 1;
  const out: Record<string, unknown> = { name: t.name, dims: t.dims, data_type: dataType };
  if (t.external) {
    out.data_location = 1;
    out.external_data = Object.entries(t.external).map(([key, value]) => ({ key, value: String(value) }));
  } else if (t.raw) out.raw_data = rawBytes(t);
  else if (dataType === 7) out.int64_data = t.data ?? [];
  else if (dataType === 1) out.float_data = t.data ?? [];
  else out.int32_data = t.data ?? [];
  return out;
}

function attrProto(a: AttrSpec): Record<string, unknown> {
  if ('f' in a) return { name: a.name, type: 1, f: a.f };
  if ('i' in a) return { name: a.name, type: 2, i: a.i };
  if ('s' in a) return { name: a.name, type: 3, s: new TextEncoder().encode(a.s) };
  if ('t' in a) return { name: a.name, type: 4, t: tensorProto(a.t) };
  if ('floats' in a) return { name: a.name, type: 6, floats: a.floats };
  return { name: a.name, type: 7, ints: a.ints };
}

function valueInfo(v: { name: string; shape?: Array<number | string>; elemType?: number }): Record<string, unknown> {
  const dims = (v.shape ?? []).map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name: v.name, type: { tensor_type: { elem_type: v.elemType ?? 1, ...(v.shape ? { shape: { dim: dims } } : {}) } } };
}

export function encodeOnnx(spec: ModelSpec): Uint8Array {
  const type = protobufLight.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
  const message = type.fromObject({
    ir_version: 8,
    producer_name: 'onnx-builder',
    opset_import: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 'g',
      node: spec.nodes.map((n, i) => ({ name: n.name ?? `${n.op}_${i}`, op_type: n.op, domain: n.domain ?? '', input: n.inputs, output: n.outputs, attribute: (n.attrs ?? []).map(attrProto) })),
      initializer: (spec.initializers ?? []).map(tensorProto),
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
    },
  });
  return type.encode(message).finish();
}

/** Seeded values in [-1, 1) (a small LCG: tests must not depend on Math.random). */
export function seeded(n: number, seed = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}
