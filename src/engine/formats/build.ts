/**
 * Turn opened artifacts into a tf.LayersModel, with every tfjs failure mapped to a coded error
 * and the variables of a half-built model freed.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError, studioError } from '../../shared/errors';
import type { OpenedModel } from './reader';
import { findUnsupportedLayers } from './tfjs-layers';
import { validateBuiltShapes, validateModelConfig } from './validate-config';

function errorReason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** tfjs's "Shape mismatch: [3,3,3,8] vs. [3,3,3,16]" (variable vs. value) names no weight: find it in the specs. */
function shapeMismatch(message: string, specs: tf.io.WeightsManifestEntry[] | undefined): StudioError | null {
  const m = /Shape mismatch: \[([\d,]*)\] vs\. \[([\d,]*)\]/.exec(message) ?? /shape (\S*) not compatible with provided weight shape (\S*)/.exec(message);
  if (!m) return null;
  const [, expected, actual] = m;
  const owners = (specs ?? []).filter((s) => s.shape.join(',') === actual).map((s) => s.name);
  const weight = owners.length > 0 && owners.length <= 3 ? owners.join(' or ') : 'a weight';
  return studioError('WEIGHT_SHAPE_MISMATCH', { weight, expected, actual });
}

/** Map anything tfjs throws while building to a StudioError with the most specific code. */
export function buildError(e: unknown, artifacts?: tf.io.ModelArtifacts): StudioError {
  if (e instanceof StudioError) return e;
  const message = errorReason(e);
  const unknownClass = /Unknown (?:layer|class(?:Name)?):? '?([\w.]+)/i.exec(message);
  if (unknownClass && artifacts?.modelTopology) {
    const layer = findUnsupportedLayers(artifacts.modelTopology)[0];
    return studioError('UNSUPPORTED_LAYER', layer ?? { layer: '(unknown)', className: unknownClass[1] });
  }
  return shapeMismatch(message, artifacts?.weightSpecs) ?? studioError('MODEL_BUILD_FAILED', { reason: message });
}

/**
 * `tf.loadLayersModel` on in-memory artifacts. On failure the variables it had created are disposed,
 * so a bad drop does not leak the memory of the model it failed to build.
 */
export async function buildLayersModel(source: OpenedModel | tf.io.ModelArtifacts): Promise<tf.LayersModel> {
  const artifacts = 'artifacts' in source ? source.artifacts : source;
  // Before tfjs sees it: a config that would build a broken model (or break the backend) is refused here.
  validateModelConfig(artifacts.modelTopology);
  const engine = tf.engine();
  const variablesBefore = new Set(Object.keys(engine.registeredVariables));
  // A scope catches the weight tensors tfjs decodes and then drops when loadWeights throws.
  engine.startScope('buildLayersModel');
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts), { strict: true });
    // Success: hand every tensor still alive up, as tf.tidy does with its result.
    engine.endScope(engine.state.activeScope.track.filter((t) => !t.isDisposed));
    disposeEveryWeightOnDispose(model);
  } catch (e) {
    engine.endScope();
    for (const [name, variable] of Object.entries(engine.registeredVariables)) {
      if (!variablesBefore.has(name)) variable.dispose();
    }
    throw buildError(e, artifacts);
  }
  try {
    // Before its first forward pass: zero-sized outputs would corrupt the WASM backend's memory.
    validateBuiltShapes(model);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/**
 * `model.dispose()` and then every weight variable it left alive: tfjs 4.22 leaves some variables of
 * nested Sequentials allocated (measured on the Teachable Machine export: 3 of 263).
 */
export function disposeLayersModel(model: tf.LayersModel): void {
  const variables = model.weights.map((w) => w.read());
  model.dispose();
  for (const variable of variables) if (!variable.isDisposed) variable.dispose();
}

/** Make the model's own `dispose()` free every weight too, so that callers need not know about the leak. */
function disposeEveryWeightOnDispose(model: tf.LayersModel): void {
  const variables = model.weights.map((w) => w.read());
  const plainDispose = model.dispose.bind(model);
  model.dispose = () => {
    const result = plainDispose();
    for (const variable of variables) if (!variable.isDisposed) variable.dispose();
    return result;
  };
}
