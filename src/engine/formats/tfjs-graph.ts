/**
 * Reader for TF.js graph models (what the converter makes from a SavedModel or a TF Hub model):
 * a JSON with `format: "graph-model"` (or a `modelTopology.node` list) under any name
 * (`emotion.json` + `emotion.bin`), its weight shards by the manifest's names, and the same
 * sidecars as a layers model (labels.txt, metadata.json).
 */
import type * as tf from '@tensorflow/tfjs';
import type { InputFile } from '../files';
import { baseName, dirName, readText } from '../files';
import type { LoadProgress } from '../../shared/types';
import type { ModelReader, OpenedModel } from './reader';
import { readSidecars } from './labels';
import { parseGraphDef } from '../graph/graph-def';
import { refuseUnsupportedOps } from '../graph/graph-ops';
import { isGraphModel, modelJsonCandidates, pickModelJson, readWeightShards } from './tfjs-layers';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const tfjsGraphReader: ModelReader = {
  name: 'tfjs-graph',

  async match(files: InputFile[]): Promise<boolean> {
    for (const file of modelJsonCandidates(files)) {
      if (file.size > 64 * 1024 * 1024) continue;
      const text = await readText(file);
      if (!text.includes('"modelTopology"')) continue;
      try {
        const json: unknown = JSON.parse(text);
        if (isRecord(json) && isGraphModel(json)) return true;
      } catch {
        // not JSON: the layers reader says why
      }
    }
    return false;
  },

  async open(files: InputFile[], onProgress?: (p: LoadProgress) => void): Promise<OpenedModel> {
    const { file: modelFile, json } = await pickModelJson(files, 'graph');
    const metadata = isRecord(json.userDefinedMetadata) ? json.userDefinedMetadata : undefined;
    // The converter writes the signature at the top level, some tools inside userDefinedMetadata.
    const signature = isRecord(json.signature) ? json.signature : isRecord(metadata?.signature) ? metadata.signature : undefined;
    // The graph's structure is checked before any weight is read (cheap: plain JSON).
    refuseUnsupportedOps(parseGraphDef(json.modelTopology, signature).nodes);
    const { weightSpecs, weightData, warnings } = await readWeightShards(files, json, modelFile, onProgress);
    const sidecars = await readSidecars(files, modelFile.path);
    warnings.push(...sidecars.warnings);
    const artifacts: tf.io.ModelArtifacts = {
      modelTopology: json.modelTopology as Json,
      weightSpecs,
      weightData,
      format: 'graph-model',
      generatedBy: typeof json.generatedBy === 'string' ? json.generatedBy : undefined,
      convertedBy: typeof json.convertedBy === 'string' ? json.convertedBy : undefined,
      signature,
      userDefinedMetadata: metadata as Record<string, never> | undefined,
    };
    const modelDir = dirName(modelFile.path);
    const stem = modelFile.name.replace(/\.json$/i, '');
    return {
      name: stem !== 'model' || !modelDir ? stem : baseName(modelDir),
      format: 'tfjs-graph',
      kind: 'graph',
      artifacts,
      labels: sidecars.labels,
      preprocess: sidecars.preprocess,
      warnings,
    };
  },
};
