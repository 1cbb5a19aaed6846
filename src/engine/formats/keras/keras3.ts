/**
 * Keras 3 `.keras`: a zip with `config.json` (the model config), `metadata.json` (keras_version)
 * and `model.weights.h5` (weights by object path: `layers/<snake_case_class>[_N]/vars/<i>`).
 */
import { unzipLimited } from '../archive';
import type { InputFile } from '../../files';
import type { LoadProgress } from '../../../shared/types';
import { studioError } from '../../../shared/errors';
import type { OpenedModel } from '../reader';
import { readSidecars } from '../labels';
import { collectDatasets, errorText, openHdf5, readTensor } from './hdf5';
import { isObject, keras3ObjectPaths } from './config';
import { mapKeras3Weights, type StoredWeight } from './weights';
import { artifactsFromKeras } from './skeleton';

export const KERAS3_MEMBERS = ['config.json', 'metadata.json', 'model.weights.h5'];

function parseJsonMember(bytes: Uint8Array, member: string, file: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw studioError('KERAS_UNSUPPORTED', { reason: `${member} in ${file} is not valid JSON (${errorText(e)}).` });
  }
}

/** `file` is the .keras (or a zip holding the same members). */
export async function openKeras3(file: InputFile, files: InputFile[], onProgress?: (p: LoadProgress) => void): Promise<OpenedModel> {
  onProgress?.({ phase: 'reading', bytesTotal: file.size, message: `Reading ${file.name}` });
  // The archive limits hold while inflating: a .keras cannot be a zip bomb either.
  const members = unzipLimited(await file.bytes(), file.path || file.name, { filter: (entry) => KERAS3_MEMBERS.includes(entry) });
  if (!members['config.json']) throw studioError('KERAS_UNSUPPORTED', { reason: `${file.name} has no config.json, so it is not a Keras 3 model file.` });
  if (!members['model.weights.h5']) throw studioError('KERAS_UNSUPPORTED', { reason: `${file.name} has no model.weights.h5 (saved without weights?).` });
  const raw = parseJsonMember(members['config.json'], 'config.json', file.name);
  const metadata = members['metadata.json'] ? parseJsonMember(members['metadata.json'], 'metadata.json', file.name) : {};
  const kerasVersion = isObject(metadata) && typeof metadata.keras_version === 'string' ? metadata.keras_version : undefined;

  onProgress?.({ phase: 'weights', message: `Reading the weights of ${file.name}` });
  const root = await openHdf5(members['model.weights.h5'], 'model.weights.h5');
  const store = new Map<string, StoredWeight>();
  for (const [path, dataset] of collectDatasets(root)) {
    if (path.startsWith('optimizer/')) continue;
    store.set(path, { shape: [...dataset.shape], read: () => readTensor(dataset, path).data });
  }
  const objectPaths = keras3ObjectPaths(raw);
  const { artifacts, warnings } = await artifactsFromKeras(raw, { keras_version: kerasVersion, backend: 'tensorflow' }, (model) => mapKeras3Weights(model, objectPaths, store));

  const sidecars = await readSidecars(files.filter((f) => f !== file), file.path);
  const opened: OpenedModel = { name: file.name, format: 'keras-v3', artifacts, warnings: [...warnings, ...sidecars.warnings] };
  if (sidecars.labels) opened.labels = sidecars.labels;
  if (sidecars.preprocess) opened.preprocess = sidecars.preprocess;
  return opened;
}
