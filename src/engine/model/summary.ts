/**
 * What a person (and the page) is told about a model: its input, its outputs and their heads and
 * labels, its layer tree and default layer, its preprocessing; and the predictions read off one output.
 */
import type { HeadKind, ModelSummary, OutputSummary, Prediction, PreprocessDefaults, PreprocessOptions } from '../../shared/types';
import { notice, studioError, type StudioNotice } from '../../shared/errors';
import { programForOutput, type ProgramHost } from '../executor/program';
import { buildLayerTree, defaultLayerPath } from '../tree';
import { DEFAULT_PREPROCESS } from '../preprocess';
import { labelCountNotice } from '../formats/labels';

/** What the files said about the model beyond its graph and weights. */
export interface SummaryMeta {
  name?: string;
  format?: string;
  labels?: string[];
  preprocess?: Partial<PreprocessOptions> & { source: string };
  warnings?: StudioNotice[];
  weightBytes?: number;
}

/** One output's logits and probabilities for one image. */
export interface OutputValues {
  logits: Float32Array;
  probabilities: Float32Array;
}

/** [h, w, c] of the model's image input, or INPUT_NOT_IMAGE. */
export function imageSizeOf(shape: (number | null)[]): [number, number, number] {
  const [, h, w, c] = shape;
  if (shape.length !== 4 || typeof h !== 'number' || typeof w !== 'number' || (c !== 1 && c !== 3)) {
    throw studioError('INPUT_NOT_IMAGE', { shape: shape.map((d) => (d == null ? 'null' : String(d))).join(', ') });
  }
  return [h, w, c];
}

/** What the output means (see ModelSummary.head). */
export function headKind(activation: 'softmax' | 'sigmoid' | 'linear', units: number): HeadKind {
  if (units === 1) return 'binary';
  if (activation === 'sigmoid') return 'multi-label';
  return activation === 'softmax' ? 'softmax' : 'logits';
}

/**
 * A single unit's two classes: the unit's label and its negation. Keras binary classifiers name
 * both classes with the unit meaning the second (labels.txt "fake / real" → real, not real = fake).
 */
export function binaryLabels(fromFile: string[] | undefined): [string, string] {
  const [first, second] = fromFile ?? [];
  if (first !== undefined && second !== undefined) return [second, first];
  const label = first ?? 'class 0';
  return [label, `not ${label}`];
}

function unitCount(shape: readonly (number | null)[]): number {
  return shape.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1);
}

/** The summary of a compiled model: outputs (the first classification-shaped one is the default), labels, tree, preprocessing. */
export function summarise(host: ProgramHost, meta: SummaryMeta): ModelSummary {
  const { program } = host;
  const imageSize = imageSizeOf(host.inputShape);
  const warnings: StudioNotice[] = [...(meta.warnings ?? [])];
  const tree = buildLayerTree(program);
  const defaultPath = defaultLayerPath(program);
  if (defaultPath === null) warnings.push(notice('NO_SPATIAL_LAYER'));

  const outputs: OutputSummary[] = host.outputShapes.map((shape, index) => {
    const activation = programForOutput(program, index).logit.activation;
    const head = headKind(activation, unitCount(shape));
    return { index, name: host.outputNames[index] ?? `output ${index}`, shape, classification: shape.length === 2, head, outputActivation: activation, labels: [] };
  });
  const defaultOutput = Math.max(0, outputs.findIndex((o) => o.classification));
  for (const out of outputs) {
    // Label files name the classes of the output that is explained by default.
    const fromFile = out.index === defaultOutput ? meta.labels : undefined;
    out.labels = out.head === 'binary' ? binaryLabels(fromFile) : Array.from({ length: unitCount(out.shape) }, (_, i) => fromFile?.[i] ?? `class ${i}`);
  }
  const main = outputs[defaultOutput];
  if (!main) throw studioError('INTERNAL', { reason: 'the model has no output' });
  const labelMismatch = labelCountNotice(meta.labels, unitCount(main.shape), main.head);
  if (labelMismatch) warnings.push(labelMismatch);
  if (outputs.length > 1) warnings.push(notice('MULTI_OUTPUT', { count: outputs.length, name: main.name }));
  const preprocess: PreprocessDefaults = {
    ...DEFAULT_PREPROCESS,
    ...(meta.preprocess ?? {}),
    source: meta.preprocess?.source ?? DEFAULT_PREPROCESS.source,
  };
  return {
    name: meta.name ?? 'model',
    format: meta.format ?? 'tfjs-layers',
    inputShape: host.inputShape,
    imageSize,
    labels: main.labels,
    labelsFromFile: Boolean(meta.labels && meta.labels.length > 0),
    tree,
    defaultLayerPath: defaultPath,
    preprocess,
    outputActivation: main.outputActivation,
    head: main.head,
    outputs,
    defaultOutput,
    params: host.params,
    weightBytes: meta.weightBytes ?? host.weightBytes,
    warnings,
  };
}

/** All classes of one output, sorted by probability desc (a binary head: the unit and its negation). */
export function predictionsOf(values: OutputValues, out: OutputSummary): Prediction[] {
  if (out.head === 'binary') {
    const p = values.probabilities[0] ?? 0;
    const logit = values.logits[0] ?? 0;
    const [yes = 'class 0', no = 'not class 0'] = out.labels;
    const both: Prediction[] = [
      { index: 0, label: yes, probability: p, logit },
      { index: 1, label: no, probability: 1 - p, logit: -logit },
    ];
    return both.sort((a, b) => b.probability - a.probability);
  }
  return Array.from(values.probabilities, (probability, index) => ({
    index,
    label: out.labels[index] ?? `class ${index}`,
    probability,
    logit: values.logits[index] ?? 0,
  })).sort((a, b) => b.probability - a.probability);
}
