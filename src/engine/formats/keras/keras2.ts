/**
 * Keras 2 HDF5 (`model.save('x.h5')`): root attributes `model_config` (JSON), `keras_version`,
 * `backend`; weights under `model_weights/<layer>/…`, listed by each group's `weight_names`.
 */
import type { InputFile } from '../../files';
import type { LoadProgress } from '../../../shared/types';
import { studioError } from '../../../shared/errors';
import type { OpenedModel } from '../reader';
import { readSidecars } from '../labels';
import { collectDatasets, getNode, isDataset, isGroup, openHdf5, readTensor, stringAttr, stringListAttr, type H5Group } from './hdf5';
import { mapKeras2Weights, type Keras2WeightGroup } from './weights';
import { artifactsFromKeras } from './skeleton';

/** Why an HDF5 file without `model_config` cannot be opened, in the user's terms. */
function missingConfigReason(root: H5Group, fileName: string): string {
  if (stringListAttr(root, 'layer_names') || getNode(root, 'layers') || getNode(root, 'vars')) {
    return `${fileName} holds only weights (saved with save_weights), not the model's architecture. Save the whole model with model.save("model.h5") or model.save("model.keras").`;
  }
  return `${fileName} is an HDF5 file without a "model_config" attribute, so it is not a Keras model saved with model.save().`;
}

/** The weight groups of `model_weights`, in `layer_names` order, read lazily. */
export function keras2WeightGroups(weightsRoot: H5Group): Keras2WeightGroup[] {
  const layerNames = stringListAttr(weightsRoot, 'layer_names') ?? weightsRoot.keys;
  return layerNames.map((layer) => {
    const group = getNode(weightsRoot, layer);
    if (!isGroup(group)) return { layer, weights: [] };
    let names = stringListAttr(group, 'weight_names');
    // Files without weight_names: every dataset below the group, in key order.
    if (names === undefined) names = [...collectDatasets(group).keys()];
    const weights = names.map((name) => {
      const dataset = getNode(group, name);
      if (!isDataset(dataset)) throw studioError('KERAS_UNSUPPORTED', { reason: `weight "${name}" listed for layer "${layer}" is missing from the file.` });
      return { name, weight: { shape: [...dataset.shape], read: () => readTensor(dataset, `${layer}/${name}`).data } };
    });
    return { layer, weights };
  });
}

/** `candidates`: the HDF5 files among `files` (all dropped files, for the labels.txt sidecar); the first with a model config wins. */
export async function openKerasH5(candidates: InputFile[], files: InputFile[], onProgress?: (p: LoadProgress) => void): Promise<OpenedModel> {
  if (candidates.length === 0) throw studioError('NO_MODEL_FILE');
  let lastReason = '';
  for (const file of candidates) {
    onProgress?.({ phase: 'reading', bytesTotal: file.size, message: `Reading ${file.name}` });
    const root = await openHdf5(await file.bytes(), file.name);
    const configText = stringAttr(root, 'model_config');
    if (!configText) {
      lastReason = missingConfigReason(root, file.name);
      continue;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(configText);
    } catch (e) {
      throw studioError('KERAS_UNSUPPORTED', { reason: `the model_config attribute of ${file.name} is not valid JSON (${e instanceof Error ? e.message : String(e)}).` });
    }
    const weightsRoot = getNode(root, 'model_weights');
    if (!isGroup(weightsRoot)) {
      throw studioError('KERAS_UNSUPPORTED', { reason: `${file.name} has a model config but no model_weights group (saved without weights?).` });
    }
    const meta = { keras_version: stringAttr(root, 'keras_version'), backend: stringAttr(root, 'backend') };
    onProgress?.({ phase: 'weights', message: `Reading the weights of ${file.name}` });
    const groups = keras2WeightGroups(weightsRoot);
    const { artifacts, warnings } = await artifactsFromKeras(raw, meta, (model) => mapKeras2Weights(model, groups));
    const sidecars = await readSidecars(files, file.path);
    const opened: OpenedModel = {
      name: file.name,
      format: 'keras-h5',
      artifacts,
      warnings: [...warnings, ...sidecars.warnings],
    };
    if (sidecars.labels) opened.labels = sidecars.labels;
    if (sidecars.preprocess) opened.preprocess = sidecars.preprocess;
    else if (file.name.toLowerCase() === 'keras_model.h5' && sidecars.labels) {
      // Teachable Machine's Keras export: keras_model.h5 + labels.txt, images scaled to [-1, 1], centre-cropped.
      opened.preprocess = { normalization: 'symmetric', resize: 'center-crop', source: 'keras_model.h5 + labels.txt (Teachable Machine export)' };
    }
    return opened;
  }
  throw studioError('KERAS_UNSUPPORTED', { reason: lastReason });
}
