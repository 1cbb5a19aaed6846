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
 */
import * as tf from '@tensorflow/tfjs';
import { stepVjp, takesFoldedKernel } from './backward';
import { batchNormOffset, batchNormScale, isLastAxisBatchNorm } from './batch-norm';
import type { Node as LayerGraphNode, SymbolicTensor } from '@tensorflow/tfjs-layers/dist/engine/topology';
import { studioError } from '../shared/errors';

type Layer = tf.layers.Layer;
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

function activationName(layer: Layer): string | null {
  const act = (layer as unknown as { activation?: { getClassName(): string } }).activation;
  if (act && typeof act.getClassName === 'function') return act.getClassName().toLowerCase();
  return null;
}

function detectLogit(step: Step | undefined): LogitSource {
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

// ---------------------------------------------------------------------------------------------
// Leaf calls

interface ConvInternals {
  kernel?: tf.LayerVariable | null;
  bias?: tf.LayerVariable | null;
  depthwiseKernel?: tf.LayerVariable | null;
  pointwiseKernel?: tf.LayerVariable | null;
  strides: number[];
  padding: 'valid' | 'same' | 'causal';
  dataFormat: 'channelsFirst' | 'channelsLast';
  dilationRate: number | number[];
  useBias: boolean;
  activation: { apply(x: tf.Tensor): tf.Tensor; getClassName(): string } | null;
  rank?: number;
}

const FAST_CLASSES = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense']);

function linearCallSupported(layer: Layer): boolean {
  const l = layer as unknown as ConvInternals;
  if (!FAST_CLASSES.has(layer.getClassName())) return false;
  if (layer.getClassName() !== 'Dense' && (l.dataFormat !== 'channelsLast' || l.padding === 'causal')) return false;
  return true;
}

function pair(v: number | number[]): [number, number] {
  return Array.isArray(v) ? [v[0], v.length > 1 ? v[1] : v[0]] : [v, v];
}

/**
 * Conv2D / DepthwiseConv2D / SeparableConv2D / Dense through plain ops, so that under a gradient tape
 * no filter gradient is ever computed (tfjs's fused kernels with a linear activation compute it eagerly).
 * `linear` skips the activation (the logit of a softmax head). Returns null when the layer is not covered.
 */
export function plainLeafCall(layer: Layer, input: tf.Tensor, linear = false): tf.Tensor | null {
  if (layer.getClassName() === 'BatchNormalization') return batchNormInference(layer, input);
  if (layer.getClassName() === 'ReLU') {
    // tfjs-layers' ReLU(maxValue) is relu then clipByValue, whose gradient costs four kernels; relu6 is one
    // (and guided backprop overrides it like Relu).
    const maxValue = (layer as unknown as { maxValue?: number | null }).maxValue;
    if (maxValue == null) return tf.relu(input);
    return maxValue === 6 ? tf.relu6(input) : null;
  }
  if (!linearCallSupported(layer)) return null;
  const l = layer as unknown as ConvInternals;
  const className = layer.getClassName();
  if (className === 'Dense' ? input.rank !== 2 || !l.kernel : input.rank !== 4) return null;
  if (className === 'Conv2D' && !l.kernel) return null;
  if (className === 'DepthwiseConv2D' && !l.depthwiseKernel) return null;
  if (className === 'SeparableConv2D' && !(l.depthwiseKernel && l.pointwiseKernel)) return null;
  return tf.tidy(() => {
    let y: tf.Tensor;
    const padding = l.padding === 'same' ? 'same' : 'valid';
    const x = input as tf.Tensor4D;
    if (className === 'Dense') {
      y = tf.matMul(input as tf.Tensor2D, l.kernel!.read() as tf.Tensor2D);
    } else if (className === 'Conv2D') {
      y = atrous(x, pair(l.dilationRate), padding, l.kernel!.read().shape, (v, p, d) => tf.conv2d(v, l.kernel!.read() as tf.Tensor4D, pair(l.strides), p, 'NHWC', d));
    } else if (className === 'DepthwiseConv2D') {
      // tfjs-layers' DepthwiseConv2D ignores dilationRate; mirror it exactly.
      y = tf.depthwiseConv2d(x, l.depthwiseKernel!.read() as tf.Tensor4D, pair(l.strides), padding, 'NHWC');
    } else {
      const depthwise = l.depthwiseKernel!.read() as tf.Tensor4D;
      y = atrous(x, pair(l.dilationRate), padding, depthwise.shape, (v, p, d) => tf.depthwiseConv2d(v, depthwise, pair(l.strides), p, 'NHWC', d));
      y = tf.conv2d(y as tf.Tensor4D, l.pointwiseKernel!.read() as tf.Tensor4D, 1, 'valid');
    }
    if (l.useBias && l.bias) y = tf.add(y, l.bias.read());
    if (!linear && l.activation) y = l.activation.apply(y);
    return y;
  });
}

/**
 * A dilated convolution as space-to-batch → undilated 'valid' convolution → batch-to-space (how
 * TensorFlow runs atrous convolutions): tfjs cannot differentiate convolutions with dilation > 1, but it
 * can differentiate these three ops. Dilation 1 calls `conv` directly. (Keras forbids stride > 1 with
 * dilation > 1, so `conv` runs at stride 1 here.)
 */
function atrous(
  x: tf.Tensor4D,
  rate: [number, number],
  padding: 'same' | 'valid',
  kernelShape: number[],
  conv: (input: tf.Tensor4D, padding: 'same' | 'valid', dilations: [number, number]) => tf.Tensor4D,
): tf.Tensor4D {
  if (rate[0] === 1 && rate[1] === 1) return conv(x, padding, [1, 1]);
  const pads: [number, number][] = [];
  const crops: [number, number][] = [];
  for (let axis = 0; axis < 2; axis++) {
    const effective = kernelShape[axis] + (kernelShape[axis] - 1) * (rate[axis] - 1);
    const total = padding === 'same' ? effective - 1 : 0;
    const before = Math.floor(total / 2);
    const size = x.shape[axis + 1] + total;
    const extra = (rate[axis] - (size % rate[axis])) % rate[axis]; // make the padded size a multiple of the rate
    pads.push([before, total - before + extra]);
    crops.push([0, extra]);
  }
  const batched = tf.spaceToBatchND(x, rate, pads) as tf.Tensor4D;
  return tf.batchToSpaceND(conv(batched, 'valid', [1, 1]), rate, crops) as tf.Tensor4D;
}

/**
 * Inference BatchNormalization over the last axis as one multiply-add with per-channel constants.
 * tfjs's FusedBatchNorm gradient tiles 1/sqrt(var) to the full input shape (the slowest kernel of a
 * darknet input gradient on WASM); x * scale + offset differentiates to a plain multiply.
 */
function batchNormInference(layer: Layer, input: tf.Tensor): tf.Tensor | null {
  if (!isLastAxisBatchNorm(layer, input.rank)) return null;
  return tf.tidy(() => {
    const scale = batchNormScale(layer);
    return tf.add(tf.mul(input, scale), batchNormOffset(layer, scale));
  });
}

export type GradientPath = 'fast' | 'plain';

/** One leaf call with concrete tensors, inference mode. */
export function callStep(step: Step, inputs: tf.Tensor[], path: GradientPath = 'plain'): tf.Tensor[] {
  if (path === 'fast' && inputs.length === 1) {
    const y = plainLeafCall(step.layer, inputs[0]);
    if (y) return [y];
  }
  const kwargs: Kwargs = { ...step.callArgs, training: false };
  const out = step.layer.apply(inputs.length === 1 ? inputs[0] : inputs, kwargs) as tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? out : [out];
}

/** The logit tensor of output 0 given the slot values (the final step's inputs and output are present). */
export function logitFromSlots(program: Program, read: (slot: number) => tf.Tensor): tf.Tensor {
  const final = program.steps[program.finalStepIndex];
  switch (program.logit.kind) {
    case 'activation-input':
      return read(final.inputs[0]);
    case 'linear-of-layer': {
      const y = plainLeafCall(final.layer, read(final.inputs[0]), true);
      if (!y) throw studioError('INTERNAL', { reason: `cannot take the logit of ${final.path}` });
      return y;
    }
    default:
      return read(program.outputSlots[0]);
  }
}

/**
 * Leaf calls that beat tfjs-layers outside a tape too: inference BatchNormalization as one
 * multiply-add (tfjs's FusedBatchNorm kernel is the slowest op of a MobileNetV2 forward pass on WASM).
 * Convolutions keep the fused conv + bias + activation kernel, which is faster than separate ops.
 */
const FAST_FORWARD_CLASSES = new Set(['BatchNormalization']);

function forwardStep(step: Step, inputs: tf.Tensor[], fast: boolean): tf.Tensor[] {
  if (fast && inputs.length === 1 && FAST_FORWARD_CLASSES.has(step.layer.getClassName())) {
    const y = plainLeafCall(step.layer, inputs[0]);
    if (y) return [y];
  }
  return callStep(step, inputs);
}

/**
 * Full forward pass outside any tape; returns every slot's value (the per-image activation cache).
 * `fast`: the faster leaf calls of FAST_FORWARD_CLASSES (equal up to float rounding).
 */
export function runForward(program: Program, input: tf.Tensor, options: { fast?: boolean } = {}): tf.Tensor[] {
  const values: tf.Tensor[] = new Array(program.slotCount);
  values[program.inputSlot] = input;
  for (const step of program.steps) {
    const outs = forwardStep(step, step.inputs.map((s) => values[s]), options.fast === true);
    step.outputs.forEach((s, i) => (values[s] = outs[i]));
  }
  return values;
}

/** Forward pass that keeps only the model's output 0 (what `predict` returns). */
export function runOutput(program: Program, input: tf.Tensor): tf.Tensor {
  return tf.tidy(() => runForward(program, input)[program.outputSlots[0]]);
}

/** Steps whose result depends on `slot`, in execution order. */
export function downstreamSteps(program: Program, slot: number): Step[] {
  const live = new Set<number>([slot]);
  const out: Step[] = [];
  for (const step of program.steps) {
    if (step.inputs.some((s) => live.has(s))) {
      out.push(step);
      step.outputs.forEach((s) => live.add(s));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Conv → BatchNormalization folding under the tape (fast path only)

interface FoldedWeights {
  kernel: tf.Tensor4D;
  bias: tf.Tensor1D;
}

const foldPlans = new WeakMap<Program, Map<number, number>>();
const foldedWeightCache = new WeakMap<Program, Map<number, FoldedWeights>>();

/**
 * Conv2D / DepthwiseConv2D steps (linear activation, NHWC) whose only consumer is an inference
 * BatchNormalization over the last axis: conv step index → BN step index. Under the tape such a pair
 * runs as ONE convolution with the BN's scale folded into the kernel and its offset into the bias —
 * two elementwise ops fewer forward and backward per pair (MobileNetV2: 52, ResNet50: 53).
 */
export function foldPlan(program: Program): Map<number, number> {
  const known = foldPlans.get(program);
  if (known) return known;
  const consumers = new Map<number, Step[]>();
  for (const step of program.steps) for (const s of step.inputs) consumers.set(s, [...(consumers.get(s) ?? []), step]);
  const plan = new Map<number, number>();
  for (const step of program.steps) {
    const className = step.layer.getClassName();
    if (className !== 'Conv2D' && className !== 'DepthwiseConv2D') continue;
    if (!linearCallSupported(step.layer) || step.outputs.length !== 1 || program.outputSlots.includes(step.outputs[0])) continue;
    const act = activationName(step.layer);
    if (act !== null && act !== 'linear') continue;
    const users = consumers.get(step.outputs[0]) ?? [];
    if (users.length !== 1 || users[0].layer.getClassName() !== 'BatchNormalization' || users[0].inputs.length !== 1) continue;
    if (!isLastAxisBatchNorm(users[0].layer, step.outputShape.length)) continue;
    if (className === 'Conv2D' && !(step.layer as unknown as ConvInternals).kernel) continue;
    if (className === 'DepthwiseConv2D' && !(step.layer as unknown as ConvInternals).depthwiseKernel) continue;
    plan.set(step.index, users[0].index);
  }
  foldPlans.set(program, plan);
  return plan;
}

/**
 * The folded kernel and bias of a conv → BN pair, made once per program (at load on CPU-side
 * backends, for the backward pass; elsewhere on first use by a taped fast pass) and kept until
 * disposeFoldedWeights.
 */
function foldedWeights(program: Program, conv: Step, bnStep: Step): FoldedWeights {
  let cache = foldedWeightCache.get(program);
  if (!cache) {
    cache = new Map();
    foldedWeightCache.set(program, cache);
  }
  const hit = cache.get(conv.index);
  if (hit) return hit;
  const made = tf.tidy(() => {
    const l = conv.layer as unknown as ConvInternals;
    const scale = batchNormScale(bnStep.layer);
    const offset = batchNormOffset(bnStep.layer, scale);
    const depthwise = conv.layer.getClassName() === 'DepthwiseConv2D';
    const w = (depthwise ? l.depthwiseKernel! : l.kernel!).read() as tf.Tensor4D;
    // Depthwise output channel c·M + m is scaled by scale[c·M + m]: reshape to [1, 1, C, M].
    const kernel = tf.mul(w, depthwise ? scale.reshape([1, 1, w.shape[2], w.shape[3]]) : scale) as tf.Tensor4D;
    const bias = (l.useBias && l.bias ? tf.add(tf.mul(l.bias.read(), scale), offset) : offset) as tf.Tensor1D;
    return { kernel: tf.keep(kernel), bias: tf.keep(bias) };
  });
  cache.set(conv.index, made);
  return made;
}

/**
 * Make every folded kernel and bias now (at load, so explanations and tensor counts see no new ones
 * later). Done on CPU-side backends, where the written-out backward pass then saves one elementwise
 * op per conv → BN pair; elsewhere they are made only if a taped fast pass runs.
 */
export function prepareFoldedWeights(program: Program): void {
  for (const [convIndex, bnIndex] of foldPlan(program)) foldedWeights(program, program.steps[convIndex], program.steps[bnIndex]);
  preparedPrograms.add(program);
}

const preparedPrograms = new WeakSet<Program>();

/** The folded weights of a conv step if prepareFoldedWeights made them (never makes any). */
function preparedFold(program: Program, convIndex: number): FoldedWeights | undefined {
  return preparedPrograms.has(program) ? foldedWeightCache.get(program)?.get(convIndex) : undefined;
}

/** Free the folded weights made for `program` (the model's dispose). */
export function disposeFoldedWeights(program: Program): void {
  const cache = foldedWeightCache.get(program);
  preparedPrograms.delete(program);
  if (!cache) return;
  for (const w of cache.values()) tf.dispose([w.kernel, w.bias]);
  foldedWeightCache.delete(program);
}

function foldedCall(program: Program, conv: Step, bnStep: Step, input: tf.Tensor): tf.Tensor | null {
  if (input.rank !== 4) return null;
  const l = conv.layer as unknown as ConvInternals;
  const { kernel, bias } = foldedWeights(program, conv, bnStep);
  const padding = l.padding === 'same' ? 'same' : 'valid';
  const x = input as tf.Tensor4D;
  const y = conv.layer.getClassName() === 'Conv2D'
    ? atrous(x, pair(l.dilationRate), padding, kernel.shape, (v, p, d) => tf.conv2d(v, kernel, pair(l.strides), p, 'NHWC', d))
    : tf.depthwiseConv2d(x, kernel, pair(l.strides), padding, 'NHWC'); // as tfjs-layers: no dilation
  return tf.add(y, bias);
}

/**
 * Run `steps` (in order) for a taped computation: conv → BN pairs of `foldPlan` as one folded conv
 * on the fast path (the conv's own output slot then stays unset), everything else via callStep.
 */
export function runTapedSteps(
  program: Program,
  steps: readonly Step[],
  read: (slot: number) => tf.Tensor,
  write: (slot: number, value: tf.Tensor) => void,
  path: GradientPath,
  skip?: (step: Step) => boolean,
): void {
  const plan = path === 'fast' ? foldPlan(program) : null;
  const included = new Set(steps.map((s) => s.index));
  const foldedInto = new Set<number>();
  for (const step of steps) {
    if (skip?.(step) || foldedInto.has(step.index)) continue;
    const bnIndex = plan?.get(step.index);
    if (bnIndex !== undefined && included.has(bnIndex)) {
      const bnStep = program.steps[bnIndex];
      const y = foldedCall(program, step, bnStep, read(step.inputs[0]));
      if (y) {
        write(bnStep.outputs[0], y);
        foldedInto.add(bnIndex);
        continue;
      }
    }
    const outs = callStep(step, step.inputs.map(read), path);
    step.outputs.forEach((s, i) => write(s, outs[i]));
  }
}

/**
 * The score as a function of the value at `slot`: runs only the downstream steps, reading everything
 * else from `cached` (values computed outside the tape). Must be called inside a tape (tf.grad) to
 * differentiate; `sign` = -1 for the counterfactual.
 */
export function scoreFunction(
  program: Program,
  cached: ReadonlyArray<tf.Tensor | undefined>,
  slot: number,
  classIndex: number,
  options: { path?: GradientPath; sign?: number; downstream?: Step[] } = {},
): (value: tf.Tensor) => tf.Scalar {
  const downstream = options.downstream ?? downstreamSteps(program, slot);
  const path = options.path ?? 'fast';
  const sign = options.sign ?? 1;
  return (value: tf.Tensor) => {
    const local = new Map<number, tf.Tensor>([[slot, value]]);
    const read = (s: number) => {
      const v = local.get(s) ?? cached[s];
      if (!v) throw studioError('INTERNAL', { reason: `slot ${s} has no value` });
      return v;
    };
    // The final step's probability activation is not needed for the score.
    const skipFinal = (step: Step) => step.index === program.finalStepIndex && program.logit.kind !== 'none';
    runTapedSteps(program, downstream, read, (s, v) => local.set(s, v), path, skipFinal);
    const logits = logitFromSlots(program, read);
    const flat = logits.reshape([logits.shape[0] ?? 1, -1]);
    const score = flat.slice([0, classIndex], [1, 1]).sum() as tf.Scalar;
    return (sign === 1 ? score : score.mul(sign)) as tf.Scalar;
  };
}

/**
 * dScore/dValue at `slot` (value taken from `cached`). The fast path walks the steps after the slot
 * backwards over the cached activations (backward.ts: nothing runs forward again); the plain path
 * re-runs them under a tfjs tape through tfjs-layers' own calls (the reference the tests compare to).
 * Inside withGuidedGradients both follow the guided rule.
 */
export function gradientAt(
  program: Program,
  cached: ReadonlyArray<tf.Tensor | undefined>,
  slot: number,
  classIndex: number,
  options: { path?: GradientPath; sign?: number } = {},
): tf.Tensor {
  const value = cached[slot];
  if (!value) throw studioError('INTERNAL', { reason: `slot ${slot} has no value` });
  const downstream = downstreamSteps(program, slot);
  // Written out where every value it reads is cached (runForward's cache is complete) and every step
  // has one output; otherwise the tape.
  const writtenOut = (options.path ?? 'fast') === 'fast' &&
    downstream.every((s) => s.outputs.length === 1 && s.inputs.every((i) => cached[i]) && cached[s.outputs[0]]);
  try {
    if (writtenOut) return backwardGradient(program, cached, slot, downstream, classIndex, options.sign ?? 1);
    return tf.grad(scoreFunction(program, cached, slot, classIndex, { ...options, downstream }))(value);
  } catch (e) {
    throw gradientError(e);
  }
}

/** The backward pass over cached activations (see gradientAt); every step in `downstream` has one output. */
function backwardGradient(program: Program, cached: ReadonlyArray<tf.Tensor | undefined>, slot: number, downstream: Step[], classIndex: number, sign: number): tf.Tensor {
  const read = (s: number) => {
    const v = cached[s];
    if (!v) throw studioError('INTERNAL', { reason: `slot ${s} has no value` });
    return v;
  };
  const final = program.steps[program.finalStepIndex];
  // The score is one entry of the logits: read before a final Softmax/Activation layer, before the
  // probability activation of a final Dense/Conv ('linear-of-layer'), or the output itself.
  const logitSlot = program.logit.kind === 'activation-input' ? final.inputs[0] : program.outputSlots[0];
  const live = new Set<number>([slot, ...downstream.flatMap((s) => s.outputs)]);
  // Conv → BN pairs with folded weights prepared (CPU-side backends): the BN step passes its gradient
  // straight to the conv, whose input gradient then uses the folded kernel (one elementwise op fewer).
  const inPass = new Set(downstream.map((s) => s.index));
  const foldedConvKernel = new Map<number, tf.Tensor>();
  const foldedBatchNorms = new Set<number>();
  for (const [convIndex, bnIndex] of foldPlan(program)) {
    const folded = preparedFold(program, convIndex);
    if (folded && inPass.has(convIndex) && inPass.has(bnIndex) && takesFoldedKernel(program.steps[convIndex])) {
      foldedConvKernel.set(convIndex, folded.kernel);
      foldedBatchNorms.add(bnIndex);
    }
  }
  // The score does not depend on a probability output (it is read before the activation).
  const afterLogit = program.logit.kind !== 'none' && slot === final.outputs[0];
  return tf.tidy(() => {
    if (!live.has(logitSlot) || afterLogit) return tf.zerosLike(read(slot));
    const logit = read(logitSlot);
    const grads = new Map<number, tf.Tensor>();
    grads.set(logitSlot, tf.oneHot(tf.tensor1d([classIndex], 'int32'), logit.size).toFloat().mul(sign).reshape(logit.shape));
    const inUse = (t: tf.Tensor) => [...grads.values()].includes(t);
    /** Add `g` to slot `s`'s gradient, freeing the old sum unless it is still held (or is `keep`). */
    const accumulate = (s: number, g: tf.Tensor, keep: tf.Tensor) => {
      const before = grads.get(s);
      grads.set(s, before ? tf.add(before, g) : g);
      if (before && !inUse(before) && before !== keep) before.dispose();
    };
    for (let i = downstream.length - 1; i >= 0; i--) {
      const step = downstream[i];
      if (step === final && program.logit.kind === 'activation-input') continue;
      const out = step.outputs[0];
      const dy = grads.get(out);
      if (!dy) continue;
      grads.delete(out);
      if (foldedBatchNorms.has(step.index)) {
        accumulate(step.inputs[0], dy, dy);
        continue;
      }
      const linear = step === final && program.logit.kind === 'linear-of-layer';
      // The score's own layer: the logit is taken before its probability activation.
      const rerun = (xs: tf.Tensor[]) => {
        const y = linear ? plainLeafCall(step.layer, xs[0], true) : callStep(step, xs, 'fast')[0];
        if (!y) throw studioError('INTERNAL', { reason: `cannot take the logit of ${step.path}` });
        return y;
      };
      const inputs = step.inputs.map(read);
      // A slot given twice gets its gradient once (stepVjp returns it at its first position).
      const wanted = step.inputs.map((s, k) => live.has(s) && step.inputs.indexOf(s) === k);
      const positions = wanted.flatMap((w, k) => (w ? [k] : []));
      const inputGrads: tf.Tensor[] = tf.tidy(() => {
        const all = stepVjp(step, inputs, read(out), dy, { linear, kernel: foldedConvKernel.get(step.index) }, rerun, wanted);
        return positions.map((k) => all[k] ?? tf.zerosLike(inputs[k]));
      });
      inputGrads.forEach((g, j) => accumulate(step.inputs[positions[j]], g, dy));
      // Free as we go: a whole network's gradients at once would double the activation memory.
      if (!inUse(dy)) dy.dispose();
      inputGrads.forEach((g) => !inUse(g) && g !== dy && g.dispose());
    }
    return grads.get(slot) ?? tf.zerosLike(read(slot));
  });
}

/** tfjs's "cannot differentiate" failures as GRADIENT_UNSUPPORTED (with the op named); anything else unchanged. */
export function gradientError(e: unknown): unknown {
  const message = e instanceof Error ? e.message : String(e);
  const missingKernel = /Kernel '(\w+)' not registered for backend '(\w+)'/.exec(message);
  if (missingKernel) return studioError('GRADIENT_UNSUPPORTED', { op: missingKernel[1], backend: missingKernel[2] });
  const unsupported = /Error in gradient of (\w+)/.exec(message) ?? /gradient .*not (?:yet )?supported/i.exec(message);
  if (unsupported) return studioError('GRADIENT_UNSUPPORTED', { op: unsupported[1] ?? message, backend: tf.getBackend() });
  return e;
}
