/**
 * The rules of an explanation request, in one place for the single image, the grid and the gallery's
 * batch: which methods run (the default set), which layers the layer methods explain, which output,
 * which class, and the output unit and sign scored (a binary head's second class is its unit's
 * negation; the counterfactual negates the score).
 */
import { CLASSIC_METHODS, isMethodId, METHOD_IDS, methodInfo, type MethodId } from '../shared/methods';
import type { ExplainOptions, ModelSummary, OutputSummary, Prediction } from '../shared/types';
import { notice, studioError, type StudioNotice } from '../shared/errors';
import { resolveClass } from '../shared/classes';
import type { Program } from './executor/program';
import { resolveLayerPath } from './tree';
import { methodsWithDependencies } from './explain';

/** The methods a request asks for: its own list (deduplicated, checked), or Grad-CAM, guided backprop and guided Grad-CAM. */
export function requestedMethods(methods?: readonly MethodId[] | null): MethodId[] {
  const requested: MethodId[] = methods && methods.length > 0 ? [...new Set(methods)] : [...CLASSIC_METHODS];
  for (const id of requested) if (!isMethodId(id)) throw studioError('METHOD_UNKNOWN', { method: String(id), known: METHOD_IDS.join(', ') });
  return requested;
}

export interface TargetLayer {
  path: string;
  slot: number;
}

export interface ResolvedRequest {
  /** The methods that run: the requested ones, less the layer methods when the model has no layer to explain (then a warning says so). */
  methods: MethodId[];
  /** The layers of the layer methods (several: fusion); empty when no layer method runs. */
  layers: TargetLayer[];
  /** The output explained, and its summary. */
  output: number;
  out: OutputSummary;
  warnings: StudioNotice[];
}

export type RequestOptions = Pick<ExplainOptions, 'methods' | 'layerPath' | 'layerPaths' | 'output'>;

/** The layers the layer methods explain: layerPaths (fusion), else layerPath, else the default; null when there is none. */
function targetLayers(summary: ModelSummary, program: Program, options: RequestOptions): TargetLayer[] | null {
  const paths = options.layerPaths && options.layerPaths.length > 0 ? options.layerPaths : [options.layerPath ?? summary.defaultLayerPath];
  const known: string[] = [];
  for (const path of paths) {
    if (path === null || path === undefined) return null;
    const node = resolveLayerPath(summary.tree, path);
    if (!node) throw studioError('LAYER_NOT_FOUND', { path });
    if (!node.explainable) throw studioError('LAYER_NOT_SPATIAL', { path: node.path });
    if (!known.includes(node.path)) known.push(node.path);
  }
  return known.map((path) => {
    const slot = program.slotsByPath.get(path);
    if (slot === undefined) throw studioError('LAYER_NOT_FOUND', { path });
    return { path, slot };
  });
}

/** Methods, layers and output of a request (everything decided before the forward pass). */
export function resolveRequest(summary: ModelSummary, program: Program, options: RequestOptions): ResolvedRequest {
  const explicit = Boolean(options.methods && options.methods.length > 0);
  const requested = requestedMethods(options.methods);
  const warnings: StudioNotice[] = [];
  let methods = requested;
  let layers: TargetLayer[] = [];
  // Target layers: needed by the layer methods (and guided Grad-CAM, which uses Grad-CAM).
  if (methodsWithDependencies(requested).some((m) => methodInfo(m).needs === 'layer')) {
    const found = targetLayers(summary, program, options);
    if (found === null) {
      if (explicit && requested.every((m) => methodInfo(m).needs === 'layer')) throw studioError('NO_SPATIAL_LAYER');
      warnings.push(notice('NO_SPATIAL_LAYER'));
      methods = requested.filter((m) => methodInfo(m).needs === 'input');
    } else {
      layers = found;
    }
  }
  const output = options.output ?? summary.defaultOutput;
  const out = summary.outputs[output];
  if (!out || !Number.isInteger(output)) throw studioError('OUTPUT_NOT_FOUND', { output: String(output), count: summary.outputs.length });
  return { methods, layers, output, out, warnings };
}

export interface ResolvedTarget {
  /** The class explained (an index of the output's labels). */
  classIndex: number;
  /** The output unit scored. */
  unit: number;
  /** -1: the unit's negated logit is the score. */
  sign: 1 | -1;
}

/**
 * The class meant by `target` (src/shared/classes.ts: the rule the page and the CLI use too; absent or
 * blank = the top-1), and the unit and sign that score it.
 */
export function resolveTarget(out: OutputSummary, predictions: readonly Prediction[], target: number | string | null | undefined, counterfactual = false): ResolvedTarget {
  let classIndex: number;
  if (target === null || target === undefined || (typeof target === 'string' && target.trim() === '')) {
    const top = predictions[0];
    if (!top) throw studioError('INTERNAL', { reason: 'the output has no classes' });
    classIndex = top.index;
  } else {
    const index = resolveClass(target, out.labels);
    if (index === null) throw studioError('CLASS_NOT_FOUND', { query: String(target), count: out.labels.length });
    classIndex = index;
  }
  const unit = out.head === 'binary' ? 0 : classIndex;
  const negated = out.head === 'binary' && classIndex === 1;
  return { classIndex, unit, sign: negated !== counterfactual ? -1 : 1 };
}
