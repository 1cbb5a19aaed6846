/**
 * A TF.js graph model compiled into the same flat program as a layers model (program.ts): one step
 * per op over numbered slots, so the per-image cache, the written-out backward pass and every method
 * run on it unchanged. Identity-like nodes take their input's slot; subgraphs of constants (shape
 * arithmetic) are folded once here. The tree groups the nodes by name scope, with the converter's
 * wrapper scopes dropped: `StatefulPartitionedCall/model_1/block1_conv1_act/Relu` becomes
 * model_1 › block1_conv1_act (a scope holding a single op is shown as that op).
 * Output shapes come from one forward pass on a blank image.
 */
import * as tf from '@tensorflow/tfjs';
import { studioError } from '../../shared/errors';
import { detectLogit, type Program, type ProgramTreeNode, type Step } from '../executor/program';
import { runForward } from '../executor/forward';
import { splitTensorName, type GraphDef, type GraphNode } from './graph-def';
import { opLayer, outputCount, refuseUnsupportedOps, type ConverterRun, type GraphOpLayer, type OpInput, type StepLayerSurface } from './graph-ops';

type Layer = tf.layers.Layer;

/** Ops that pass their input on unchanged. */
const PASS_THROUGH = new Set(['Identity', 'Snapshot', 'StopGradient', 'PreventGradient', 'CheckNumerics', 'EnsureShape']);

/** Scopes the TF converter wraps every node in. */
const WRAPPER_SCOPE = /^(Stateful)?PartitionedCall(_\d+)?$/;

/** The executor holds layers; a graph op shows it the same surface (graph-ops.ts). */
function asLayer(surface: StepLayerSurface): Layer {
  return surface as unknown as Layer;
}

/** A name scope in the tree: its parameter count is its ops'. */
class ScopeSurface implements StepLayerSurface {
  readonly leaves: StepLayerSurface[] = [];
  constructor(readonly name: string) {}
  getClassName(): string {
    return 'Scope';
  }
  apply(): never {
    throw studioError('INTERNAL', { reason: `scope ${this.name} is not an op` });
  }
  countParams(): number {
    return this.leaves.reduce((n, l) => n + l.countParams(), 0);
  }
}

export function scopeComponents(nodeName: string): string[] {
  const parts = nodeName.split('/').filter(Boolean);
  while (parts.length > 1 && WRAPPER_SCOPE.test(parts[0]!)) parts.shift();
  return parts;
}

export interface GraphProgram {
  program: Program;
  /** The op layers (to free what they made). */
  layers: GraphOpLayer[];
  /** Constants folded here (freed with the model). */
  folded: tf.Tensor[];
}

/** Node values that are constants: the weights, and nodes computed from constants only. */
function constantLookup(weights: tf.NamedTensorMap | Record<string, tf.Tensor[]>): (tensor: string) => tf.Tensor | undefined {
  return (tensor) => {
    const [name, k] = splitTensorName(tensor);
    const v = (weights as Record<string, tf.Tensor | tf.Tensor[]>)[name];
    if (!v) return undefined;
    return Array.isArray(v) ? v[k] : k === 0 ? v : undefined;
  };
}

export function compileGraphProgram(def: GraphDef, weights: Record<string, tf.Tensor[]>, converter: ConverterRun, rootName: string): GraphProgram {
  refuseUnsupportedOps(def.nodes);
  const folded = new Map<string, tf.Tensor>();
  const weightOf = constantLookup(weights);
  const constant = (tensor: string) => folded.get(normal(tensor)) ?? weightOf(tensor);
  const binding = new Map<string, number>();
  const steps: Step[] = [];
  const layers: GraphOpLayer[] = [];
  const stepNodes: GraphNode[] = [];
  let slotCount = 0;
  const inputSlot = slotCount++;
  binding.set(def.input.name, inputSlot);
  const readers = def.nodes.flatMap((n) => n.inputs).concat(def.outputs);

  try {
    for (const node of def.nodes) {
      if (node.op === 'Placeholder' || node.op === 'Const') continue;
      const inputs: OpInput[] = node.inputs.map((t) => {
        const slot = binding.get(normal(t));
        if (slot !== undefined) return { slot: t };
        const c = constant(t);
        if (!c) throw studioError('GRAPH_MODEL_INVALID', { reason: `node "${node.name}" reads "${t}", which has no value` });
        return { constant: c };
      });
      if (PASS_THROUGH.has(node.op) && inputs.length >= 1) {
        const first = inputs[0]!;
        if ('slot' in first) binding.set(node.name, binding.get(normal(first.slot))!);
        else folded.set(node.name, first.constant);
        continue;
      }
      const outputs = outputCount(node, readers);
      const layer = opLayer(node, inputs, outputs, converter);
      if (inputs.every((i) => 'constant' in i)) {
        // Shape arithmetic and the like: computed once.
        const values = tf.tidy(() => {
          const out = layer.apply([]);
          return Array.isArray(out) ? out : [out];
        });
        values.forEach((v, k) => folded.set(k === 0 ? node.name : `${node.name}:${k}`, v));
        continue;
      }
      layers.push(layer);
      const outSlots = Array.from({ length: outputs }, () => slotCount++);
      outSlots.forEach((s, k) => binding.set(k === 0 ? node.name : `${node.name}:${k}`, s));
      steps.push({
        index: steps.length,
        layer: asLayer(layer),
        inputs: inputs.flatMap((i) => ('slot' in i ? [binding.get(normal(i.slot))!] : [])),
        outputs: outSlots,
        path: node.name,
        callArgs: {},
        outputShape: [],
      });
      stepNodes.push(node);
    }
    const outputSlots = def.outputs.map((t) => {
      const s = binding.get(normal(t));
      if (s === undefined) throw studioError('GRAPH_MODEL_INVALID', { reason: `output ${t} is a constant` });
      return s;
    });

    inferShapes(steps, slotCount, inputSlot, def.inputShape);
    const { tree, paths } = scopeTree(rootName, def.input, def.inputShape, steps, stepNodes, outputSlots[0]!);
    const slotsByPath = new Map<string, number>();
    const visit = (n: ProgramTreeNode) => {
      if (n.outputSlot >= 0) slotsByPath.set(n.path, n.outputSlot);
      n.children?.forEach(visit);
    };
    visit(tree);
    // Tree paths are what people pick; steps carry them too (the default layer, messages).
    for (const step of steps) step.path = paths.get(step) ?? step.path;

    const finalStep = steps.find((s) => s.outputs.includes(outputSlots[0]!));
    const program: Program = {
      steps, slotCount, inputSlot, outputSlots, tree, slotsByPath,
      finalStepIndex: finalStep ? finalStep.index : -1,
      logit: detectLogit(finalStep),
    };
    return { program, layers, folded: [...folded.values()] };
  } catch (e) {
    tf.dispose([...folded.values()]);
    layers.forEach((l) => tf.dispose(l.owned));
    throw e;
  }
}

function normal(tensor: string): string {
  return tensor.replace(/:0$/, '');
}

/** Each step's output shape (batch as null), from a forward pass on zeros. */
function inferShapes(steps: Step[], slotCount: number, inputSlot: number, inputShape: number[]): void {
  const [, h, w, c] = inputShape;
  const dims = [1, h && h > 0 ? h : 224, w && w > 0 ? w : 224, c && c > 0 ? c : 3];
  tf.tidy(() => {
    const values = runForward({ steps, slotCount, inputSlot } as Program, tf.zeros(dims));
    for (const step of steps) {
      const v = values[step.outputs[0]!];
      step.outputShape = v ? [null, ...v.shape.slice(1)] : [];
    }
  });
}

interface ScopeEntry {
  name: string;
  scope?: ScopeSurface;
  children: ScopeEntry[];
  step?: Step;
  node?: GraphNode;
}

/** The scope tree: groups by name scope, single-op scopes collapsed into the op. */
function scopeTree(rootName: string, input: GraphNode, inputShape: number[], steps: Step[], nodes: GraphNode[], outputSlot: number): { tree: ProgramTreeNode; paths: Map<Step, string> } {
  const paths = new Map<Step, string>();
  const root: ScopeEntry = { name: rootName, children: [] };
  steps.forEach((step, i) => {
    const node = nodes[i]!;
    const parts = scopeComponents(node.name);
    let at = root;
    for (const part of parts.slice(0, -1)) {
      let next = at.children.find((c) => c.name === part && !c.step);
      if (!next) {
        next = { name: part, children: [] };
        at.children.push(next);
      }
      at = next;
    }
    let leafName = parts[parts.length - 1]!;
    if (at.children.some((c) => c.name === leafName)) leafName = `${leafName} (${node.op})`;
    at.children.push({ name: leafName, children: [], step, node });
  });

  const build = (entry: ScopeEntry, prefix: string): ProgramTreeNode => {
    // A scope holding one entry is that entry, under the scope's name.
    let e = entry;
    while (!e.step && e.children.length === 1 && e !== root) e = { ...e.children[0]!, name: entry.name };
    const path = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.step) {
      paths.set(e.step, path);
      const layer = e.step.layer as unknown as StepLayerSurface;
      return { kind: 'layer', path, name: e.name, className: e.node!.op, layer: asLayer(layer), outputShape: e.step.outputShape, outputSlot: e.step.outputs[0]!, stepIndex: e.step.index };
    }
    const children = e.children.map((c) => build(c, path));
    const scope = new ScopeSurface(e.name);
    const collect = (n: ProgramTreeNode) => (n.kind === 'layer' ? scope.leaves.push(n.layer as unknown as StepLayerSurface) : n.children?.forEach(collect));
    children.forEach(collect);
    const last = children[children.length - 1];
    return { kind: 'model', path, name: e.name, className: e === root ? 'GraphModel' : 'Scope', layer: asLayer(scope), outputShape: last?.outputShape ?? [], outputSlot: -1, children };
  };
  const tree = build(root, '');
  tree.outputSlot = outputSlot;
  tree.outputShape = steps.find((s) => s.outputs.includes(outputSlot))?.outputShape ?? tree.outputShape;
  const inputRow: ProgramTreeNode = {
    kind: 'layer', path: `${rootName}/${scopeComponents(input.name).join('/')}`, name: input.name, className: 'Placeholder',
    layer: asLayer(new ScopeSurface(input.name)), outputShape: [null, ...inputShape.slice(1).map((d) => (d < 0 ? null : d))], outputSlot: -1,
  };
  tree.children = [inputRow, ...(tree.children ?? [])];
  return { tree, paths };
}
