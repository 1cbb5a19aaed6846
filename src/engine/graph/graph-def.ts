/**
 * A TF.js graph model's GraphDef (`modelTopology.node`), read as plain data: each node's op, its data
 * inputs (control inputs `^name` dropped) and its attributes decoded from TensorFlow's AttrValue JSON
 * (`{s: base64}`, `{i: "2"}`, `{list: {i: [...]}}`…); the nodes in an order where every input comes
 * first; the image input (the one Placeholder) and the outputs (the signature's, else the nodes
 * nothing reads). Nothing here touches tensors.
 */
import { studioError } from '../../shared/errors';

export type AttrValue = string | number | boolean | number[] | string[] | null;

export interface GraphNode {
  name: string;
  op: string;
  /** Data inputs as written: `node` or `node:k` (output k). */
  inputs: string[];
  attrs: Record<string, AttrValue>;
}

export interface GraphDef {
  nodes: GraphNode[];
  byName: Map<string, GraphNode>;
  /** The image input (a Placeholder). */
  input: GraphNode;
  /** [batch, h, w, c] with -1 for unknown sizes. */
  inputShape: number[];
  /** Output tensor names (`node` or `node:k`), signature order. */
  outputs: string[];
}

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decodeBase64(s: string): string {
  try {
    return atob(s);
  } catch {
    return s;
  }
}

/** One AttrValue (TensorFlow's protobuf JSON) as a plain value. */
export function attrValue(raw: unknown): AttrValue {
  if (!isRecord(raw)) return null;
  if (typeof raw.s === 'string') return decodeBase64(raw.s);
  if (raw.i !== undefined) return Number(raw.i);
  if (raw.f !== undefined) return Number(raw.f);
  if (typeof raw.b === 'boolean') return raw.b;
  if (typeof raw.type === 'string') return raw.type;
  if (isRecord(raw.shape)) return shapeOf(raw.shape);
  if (isRecord(raw.list)) {
    const list = raw.list;
    if (Array.isArray(list.i)) return list.i.map(Number);
    if (Array.isArray(list.f)) return list.f.map(Number);
    if (Array.isArray(list.s)) return list.s.map((x) => decodeBase64(String(x)));
    return [];
  }
  return null;
}

function shapeOf(shape: Json): number[] {
  const dims = Array.isArray(shape.dim) ? shape.dim : [];
  return dims.map((d) => (isRecord(d) && d.size !== undefined ? Number(d.size) : -1));
}

/** `name:k` → [name, k]; `name` → [name, 0]. */
export function splitTensorName(tensor: string): [string, number] {
  const m = /^(.*):(\d+)$/.exec(tensor);
  return m ? [m[1]!, Number(m[2])] : [tensor, 0];
}

const invalid = (reason: string) => studioError('GRAPH_MODEL_INVALID', { reason });

/** Ops that carry no computation of their own. */
const NO_OPS = new Set(['NoOp']);

export function parseGraphDef(modelTopology: unknown, signature: unknown): GraphDef {
  if (!isRecord(modelTopology) || !Array.isArray(modelTopology.node)) throw invalid('modelTopology has no list of nodes');
  const nodes: GraphNode[] = [];
  const byName = new Map<string, GraphNode>();
  for (const [i, raw] of modelTopology.node.entries()) {
    if (!isRecord(raw) || typeof raw.name !== 'string' || typeof raw.op !== 'string') throw invalid(`node ${i} has no name or op`);
    if (byName.has(raw.name)) throw invalid(`two nodes are named "${raw.name}"`);
    if (NO_OPS.has(raw.op)) continue;
    if (raw.input !== undefined && !(Array.isArray(raw.input) && raw.input.every((s) => typeof s === 'string'))) throw invalid(`node "${raw.name}" has inputs that are not a list of names`);
    const inputs = (Array.isArray(raw.input) ? (raw.input as string[]) : []).filter((s) => !s.startsWith('^'));
    const attrs: Record<string, AttrValue> = {};
    if (isRecord(raw.attr)) for (const [k, v] of Object.entries(raw.attr)) attrs[k] = attrValue(v);
    const node: GraphNode = { name: raw.name, op: raw.op, inputs, attrs };
    nodes.push(node);
    byName.set(node.name, node);
  }
  for (const node of nodes) {
    for (const input of node.inputs) {
      if (!byName.has(splitTensorName(input)[0])) throw invalid(`node "${node.name}" reads "${input}", which is not in the graph`);
    }
  }
  const ordered = topologicalOrder(nodes);

  const placeholders = ordered.filter((n) => n.op === 'Placeholder');
  if (placeholders.length === 0) throw invalid('the graph has no input (Placeholder)');
  if (placeholders.length > 1) throw studioError('MULTI_INPUT', { count: placeholders.length });
  const input = placeholders[0]!;
  let inputShape = Array.isArray(input.attrs.shape) ? (input.attrs.shape as number[]) : [];
  const sigInputs = isRecord(signature) && isRecord(signature.inputs) ? Object.values(signature.inputs) : [];
  const sigInput = sigInputs.find((v) => isRecord(v) && typeof v.name === 'string' && splitTensorName(v.name)[0] === input.name);
  if (inputShape.length === 0 && isRecord(sigInput) && isRecord(sigInput.tensorShape)) inputShape = shapeOf(sigInput.tensorShape);

  let outputs: string[] = [];
  const sigOutputs = isRecord(signature) && isRecord(signature.outputs) ? Object.values(signature.outputs) : [];
  for (const v of sigOutputs) {
    if (isRecord(v) && typeof v.name === 'string' && byName.has(splitTensorName(v.name)[0])) outputs.push(v.name.replace(/:0$/, ''));
  }
  if (outputs.length === 0) {
    const read = new Set(nodes.flatMap((n) => n.inputs.map((t) => splitTensorName(t)[0])));
    outputs = ordered.filter((n) => !read.has(n.name) && n.op !== 'Const' && n.op !== 'Placeholder').map((n) => n.name);
  }
  if (outputs.length === 0) throw invalid('the graph has no output');
  return { nodes: ordered, byName, input, inputShape, outputs };
}

/** Kahn's order over data inputs, keeping the file's order among ready nodes; a cycle is refused. */
function topologicalOrder(nodes: GraphNode[]): GraphNode[] {
  const pending = new Map(nodes.map((n) => [n.name, new Set(n.inputs.map((t) => splitTensorName(t)[0]))]));
  const consumers = new Map<string, GraphNode[]>();
  for (const n of nodes) for (const dep of pending.get(n.name)!) consumers.set(dep, [...(consumers.get(dep) ?? []), n]);
  const order: GraphNode[] = [];
  const ready = nodes.filter((n) => pending.get(n.name)!.size === 0);
  const position = new Map(nodes.map((n, i) => [n.name, i]));
  while (ready.length > 0) {
    ready.sort((a, b) => position.get(a.name)! - position.get(b.name)!);
    const n = ready.shift()!;
    order.push(n);
    for (const c of consumers.get(n.name) ?? []) {
      const deps = pending.get(c.name)!;
      deps.delete(n.name);
      if (deps.size === 0) ready.push(c);
    }
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.find((n) => pending.get(n.name)!.size > 0)!;
    throw invalid(`node "${stuck.name}" is part of a cycle (control flow is not supported)`);
  }
  return order;
}
