/**
 * How much memory a dropped model will need, estimated from its files BEFORE any weight is read,
 * so that a model too large for the memory budget is announced (MODEL_TOO_LARGE) before loading.
 * Never throws: a broken model.json is the loader's to report.
 */
import { extension, readText, type InputFile } from '../files';
import { notice, type StudioNotice } from '../../shared/errors';
import { modelJsonCandidates } from './tfjs-layers';

/** Without a better hint (navigator.deviceMemory), a model may use about this much. */
export const DEFAULT_MEMORY_BUDGET_MB = 1024;
/** Weights are held as float32 once and again by the backend's working copies (activations, gradients). */
const WORKING_FACTOR = 2;
/** Beyond this a model.json is not parsed here (the loader reads it anyway). */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Float32 bytes of every weight listed in a TF.js weights manifest (quantized weights count as float32), or null. */
function manifestFloatBytes(json: unknown): number | null {
  if (!isRecord(json) || !Array.isArray(json.weightsManifest)) return null;
  let bytes = 0;
  for (const group of json.weightsManifest) {
    if (!isRecord(group) || !Array.isArray(group.weights)) continue;
    for (const weight of group.weights) {
      if (!isRecord(weight) || !Array.isArray(weight.shape)) continue;
      const count = weight.shape.reduce<number>((n, d) => n * (typeof d === 'number' && d > 0 ? d : 0), 1);
      bytes += count * 4;
    }
  }
  return bytes;
}

/** Estimated bytes the model needs once loaded: from the TF.js manifest, else from the weight files' sizes. */
export async function estimateModelBytes(files: InputFile[]): Promise<number> {
  for (const file of modelJsonCandidates(files)) {
    if (file.size > MAX_JSON_BYTES) continue;
    try {
      const fromManifest = manifestFloatBytes(JSON.parse(await readText(file)));
      if (fromManifest !== null) return fromManifest * WORKING_FACTOR;
    } catch {
      // Not JSON: the loader names the problem.
    }
  }
  const weightFiles = files.filter((f) => ['bin', 'h5', 'hdf5', 'keras'].includes(extension(f.name)) || /shard\d+of\d+/i.test(f.name));
  return weightFiles.reduce((n, f) => n + f.size, 0) * WORKING_FACTOR;
}

/** The budget: a quarter of the device memory the browser reports (clamped to 256 MB–2 GB), else 1 GB. */
export function defaultMemoryBudgetMb(deviceMemoryGb?: number): number {
  if (!deviceMemoryGb || !Number.isFinite(deviceMemoryGb) || deviceMemoryGb <= 0) return DEFAULT_MEMORY_BUDGET_MB;
  return Math.min(2048, Math.max(256, Math.round((deviceMemoryGb * 1024) / 4)));
}

/** MODEL_TOO_LARGE when the estimate exceeds the budget, else null. */
export async function checkModelSize(files: InputFile[], budgetMb: number): Promise<StudioNotice | null> {
  const bytes = await estimateModelBytes(files);
  const mb = bytes / (1024 * 1024);
  if (mb <= budgetMb) return null;
  return notice('MODEL_TOO_LARGE', { mb: Math.ceil(mb), budgetMb });
}
