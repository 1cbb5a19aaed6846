/**
 * Build the tfjs model a Keras config describes (weights still random), so that the weights read
 * from the file can be matched to its variables and checked against their shapes.
 */
import * as tf from '@tensorflow/tfjs';
import { buildError } from '../build';
import { assertSupportedLayers, normalizeKerasConfig, type KerasTopology } from './config';
import { toArtifacts, type MappedWeight } from './weights';
import { rewriteForInference } from './rewrite';
import type { StudioNotice } from '../../../shared/errors';

export function isKnownTfjsClass(className: string): boolean {
  return className in tf.serialization.SerializationMap.getMap().classNameMap;
}

/** Rewrite training-only and constant-arithmetic layers, check classes, normalise, build. The caller disposes the model. */
export async function buildSkeleton(
  raw: unknown,
  meta: { keras_version?: string; backend?: string } = {},
): Promise<{ topology: KerasTopology; model: tf.LayersModel; warnings: StudioNotice[] }> {
  const { config, notices } = rewriteForInference(raw);
  assertSupportedLayers(config, isKnownTfjsClass);
  const topology = normalizeKerasConfig(config, meta);
  // tfjs mutates the config it deserialises: give it a copy, keep ours for the artifacts.
  const copy = JSON.parse(JSON.stringify(topology)) as tf.io.ModelJSON['modelTopology'];
  try {
    const model = await tf.models.modelFromJSON({ modelTopology: copy } as tf.io.ModelJSON);
    return { topology, model, warnings: notices };
  } catch (e) {
    throw buildError(e, { modelTopology: topology });
  }
}

/** Build the skeleton, let `mapWeights` pair the file's weights with its variables, free it. */
export async function artifactsFromKeras(
  raw: unknown,
  meta: { keras_version?: string; backend?: string },
  mapWeights: (model: tf.LayersModel) => MappedWeight[],
): Promise<{ artifacts: tf.io.ModelArtifacts; warnings: StudioNotice[] }> {
  const { topology, model, warnings } = await buildSkeleton(raw, meta);
  try {
    return { artifacts: toArtifacts(topology, mapWeights(model)), warnings };
  } finally {
    model.dispose();
  }
}
