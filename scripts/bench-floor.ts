/**
 * The least an explanation can cost relative to the forward pass, counted in multiply-adds.
 * A gradient at slot L needs, after the forward pass, the input gradient of every conv / dense step
 * downstream of L, and an input gradient has exactly its forward step's multiply-adds. So
 * floor(L) = 1 + MACs(steps downstream of L) / MACs(all steps): ≈ 1 for Grad-CAM at the last conv,
 * 2 for guided backprop (every step is downstream of the input), close to 2 for an early layer.
 * Elementwise ops, pooling and batch norm are left out (a few % of the time on WASM).
 */
import type * as tf from '@tensorflow/tfjs';
import { compileProgram, type Program, type ProgramTreeNode, type Step, downstreamSteps } from '../src/engine';
import { isAttentionShape } from '../src/shared/attention';
import { methodInfo, resolveMethodOptions, type MethodId, type MethodOptionValue } from '../src/shared/methods';

interface KernelOwner {
  kernel?: { shape: number[] };
  depthwiseKernel?: { shape: number[] };
  pointwiseKernel?: { shape: number[] };
}

const product = (values: number[]) => values.reduce((a, b) => a * b, 1);

/** Multiply-adds of one step's forward pass (convolutions and dense layers; 0 for everything else). */
export function stepMacs(step: Step): number {
  const layer = step.layer as unknown as KernelOwner;
  const out = step.outputShape.slice(1).map((d) => d ?? 1);
  const positions = product(out.slice(0, -1)); // output pixels (or rows for dense)
  const channelsOut = out[out.length - 1] ?? 1;
  switch (step.layer.getClassName()) {
    case 'Conv2D':
    case 'Dense': {
      const kernel = layer.kernel?.shape ?? [];
      return positions * channelsOut * product(kernel.slice(0, -1)); // kh·kw·Ci (or the input size) per output
    }
    case 'DepthwiseConv2D':
      return positions * channelsOut * product((layer.depthwiseKernel?.shape ?? []).slice(0, 2));
    case 'SeparableConv2D': {
      const [kh = 1, kw = 1, c = 1, m = 1] = layer.depthwiseKernel?.shape ?? [];
      return positions * (c * m * kh * kw + c * m * channelsOut);
    }
    default:
      return 0;
  }
}

function findByName(node: ProgramTreeNode, name: string): ProgramTreeNode | undefined {
  if (node.name === name && node.kind === 'layer') return node;
  for (const child of node.children ?? []) {
    const hit = findByName(child, name);
    if (hit) return hit;
  }
  return undefined;
}

function floorAt(program: Program, slot: number): number {
  const total = program.steps.reduce((sum, s) => sum + stepMacs(s), 0);
  const tail = downstreamSteps(program, slot).reduce((sum, s) => sum + stepMacs(s), 0);
  return 1 + tail / total;
}

export interface GradientFloors {
  /** Cold (× forward, forward included) per bench case. */
  gradcam_last: number;
  gradcam_early: number;
  guided_backprop: number;
  guided_gradcam: number;
  forwardGMacs: number;
}

/** The output slot of the layer called `name` (searched through nested models). */
function slotOfLayer(program: Program, name: string): number {
  const node = findByName(program.tree, name);
  if (!node) throw new Error(`bench: no layer named ${name}`);
  return node.outputSlot;
}

export function gradientFloors(model: tf.LayersModel, lastLayer: string, earlyLayer: string): GradientFloors {
  const program = compileProgram(model);
  const slotOf = (name: string) => slotOfLayer(program, name);
  const round = (v: number) => Math.round(v * 100) / 100;
  const guided = round(floorAt(program, program.inputSlot));
  return {
    gradcam_last: round(floorAt(program, slotOf(lastLayer))),
    gradcam_early: round(floorAt(program, slotOf(earlyLayer))),
    guided_backprop: guided,
    guided_gradcam: guided,
    forwardGMacs: round(program.steps.reduce((sum, s) => sum + stepMacs(s), 0) / 1e9),
  };
}

/**
 * The least one explanation with `id` can cost, × the forward pass (cold: the image's forward pass
 * included), by multiply-adds, from the method's cost class (src/shared/methods.ts):
 * - `activations` (Eigen-CAM): 1 — nothing but the forward pass;
 * - `backward-to-layer`: 1 + tail(layer), tail(s) = MACs(steps downstream of s) / MACs(all);
 * - `backward-to-input`: 1 + tail(input) = 2;
 * - `backward-to-layer-and-input` (guided Grad-CAM): 1 + tail(input) + tail(layer);
 * - `forward-per-channel` (Score-CAM): 1 + C — one whole forward pass per channel of the layer;
 * - `downstream-per-channel` (Ablation-CAM): 1 + C · tail(layer) — the layers after it, once per channel;
 * - `pass-per-sample` (SmoothGrad, Integrated Gradients): 1 + 2n — a forward and a backward pass
 *   (to the input) per sample or step.
 */
export function methodFloor(program: Program, id: MethodId, layerSlot: number, options: Readonly<Record<string, unknown>> = {}, inputSize: readonly [number, number] = [224, 224]): number {
  const total = program.steps.reduce((sum, s) => sum + stepMacs(s), 0);
  const tail = (slot: number) => downstreamSteps(program, slot).reduce((sum, s) => sum + stepMacs(s), 0) / total;
  const channelStep = program.steps.find((s) => s.outputs.includes(layerSlot));
  const channels = channelStep?.outputShape[channelStep.outputShape.length - 1] ?? 1;
  const info = methodInfo(id);
  let floor: number;
  switch (info.cost) {
    case 'activations':
      floor = 1;
      break;
    case 'backward-to-layer':
      floor = 1 + tail(layerSlot);
      break;
    case 'backward-to-input':
      floor = 1 + tail(program.inputSlot);
      break;
    case 'backward-to-layer-and-input':
      floor = 1 + tail(program.inputSlot) + tail(layerSlot);
      break;
    case 'forward-per-channel':
      floor = 1 + (channels ?? 1);
      break;
    case 'downstream-per-channel':
      floor = 1 + (channels ?? 1) * tail(layerSlot);
      break;
    case 'backward-per-block': {
      // One backward pass from the score to each block's attention (a Softmax over tokens).
      const opOf = (s: Step) => {
        const l = s.layer as unknown as { op?: unknown; getClassName?: () => string };
        return typeof l.op === 'string' ? l.op : (l.getClassName?.() ?? '');
      };
      const attention = program.steps.filter((s) => /Softmax$/.test(opOf(s)) && isAttentionShape(s.outputShape));
      floor = 1 + attention.reduce((sum, s) => sum + tail(s.outputs[0] ?? program.inputSlot), 0);
      break;
    }
    case 'pass-per-sample': {
      const resolved = resolveMethodOptions(id, options as Record<string, MethodOptionValue>);
      const n = Number(resolved.samples ?? resolved.steps ?? 1);
      floor = 1 + 2 * n;
      break;
    }
    case 'forward-per-sample': {
      floor = 1 + perturbationPasses(id, resolveMethodOptions(id, options as Record<string, MethodOptionValue>), inputSize[0], inputSize[1]);
      break;
    }
  }
  return Math.round(floor * 100) / 100;
}

/**
 * How many forward passes a perturbation method runs (superpixel methods: the requested count of
 * superpixels, which SLIC meets only roughly).
 */
export function perturbationPasses(id: MethodId, o: Readonly<Record<string, MethodOptionValue>>, height: number, width: number): number {
  const n = (name: string) => Number(o[name] ?? 0);
  const starts = (size: number, window: number, stride: number) => Math.floor((size - window) / stride) + 1 + ((size - window) % stride === 0 ? 0 : 1);
  switch (id) {
    case 'occlusion': {
      const w = Math.min(n('window'), height, width);
      return starts(height, w, n('stride')) * starts(width, w, n('stride'));
    }
    case 'rise':
    case 'lime':
    case 'hsic':
      return n('samples');
    case 'feature-ablation':
      return n('segments');
    case 'kernel-shap':
      return Math.min(n('samples'), 2 ** n('segments') - 2) + 1;
    case 'shapley-sampling':
      return 1 + n('permutations') * (n('segments') - 1);
    case 'sobol':
      return n('designs') * (n('grid') ** 2 + 2);
    default:
      return 1;
  }
}

/**
 * methodFloor for each of `ids` at the layer called `layerName` (the layer methods there; the input
 * methods ignore it), each with its registry defaults unless `options` names others — for callers
 * that have the model but not its program (`npm run bench` computes these once, when it builds a model).
 */
export function methodFloors(
  model: tf.LayersModel,
  layerName: string,
  ids: readonly MethodId[],
  options: Partial<Record<MethodId, Readonly<Record<string, unknown>>>> = {},
): Partial<Record<MethodId, number>> {
  const program = compileProgram(model);
  const slot = slotOfLayer(program, layerName);
  return Object.fromEntries(ids.map((id) => [id, methodFloor(program, id, slot, options[id] ?? {})]));
}
