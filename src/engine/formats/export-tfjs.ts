/**
 * The in-browser converter: any loaded layers model (a Keras .h5/.keras included) → TF.js files
 * that `tf.loadLayersModel` and the TF.js converter's tools read: model.json (format layers-model,
 * one weights.bin), weights.bin, and metadata.json carrying the labels.
 */
import * as tf from '@tensorflow/tfjs';
import { studioError } from '../../shared/errors';
import type { PreprocessOptions } from '../../shared/types';

export interface ExportedFile {
  name: string;
  data: Uint8Array;
}

const GENERATED_BY = `Grad-CAM Studio (TensorFlow.js tfjs-layers v${tf.version_layers})`;

function weightBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const buffers = Array.isArray(data) ? data : [data];
  const total = buffers.reduce((sum, b) => sum + b.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out;
}

/** `preprocess`: how the model's images are prepared; written to metadata.json so a reload uses the same. */
export async function exportLayersModelAsTfjs(model: tf.LayersModel, labels?: string[], preprocess?: Partial<PreprocessOptions>): Promise<ExportedFile[]> {
  let saved: tf.io.ModelArtifacts | undefined;
  try {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  } catch (e) {
    throw studioError('INTERNAL', { reason: `the model could not be serialised (${e instanceof Error ? e.message : String(e)}).` });
  }
  if (!saved || !saved.modelTopology) throw studioError('INTERNAL', { reason: 'the model produced no topology to export.' });
  const encoder = new TextEncoder();
  const modelJson = {
    format: 'layers-model',
    generatedBy: GENERATED_BY,
    convertedBy: null,
    modelTopology: saved.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs ?? [] }],
  };
  const metadata: Record<string, unknown> = { generatedBy: GENERATED_BY, modelName: model.name };
  if (labels && labels.length > 0) metadata.labels = labels;
  if (preprocess && (preprocess.normalization || preprocess.resize)) metadata.preprocess = { normalization: preprocess.normalization, resize: preprocess.resize };
  return [
    { name: 'model.json', data: encoder.encode(JSON.stringify(modelJson)) },
    { name: 'weights.bin', data: weightBytes(saved.weightData) },
    { name: 'metadata.json', data: encoder.encode(JSON.stringify(metadata, null, 2)) },
  ];
}
