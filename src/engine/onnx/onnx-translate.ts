/**
 * An ONNX graph → the graph program's GraphDef (graph/graph-def.ts), in NHWC (onnx-layout.ts).
 * Ops with a Keras twin become the TF op graph-ops.ts already presents as that Keras layer (Conv →
 * Conv2D / DepthwiseConv2dNative with HWIO weights transposed once, Gemm → _FusedMatMul, Relu,
 * Clip(0, 6) → Relu6, pools, GlobalAveragePool → Mean, Concat → ConcatV2), so the written-out
 * backward pass and the guided rule reach them; the rest become `Onnx<Op>` nodes run by the
 * closures in `custom` (onnx-ops.ts). Constant subgraphs are folded here; Identity and Dropout
 * vanish. Node names keep ONNX's module paths (`/layer4/layer4.1/conv2/Conv`) for the tree.
 */
import * as tf from '@tensorflow/tfjs';
import { notice, studioError, type StudioNotice } from '../../shared/errors';
import type { GraphDef, GraphNode } from '../graph/graph-def';
import type { OnnxModel, OnnxTensor } from './onnx-proto';
import { isFloatType } from './onnx-proto';
import type { Value } from './onnx-layout';
import type { RuleContext } from './onnx-rule-context';

export type { RuleContext };
import { translateNode } from './onnx-node-rules';
import { opLayer, type ConverterRun, type OpInput } from '../graph/graph-ops';
import { TO_NCHW } from './onnx-layout';
import { extraTokens, gridToTokens, patchGrid, tokensToGrid, tokenScopeEnds } from './onnx-tokens';

export interface CustomOp {
  /** Graph tensors it reads, in order (the program feeds them by these names). */
  inputs: string[];
  run: (xs: tf.Tensor[]) => tf.Tensor;
}

export interface OnnxTranslation {
  def: GraphDef;
  weights: Record<string, tf.Tensor[]>;
  custom: Map<string, CustomOp>;
  /** Graph node name → its ONNX op type (the tree shows ONNX's names). */
  onnxOps: Map<string, string>;
  /** ONNX tensor name → graph tensor (tests find a module's output through it). */
  tensors: Map<string, string>;
  /** Graph tensors held NHWC while ONNX means NCHW (the tree shows them NCHW). */
  permuted: Set<string>;
  /** Every tensor made here (freed with the model). */
  owned: tf.Tensor[];
  /** What the user should know (a token layer that is not a grid). */
  notices: StudioNotice[];
}

/** Ops refused by name: a step-by-step program has no control flow; quantized models cannot be explained. */
const REFUSED: Record<string, string> = {
  Loop: 'control flow', If: 'control flow', Scan: 'control flow',
  QLinearConv: 'quantized op', QLinearMatMul: 'quantized op', QuantizeLinear: 'quantized op', DequantizeLinear: 'quantized op',
  DynamicQuantizeLinear: 'quantized op', ConvInteger: 'quantized op', MatMulInteger: 'quantized op', QLinearAdd: 'quantized op',
};

export function refuseOnnxOps(model: OnnxModel): void {
  model.nodes.forEach((n, i) => {
    const node = n.name || `${n.opType}_${i}`;
    if (n.domain && n.domain !== 'ai.onnx') throw studioError('ONNX_OP_UNSUPPORTED', { op: `${n.domain}.${n.opType}`, node, opset: model.opset, reason: `domain ${n.domain}` });
    const reason = REFUSED[n.opType];
    if (reason) throw studioError('ONNX_OP_UNSUPPORTED', { op: n.opType, node, opset: model.opset, reason });
  });
}

function tensorOf(t: OnnxTensor): tf.Tensor {
  if (isFloatType(t.dataType)) return tf.tensor(t.data, t.dims, 'float32');
  // Integer data are shapes, axes and indices here: int32 holds them (INT64_MAX "to the end" clamps).
  const ints = Int32Array.from(t.data, (v) => Math.max(-2147483648, Math.min(2147483647, v)));
  return tf.tensor(ints, t.dims, 'int32');
}

/** Unique, tree-friendly node names: ONNX's own, else `<Op>_<index>` (flat exports). */
function nodeNames(model: OnnxModel): string[] {
  const used = new Set<string>();
  return model.nodes.map((n, i) => {
    let name = (n.name || `${n.opType}_${i}`).replace(/:/g, '_');
    if (used.has(name)) name = `${name}_${i}`;
    used.add(name);
    return name;
  });
}

export interface ImageInput {
  name: string;
  /** [batch, h, w, c] as the program takes it. */
  nhwcShape: number[];
  /** True when the model's input is NCHW (it is then held permuted). */
  nchw: boolean;
  /** 4 for images; the backend conformance tests feed other ranks. */
  rank?: number;
}

/** Runs the translation's Onnx<op> nodes for the graph program (its fallback for ops without a TF twin). */
export function onnxConverter(custom: OnnxTranslation['custom']): ConverterRun {
  return (feeds, outputs) => {
    const name = outputs[0] ?? '';
    const op = custom.get(name);
    if (!op) throw studioError('INTERNAL', { reason: `no ONNX op for node ${name}` });
    return [
      op.run(
        op.inputs.map((ref) => {
          const t = feeds[ref];
          if (!t) throw studioError('INTERNAL', { reason: `node ${name} was not fed ${ref}` });
          return t;
        }),
      ),
    ];
  };
}

function fedTensor(t: tf.Tensor | undefined): tf.Tensor {
  if (!t) throw studioError('INTERNAL', { reason: 'a token node was not fed' });
  return t;
}

/** The ONNX (logical) shape of a probe value. */
function logicalShape(t: tf.Tensor, permuted: boolean): number[] {
  return permuted && t.rank === 4 ? TO_NCHW.map((k) => t.shape[k] ?? 0) : [...t.shape];
}

export function translateOnnx(model: OnnxModel, input: ImageInput): OnnxTranslation {
  const weights: Record<string, tf.Tensor[]> = {};
  const custom = new Map<string, CustomOp>();
  const onnxOps = new Map<string, string>();
  const owned: tf.Tensor[] = [];
  const values = new Map<string, Value>();
  const tensors = new Map<string, string>();
  const permuted = new Set<string>();
  const own = <T extends tf.Tensor>(t: T): T => {
    owned.push(t);
    return t;
  };
  const placeholder: GraphNode = { name: input.name.replace(/:/g, '_'), op: 'Placeholder', inputs: [], attrs: { shape: input.nhwcShape } };
  const nodes: GraphNode[] = [placeholder];
  values.set(input.name, { kind: 'dyn', ref: placeholder.name, rank: input.rank ?? 4, permuted: input.nchw && (input.rank ?? 4) === 4 });
  tensors.set(input.name, placeholder.name);
  if (input.nchw) permuted.add(placeholder.name);
  let constCount = 0;
  const constName = (t: tf.Tensor) => {
    const name = `onnx_const_${constCount++}`;
    weights[name] = [t];
    return name;
  };
  const initializer = (name: string): Value | undefined => {
    const t = model.initializers.get(name);
    if (!t) return undefined;
    const v: Value = { kind: 'const', t: own(tensorOf(t)) };
    values.set(name, v);
    return v;
  };

  // The probe: every emitted node runs once on a blank image as it is made, so a Shape of a computed
  // tensor is known (and folds) and each rule sees its inputs' shapes.
  const probe = new Map<string, tf.Tensor>();
  const probeDims = input.nhwcShape.map((d) => (d >= 0 ? d : 1));
  probe.set(placeholder.name, tf.zeros(probeDims));
  const converter = onnxConverter(custom);
  const runProbe = (from: number, opType: string, nodeName: string) => {
    for (const n of nodes.slice(from)) {
      const ins: OpInput[] = n.inputs.map((t) => {
        if (probe.has(t)) return { slot: t };
        const c = weights[t]?.[0];
        if (!c) throw studioError('INTERNAL', { reason: `${n.name} reads ${t}, which has no value` });
        return { constant: c };
      });
      try {
        const layer = opLayer(n, ins, 1, converter);
        const fed = n.inputs.flatMap((t) => probe.get(t) ?? []);
        const out = tf.tidy(() => layer.apply(fed));
        const first = Array.isArray(out) ? out[0] : out;
        if (first) probe.set(n.name, first);
        tf.dispose(layer.owned);
      } catch (e) {
        throw studioError('ONNX_OP_UNSUPPORTED', { op: opType, node: nodeName, opset: model.opset, reason: e instanceof Error ? e.message : String(e) });
      }
    }
  };
  const names = nodeNames(model);
  const tokenEnds = tokenScopeEnds(names);
  const notices: StudioNotice[] = [];
  let grid: [number, number] | null = null;
  try {
    model.nodes.forEach((node, index) => {
      const base = names[index] ?? `${node.opType}_${index}`;
      const ins = node.inputs.map((name) => {
        if (!name) return null;
        const v = values.get(name) ?? initializer(name);
        if (!v) throw studioError('ONNX_INVALID', { file: 'model', reason: `node "${base}" reads "${name}", which no node makes` });
        return v;
      });
      const unsupported = (reason?: string): never => {
        throw studioError('ONNX_OP_UNSUPPORTED', { op: node.opType, node: base, opset: model.opset, ...(reason ? { reason } : {}) });
      };
      const attr = (n: string) => node.attrs[n];
      let emitted = 0;
      const nextName = (suffix?: string) => {
        const name = suffix ? `${base}_${suffix}` : emitted === 0 ? base : `${base}_${emitted}`;
        emitted++;
        return name;
      };
      const ctx: RuleContext = {
        node, opset: model.opset, ins, attr, own, unsupported,
        int: (n, f) => (typeof attr(n) === 'number' ? (attr(n) as number) : f),
        float: (n, f) => (typeof attr(n) === 'number' ? (attr(n) as number) : f),
        ints: (n, f) => (Array.isArray(attr(n)) ? (attr(n) as number[]) : f),
        shapeOf: (v) => {
          const t = probe.get(v.ref);
          return t ? logicalShape(t, v.permuted) : null;
        },
        str: (n, f) => (typeof attr(n) === 'string' ? (attr(n) as string) : f),
        constValues: (k) => {
          const v = ins[k];
          return v && v.kind === 'const' ? Array.from(v.t.dataSync()) : null;
        },
        emit: (op, inputs, attrs = {}, suffix) => {
          const name = nextName(suffix);
          nodes.push({ name, op, inputs: inputs.map((i) => (typeof i === 'string' ? i : constName(own(i)))), attrs });
          onnxOps.set(name, node.opType);
          return name;
        },
        custom: (inputs, run, suffix) => {
          const name = nextName(suffix);
          nodes.push({ name, op: `Onnx${node.opType}`, inputs: inputs.map((i) => i.ref), attrs: {} });
          custom.set(name, { inputs: inputs.map((i) => i.ref), run });
          onnxOps.set(name, node.opType);
          return name;
        },
      };
      const before = nodes.length;
      const outs = translateNode(ctx);
      runProbe(before, node.opType, base);
      const out = outs[0];
      if (!grid && node.opType === 'Conv' && out?.kind === 'dyn') grid = patchGrid(ctx.ints('kernel_shape', []), ctx.ints('strides', [1, 1]), ctx.shapeOf(out));
      const shape = out?.kind === 'dyn' ? ctx.shapeOf(out) : null;
      const extra = grid && shape?.length === 3 && tokenEnds.has(index) ? extraTokens(shape[1] ?? 0, grid) : null;
      if (grid && shape?.length === 3 && tokenEnds.has(index) && extra === null) {
        notices.push(notice('TOKENS_NOT_A_GRID', { node: base, tokens: shape[1] ?? 0, grid: `${grid[0]}×${grid[1]}` }));
      }
      if (grid && out?.kind === 'dyn' && extra !== null) {
        // ln_1's tokens → an explainable [B, h, w, C] grid (last in the module) → joined back for the block.
        const g = grid;
        const gridName = base.replace(/[^/]*$/, 'tokens');
        const joinName = `${base.replace(/\/[^/]*$/, '')}_tokens`;
        const start = nodes.length;
        nodes.push({ name: gridName, op: 'OnnxTokenGrid', inputs: [out.ref], attrs: {} });
        custom.set(gridName, { inputs: [out.ref], run: ([t]) => tokensToGrid(fedTensor(t), g, extra) });
        onnxOps.set(gridName, `Tokens ${g[0]}×${g[1]}${extra ? ` + ${extra}` : ''}`);
        nodes.push({ name: joinName, op: 'OnnxTokenJoin', inputs: [out.ref, gridName], attrs: {} });
        custom.set(joinName, { inputs: [out.ref, gridName], run: ([t, m]) => gridToTokens(fedTensor(t), fedTensor(m), extra) });
        onnxOps.set(joinName, 'Tokens');
        runProbe(start, node.opType, base);
        outs[0] = { kind: 'dyn', ref: joinName, rank: 3, permuted: false };
      }
      outs.forEach((v, k) => {
        const name = node.outputs[k];
        if (!name) return;
        values.set(name, v);
        if (v.kind === 'const') {
          own(v.t);
          return;
        }
        tensors.set(name, v.ref);
        if (v.permuted) permuted.add(v.ref);
      });
    });
  } catch (e) {
    tf.dispose(owned);
    throw e;
  } finally {
    tf.dispose([...probe.values()]);
  }

  const outputs = model.outputs.map((o) => {
    const v = values.get(o.name);
    if (!v || v.kind !== 'dyn') throw studioError('ONNX_INVALID', { file: 'model', reason: `output ${o.name} is not computed from the input` });
    return v.ref;
  });
  const byName = new Map(nodes.map((n) => [n.name, n]));
  return { def: { nodes, byName, input: placeholder, inputShape: input.nhwcShape, outputs }, weights, custom, onnxOps, tensors, permuted, owned, notices };
}
