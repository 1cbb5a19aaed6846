/**
 * The flat executor: a LayersModel — nested Sequential/Functional models included, any depth — compiled
 * ONCE into a flat list of leaf-layer calls (steps) over numbered tensor slots, then run with concrete
 * tensors per request. This is what lets Grad-CAM target a layer inside a nested base network: the
 * target is just a slot, and only the steps downstream of it run under the gradient tape.
 *
 * Compiling walks each container's nodes (not its layers) in depth order, entering nested containers
 * and binding their inputs to the parent's slots. Sequential models whose first layer was a model have
 * that model's graph inlined (its inner layers' nodes are the Sequential's own nodes); those are grouped
 * back under the inlined model in the tree so paths read as a person expects.
 * Nothing here calls symbolic `apply` (that would grow `inboundNodes` on every request).
 *
 * The rest of the executor: leaf.ts (one leaf call), forward.ts (forward passes), folding.ts (conv → BN
 * folding and taped step runs), gradient.ts (the gradient driver over backward.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { studioError, type StudioNotice } from '../../shared/errors';
import { activationName, linearCallSupported } from './layer-info';

type Layer = tf.layers.Layer;
/** A call of a layer in a container's graph (tfjs-layers' Node, not exported by @tensorflow/tfjs: reached through the public Layer type). */
type LayerGraphNode = Layer['inboundNodes'][number];
type SymbolicTensor = tf.SymbolicTensor;
type Kwargs = Record<string, unknown>;

export interface Step {
  index: number;
  layer: Layer;
  /** Slots read, in the order the layer takes them. */
  inputs: number[];
  /** Slots written. */
  outputs: number[];
  path: string;
  callArgs: Kwargs;
  outputShape: (number | null)[];
}

/** One entry of the program's tree: the outer model, a nested (called or inlined) model, or a leaf call. */
export interface ProgramTreeNode {
  kind: 'model' | 'layer';
  path: string;
  name: string;
  className: string;
  layer: Layer;
  outputShape: (number | null)[];
  /** The shape as the model's framework writes it (ONNX: NCHW), when it differs. */
  displayShape?: (number | null)[];
  /** Slot holding this node's (first) output. */
  outputSlot: number;
  /** For leaves: the step index. */
  stepIndex?: number;
  children?: ProgramTreeNode[];
}

/** How the class score (the logit) is taken from the final step. */
export type LogitSource =
  /** The final step is an Activation/Softmax layer: the logit is its input. */
  | { kind: 'activation-input'; activation: 'softmax' | 'sigmoid' }
  /** The final step is a Dense/Conv with a softmax/sigmoid activation: recompute it linearly. */
  | { kind: 'linear-of-layer'; activation: 'softmax' | 'sigmoid' }
  /** The output already is the score. */
  | { kind: 'none'; activation: 'linear' };

export interface Program {
  steps: Step[];
  slotCount: number;
  inputSlot: number;
  outputSlots: number[];
  tree: ProgramTreeNode;
  /** Path → the slot it produces (leaves and nested models). */
  slotsByPath: Map<string, number>;
  /** Step producing output 0, and how its logit is read. */
  finalStepIndex: number;
  logit: LogitSource;
}

/**
 * What a loaded model runs on: its compiled program and what the summary says of it — from a
 * tfjs-layers model (program.ts) or a graph model (graph/graph-program.ts).
 */
export interface ProgramHost {
  program: Program;
  inputShape: (number | null)[];
  outputShapes: (number | null)[][];
  /** The outputs' names (layer or node), in order. */
  outputNames: string[];
  params: number;
  weightBytes: number;
  layersModel: tf.LayersModel | null;
  /** Notices from building it (e.g. an assumed input size). */
  warnings: StudioNotice[];
  dispose(): void;
}

interface ContainerLike extends Layer {
  inputs: SymbolicTensor[];
  outputs: SymbolicTensor[];
  layers: Layer[];
  nodesByDepth: { [depth: string]: LayerGraphNode[] };
  model?: ContainerLike;
  build(inputShape?: unknown): void;
}

function isContainer(layer: Layer): layer is ContainerLike {
  return layer instanceof tf.LayersModel;
}

/** A Sequential builds its inner graph lazily; make sure `nodesByDepth` is there. */
function ensureBuilt(container: ContainerLike): void {
  if (container.getClassName() === 'Sequential' && container.model == null) container.build();
}

function orderedNodes(container: ContainerLike): LayerGraphNode[] {
  ensureBuilt(container);
  const depths = Object.keys(container.nodesByDepth).map(Number).sort((a, b) => b - a);
  return depths.flatMap((d) => container.nodesByDepth[String(d)]);
}

/** Layers of models that are inlined in `container`'s graph, mapped to the chain of inlined models that own them. */
function inlinedOwners(container: ContainerLike, executed: Set<Layer>, chain: ContainerLike[], out: Map<Layer, ContainerLike[]>): void {
  for (const layer of container.layers) {
    if (isContainer(layer) && !executed.has(layer)) inlinedOwners(layer, executed, [...chain, layer], out);
    else if (chain.length > 0 && !out.has(layer)) out.set(layer, chain);
  }
}

function shapeOf(t: SymbolicTensor): (number | null)[] {
  return t.shape.map((d) => (d == null ? null : d));
}

const PROBABILITY_ACTIVATIONS = new Set(['softmax', 'sigmoid']);

/** How the score is read from the step producing output 0 (exported for the graph compiler). */
export function detectLogit(step: Step | undefined): LogitSource {
  if (!step) return { kind: 'none', activation: 'linear' };
  const className = step.layer.getClassName();
  const act = activationName(step.layer);
  if ((className === 'Activation' && act && PROBABILITY_ACTIVATIONS.has(act)) || className === 'Softmax') {
    return { kind: 'activation-input', activation: className === 'Softmax' ? 'softmax' : (act as 'softmax' | 'sigmoid') };
  }
  if (act && PROBABILITY_ACTIVATIONS.has(act) && linearCallSupported(step.layer)) {
    return { kind: 'linear-of-layer', activation: act as 'softmax' | 'sigmoid' };
  }
  return { kind: 'none', activation: 'linear' };
}

/** The program scoring output `k` instead of output 0 (same steps and slots; output k first). */
export function programForOutput(program: Program, k: number): Program {
  if (k === 0) return program;
  const outputSlots = [program.outputSlots[k]!, ...program.outputSlots.filter((_, i) => i !== k)];
  const finalStep = program.steps.find((s) => s.outputs.includes(outputSlots[0]!));
  return { ...program, outputSlots, finalStepIndex: finalStep ? finalStep.index : -1, logit: detectLogit(finalStep) };
}

/** Compile a model into a flat program. Throws MULTI_INPUT for models with several inputs. */
export function compileProgram(model: tf.LayersModel): Program {
  const root = model as unknown as ContainerLike;
  ensureBuilt(root);
  if (root.inputs.length !== 1) throw studioError('MULTI_INPUT', { count: root.inputs.length });
  const steps: Step[] = [];
  const slotsByPath = new Map<string, number>();
  let slotCount = 0;
  const newSlot = () => slotCount++;

  const inputSlot = newSlot();
  const rootBinding = new Map<number, number>([[root.inputs[0].id, inputSlot]]);

  function walk(container: ContainerLike, prefix: string, binding: Map<number, number>): ProgramTreeNode[] {
    const allNodes = orderedNodes(container);
    const nodes = allNodes.filter((n) => n.outboundLayer.getClassName() !== 'InputLayer');
    const executed = new Set(nodes.map((n) => n.outboundLayer));
    const owners = new Map<Layer, ContainerLike[]>();
    inlinedOwners(container, executed, [], owners);

    // `name[k]` for the k-th call of a layer within this container, ordered by the layer's own node list.
    const callsByLayer = new Map<Layer, LayerGraphNode[]>();
    for (const n of nodes) callsByLayer.set(n.outboundLayer, [...(callsByLayer.get(n.outboundLayer) ?? []), n]);
    const callRank = (n: LayerGraphNode) => {
      const calls = callsByLayer.get(n.outboundLayer) ?? [n];
      const sorted = [...calls].sort((x, y) => n.outboundLayer.inboundNodes.indexOf(x) - n.outboundLayer.inboundNodes.indexOf(y));
      return sorted.indexOf(n);
    };

    const top: ProgramTreeNode[] = [];
    const groups = new Map<ContainerLike, ProgramTreeNode>();
    const slotOf = (t: SymbolicTensor) => {
      const s = binding.get(t.id);
      if (s === undefined) throw studioError('MODEL_BUILD_FAILED', { reason: `tensor ${t.name} of ${container.name} is used before it is computed` });
      return s;
    };
    // Children list a node goes into, creating group nodes for inlined models on the way.
    const parentList = (chain: ContainerLike[]): ProgramTreeNode[] => {
      let list = top;
      let path = prefix;
      for (const owner of chain) {
        path = `${path}/${owner.name}`;
        let group = groups.get(owner);
        if (!group) {
          group = { kind: 'model', path, name: owner.name, className: owner.getClassName(), layer: owner, outputShape: shapeOf(owner.outputs[0]), outputSlot: -1, children: [] };
          groups.set(owner, group);
          list.push(group);
        }
        list = group.children!;
      }
      return list;
    };

    // Input layers run nothing, but a person counts them (Keras' summary does): listed, never a target.
    for (const node of allNodes) {
      const layer = node.outboundLayer;
      if (layer.getClassName() !== 'InputLayer') continue;
      const chain = owners.get(layer) ?? [];
      const path = [prefix, ...chain.map((c) => c.name), layer.name].join('/');
      parentList(chain).push({ kind: 'layer', path, name: layer.name, className: 'InputLayer', layer, outputShape: shapeOf(node.outputTensors[0]), outputSlot: -1 });
    }
    for (const node of nodes) {
      const layer = node.outboundLayer;
      const rank = callRank(node);
      const name = rank > 0 ? `${layer.name}[${rank}]` : layer.name;
      const chain = owners.get(layer) ?? [];
      const path = [prefix, ...chain.map((c) => c.name), name].join('/');
      const inputSlots = node.inputTensors.map(slotOf);
      if (isContainer(layer)) {
        const inner = new Map<number, number>();
        layer.inputs.forEach((t, i) => inner.set(t.id, inputSlots[i]));
        const children = walk(layer, path, inner);
        const outSlots = layer.outputs.map((t) => {
          const s = inner.get(t.id);
          if (s === undefined) throw studioError('MODEL_BUILD_FAILED', { reason: `output of ${layer.name} is not computed` });
          return s;
        });
        node.outputTensors.forEach((t, i) => binding.set(t.id, outSlots[i]));
        slotsByPath.set(path, outSlots[0]);
        parentList(chain).push({ kind: 'model', path, name, className: layer.getClassName(), layer, outputShape: shapeOf(node.outputTensors[0]), outputSlot: outSlots[0], children });
      } else {
        const outSlots = node.outputTensors.map(() => newSlot());
        node.outputTensors.forEach((t, i) => binding.set(t.id, outSlots[i]));
        const step: Step = {
          index: steps.length,
          layer,
          inputs: inputSlots,
          outputs: outSlots,
          path,
          callArgs: { ...((node.callArgs as Kwargs | undefined) ?? {}) },
          outputShape: shapeOf(node.outputTensors[0]),
        };
        steps.push(step);
        slotsByPath.set(path, outSlots[0]);
        parentList(chain).push({ kind: 'layer', path, name, className: layer.getClassName(), layer, outputShape: step.outputShape, outputSlot: outSlots[0], stepIndex: step.index });
      }
    }
    // Inlined models: their output is the slot bound to their output tensor in this graph.
    for (const [owner, group] of groups) {
      const s = binding.get(owner.outputs[0].id);
      if (s !== undefined) {
        group.outputSlot = s;
        slotsByPath.set(group.path, s);
      }
    }
    return top;
  }

  const children = walk(root, root.name, rootBinding);
  const outputSlots = root.outputs.map((t) => {
    const s = rootBinding.get(t.id);
    if (s === undefined) throw studioError('MODEL_BUILD_FAILED', { reason: `model output ${t.name} is not computed` });
    return s;
  });
  const finalStep = steps.find((s) => s.outputs.includes(outputSlots[0]));
  const tree: ProgramTreeNode = {
    kind: 'model', path: root.name, name: root.name, className: root.getClassName(), layer: root,
    outputShape: shapeOf(root.outputs[0]), outputSlot: outputSlots[0], children,
  };
  slotsByPath.set(root.name, outputSlots[0]);
  return {
    steps, slotCount, inputSlot, outputSlots, tree, slotsByPath,
    finalStepIndex: finalStep ? finalStep.index : -1,
    logit: detectLogit(finalStep),
  };
}
