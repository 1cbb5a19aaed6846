/**
 * Loading: files → an opened model (formats/) → a compiled program (executor/program.ts, or the
 * graph host) → its summary → a warm-up → the loaded model.
 */
import type * as tf from '@tensorflow/tfjs';
import type { InputFile } from '../files';
import type { OpenedModel } from '../formats/reader';
import { buildLayersModel, openModel } from '../formats/index';
import type { LoadProgress } from '../../shared/types';
import { studioError } from '../../shared/errors';
import { compileProgram, type ProgramHost } from '../executor/program';
import type { GradientPath } from '../executor/leaf';
import { buildGraphHost } from '../graph/load-graph';
import { buildOnnxHost } from '../onnx/load-onnx';
import { imageSizeOf, summarise, type SummaryMeta } from './summary';
import { warmUp } from './warm-up';
import { probeGradientSupport } from '../gradient-support';
import { LoadedModelImpl, type LoadedModel } from './loaded-model';

export interface LoadedModelMeta extends SummaryMeta {
  /** 'fast' (default): the written-out backward pass (executor/backward.ts). 'plain': a tfjs tape through layer.apply (the reference). */
  gradientPath?: GradientPath;
  onProgress?: (p: LoadProgress) => void;
}

/** = openModel + loadedModelFromOpened. */
export async function loadModel(files: InputFile[], options?: { onProgress?: (p: LoadProgress) => void }): Promise<LoadedModel> {
  const opened = await openModel(files, options?.onProgress);
  return loadedModelFromOpened(opened, options?.onProgress);
}

export async function loadedModelFromOpened(opened: OpenedModel, onProgress?: (p: LoadProgress) => void): Promise<LoadedModel> {
  onProgress?.({ phase: 'building', message: `Building ${opened.name}…` });
  const meta: LoadedModelMeta = {
    name: opened.name,
    format: opened.format,
    labels: opened.labels,
    preprocess: opened.preprocess,
    warnings: opened.warnings,
    weightBytes: weightBytes(opened.artifacts),
    onProgress,
  };
  if (opened.kind === 'graph' || opened.kind === 'onnx') {
    const host = opened.kind === 'onnx' ? buildOnnxHost(opened) : await buildGraphHost(opened);
    try {
      return await loadedModelFromHost(host, { ...meta, warnings: [...(meta.warnings ?? []), ...host.warnings] });
    } catch (e) {
      host.dispose();
      throw e;
    }
  }
  const model = await buildLayersModel(opened);
  try {
    return await loadedModelFromLayersModel(model, meta);
  } catch (e) {
    model.dispose();
    throw e;
  }
}

function weightBytes(artifacts: tf.io.ModelArtifacts): number {
  const data = artifacts.weightData;
  if (!data) return 0;
  return Array.isArray(data) ? data.reduce((n, b) => n + b.byteLength, 0) : data.byteLength;
}

export async function loadedModelFromLayersModel(model: tf.LayersModel, meta: LoadedModelMeta = {}): Promise<LoadedModel> {
  if (model.inputs.length !== 1) throw studioError('MULTI_INPUT', { count: model.inputs.length });
  const [input] = model.inputs;
  if (!input) throw studioError('INPUT_NOT_IMAGE', { shape: 'none' });
  imageSizeOf(input.shape);
  const host: ProgramHost = {
    program: compileProgram(model),
    inputShape: input.shape.map((d) => (d == null ? null : d)),
    outputShapes: model.outputs.map((o) => o.shape.map((d) => (d == null ? null : d))),
    outputNames: model.outputNames,
    params: model.countParams(),
    weightBytes: model.weights.reduce((n, w) => n + w.shape.reduce<number>((a, d) => a * (d ?? 1), 1) * 4, 0),
    layersModel: model,
    warnings: [],
    dispose: () => model.dispose(),
  };
  return loadedModelFromHost(host, { format: 'tfjs-layers', name: model.name, ...meta });
}

export async function loadedModelFromHost(host: ProgramHost, meta: LoadedModelMeta = {}): Promise<LoadedModel> {
  const summary = summarise(host, meta);
  const gradientPath = meta.gradientPath ?? 'fast';
  await warmUp(host.program, summary.imageSize, summary.defaultLayerPath, gradientPath, meta.onProgress);
  summary.gradients = await probeGradientSupport(host.program, summary.imageSize, gradientPath);
  meta.onProgress?.({ phase: 'done', message: 'Model ready.' });
  return new LoadedModelImpl(host, summary, gradientPath);
}
