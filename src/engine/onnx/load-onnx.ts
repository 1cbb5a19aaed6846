/**
 * A decoded ONNX model → a ProgramHost: translated to NHWC graph nodes (onnx-translate.ts), compiled
 * by the graph program (graph/graph-program.ts) like a TF.js graph model, then the tree made
 * PyTorch-shaped: leaves show ONNX op types, and every module scope (`layer4 › layer4.1`) is
 * explainable at its output — the output of its last op, the tensor pytorch-grad-cam hooks on
 * `model.layer4[-1]`. A step that ends a module carries the module's path, so the default layer
 * is named as a PyTorch user names it.
 */
import * as tf from '@tensorflow/tfjs';
import { notice, studioError, type StudioNotice } from '../../shared/errors';
import type { ProgramHost, ProgramTreeNode, Step } from '../program';
import { compileGraphProgram } from '../graph/graph-program';
import type { StepLayerSurface } from '../graph/graph-ops';
import { dtypeName, isFloatType, type OnnxModel } from './onnx-proto';
import { onnxConverter, translateOnnx, type ImageInput, type OnnxTranslation } from './onnx-translate';

export { onnxConverter };

/** Image size used when the model leaves height/width open (torchvision's 224). */
export const ASSUMED_SIZE = 224;

/** The one image input: NCHW (PyTorch) or NHWC (converted from TensorFlow), open sizes assumed. */
export function imageInput(model: OnnxModel, warnings: StudioNotice[]): ImageInput {
  if (model.inputs.length !== 1) throw studioError('MULTI_INPUT', { count: model.inputs.length });
  const [info] = model.inputs;
  if (!info) throw studioError('MULTI_INPUT', { count: 0 });
  if (info.elemType !== 0 && !isFloatType(info.elemType)) throw studioError('ONNX_DTYPE_UNSUPPORTED', { tensor: info.name, dtype: dtypeName(info.elemType) });
  const dims = info.shape ?? [-1, 3, -1, -1];
  if (dims.length !== 4) throw studioError('INPUT_NOT_IMAGE', { shape: dims.map((d) => (d < 0 ? 'null' : String(d))).join(', ') });
  const [, d1 = -1, d2 = -1, d3 = -1] = dims;
  const channelLike = (d: number) => d === 1 || d === 3;
  const nchw = !(channelLike(d3) && !channelLike(d1));
  let [c, h, w] = nchw ? [d1, d2, d3] : [d3, d1, d2];
  if (c <= 0) c = 3;
  if (h <= 0 || w <= 0) {
    h = h > 0 ? h : ASSUMED_SIZE;
    w = w > 0 ? w : ASSUMED_SIZE;
    warnings.push(notice('INPUT_SIZE_ASSUMED', { size: `${h}×${w}` }));
  }
  if (!channelLike(c)) throw studioError('INPUT_NOT_IMAGE', { shape: dims.map((d) => (d < 0 ? 'null' : String(d))).join(', ') });
  return { name: info.name, nhwcShape: [-1, h, w, c], nchw };
}

export interface OnnxProgram {
  host: ProgramHost;
  translation: OnnxTranslation;
}

function layerName(step: Step): string {
  return (step.layer as unknown as StepLayerSurface).name;
}

/** Scopes explainable at their last op's output; leaves named by ONNX op; module-ending steps carry the module path. */
function pytorchTree(tree: ProgramTreeNode, steps: Step[], slotsByPath: Map<string, number>, translation: OnnxTranslation): void {
  const { onnxOps, permuted } = translation;
  // PyTorch's view: batch 1, NCHW for the tensors held NHWC.
  const display = (step: Step) => {
    const [, ...rest] = step.outputShape;
    const [h, w, c] = rest;
    return permuted.has(layerName(step)) && rest.length === 3 ? [1, c ?? null, h ?? null, w ?? null] : [1, ...rest];
  };
  const visit = (node: ProgramTreeNode, isRoot: boolean): number => {
    if (node.kind === 'layer') {
      const step = node.stepIndex !== undefined ? steps[node.stepIndex] : undefined;
      if (step) {
        node.className = onnxOps.get(layerName(step)) ?? node.className;
        node.displayShape = display(step);
      }
      return node.stepIndex ?? -1;
    }
    let last = -1;
    for (const child of node.children ?? []) last = Math.max(last, visit(child, false));
    const step = steps[last];
    if (!isRoot) {
      node.className = 'Module';
      if (step) {
        node.outputSlot = step.outputs[0] ?? -1;
        node.outputShape = step.outputShape;
        node.displayShape = display(step);
        slotsByPath.set(node.path, node.outputSlot);
      }
    }
    return last;
  };
  visit(tree, true);
  tree.className = 'OnnxModel';
  const [inputRow] = tree.children ?? [];
  if (inputRow?.className === 'Placeholder') {
    const [, h = null, w = null, c = null] = inputRow.outputShape;
    inputRow.className = 'Input';
    inputRow.displayShape = translation.permuted.has(translation.def.input.name) ? [1, c, h, w] : [1, h, w, c];
  }
  // Innermost module first: a step keeps the path of the smallest module it ends.
  const named = new Set<Step>();
  const rename = (node: ProgramTreeNode, isRoot: boolean) => {
    for (const child of node.children ?? []) rename(child, false);
    if (isRoot || node.kind !== 'model') return;
    const step = steps.find((s) => s.outputs[0] === node.outputSlot);
    if (step && !named.has(step)) {
      step.path = node.path;
      named.add(step);
    }
  };
  rename(tree, true);
}

export function buildOnnxProgram(model: OnnxModel, rootName: string): OnnxProgram {
  const warnings: StudioNotice[] = [];
  const input = imageInput(model, warnings);
  const translation = translateOnnx(model, input);
  warnings.push(...translation.notices);
  const converter = onnxConverter(translation.custom);
  try {
    const { program, layers, folded } = compileGraphProgram(translation.def, translation.weights, converter, rootName);
    pytorchTree(program.tree, program.steps, program.slotsByPath, translation);
    const floats = [...model.initializers.values()].filter((t) => isFloatType(t.dataType));
    const outputShapes = program.outputSlots.map((slot) => program.steps.find((s) => s.outputs.includes(slot))?.outputShape ?? []);
    const [, h, w, c] = input.nhwcShape;
    const host: ProgramHost = {
      program,
      inputShape: [null, h ?? ASSUMED_SIZE, w ?? ASSUMED_SIZE, c ?? 3],
      outputShapes,
      outputNames: model.outputs.map((o) => o.name),
      params: floats.reduce((n, t) => n + t.data.length, 0),
      weightBytes: floats.reduce((n, t) => n + t.data.length * 4, 0),
      layersModel: null,
      warnings,
      dispose: () => {
        tf.dispose(folded);
        for (const layer of layers) tf.dispose(layer.owned);
        tf.dispose(translation.owned);
      },
    };
    return { host, translation };
  } catch (e) {
    tf.dispose(translation.owned);
    throw e;
  }
}

/** The program slot holding an ONNX tensor (tests and tools find modules' outputs by ONNX names). */
export function slotOfOnnxTensor(program: OnnxProgram, tensor: string): number | undefined {
  const ref = program.translation.tensors.get(tensor);
  if (ref === undefined) return undefined;
  const [name, k] = /^(.*):(\d+)$/.exec(ref)?.slice(1) ?? [ref, '0'];
  const step = program.host.program.steps.find((s) => layerName(s) === name);
  if (step) return step.outputs[Number(k)];
  return ref === program.translation.def.input.name ? program.host.program.inputSlot : undefined;
}

/** The host for an opened ONNX model (formats/onnx.ts). */
export function buildOnnxHost(opened: { name: string; onnx?: OnnxModel }): ProgramHost {
  if (!opened.onnx) throw studioError('INTERNAL', { reason: 'an ONNX model without its decoded graph' });
  return buildOnnxProgram(opened.onnx, opened.name).host;
}
