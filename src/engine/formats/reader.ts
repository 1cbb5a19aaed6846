import type * as tf from '@tensorflow/tfjs';
import type { InputFile } from '../files';
import type { LoadProgress, PreprocessOptions } from '../../shared/types';
import type { StudioNotice } from '../../shared/errors';
import type { OnnxModel } from '../onnx/onnx-proto';

/** What a format reader produces: tfjs ModelArtifacts plus what sidecar files said. */
export interface OpenedModel {
  /** Display name (file or folder name). */
  name: string;
  /** e.g. 'tfjs-layers', 'tfjs-layers (legacy)', 'keras-h5', 'keras-v3'. */
  format: string;
  /** How it runs: a tfjs-layers model (default), a TF.js graph model (graph/graph-program.ts) or an ONNX model (onnx/load-onnx.ts). */
  kind?: 'layers' | 'graph' | 'onnx';
  artifacts: tf.io.ModelArtifacts;
  /** The decoded ONNX model (kind 'onnx'). */
  onnx?: OnnxModel;
  labels?: string[];
  /** Preprocessing the files imply (Teachable Machine metadata → symmetric + centre crop), with the source. */
  preprocess?: Partial<PreprocessOptions> & { source: string };
  warnings: StudioNotice[];
}

/** Netron-style: one reader per format. `match` is cheap (names, a few bytes); `open` does the work. */
export interface ModelReader {
  readonly name: string;
  match(files: InputFile[]): Promise<boolean> | boolean;
  open(files: InputFile[], onProgress?: (p: LoadProgress) => void): Promise<OpenedModel>;
}
