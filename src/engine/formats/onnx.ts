/**
 * Reader for ONNX files (`torch.onnx.export`, tf2onnx…): a `.onnx` ModelProto decoded with
 * protobufjs (onnx/onnx-proto.ts), weights kept in an external file beside it (`model.onnx.data`)
 * read by name, and labels from `labels.txt`, `synset.txt`, `imagenet_classes.txt` or a JSON list.
 * Runs as a graph program (onnx/load-onnx.ts). PyTorch models take ImageNet mean/std on [0, 1]
 * RGB after torchvision's Resize + CenterCrop: that is the default here.
 */
import { studioError } from '../../shared/errors';
import type { InputFile } from '../files';
import { baseName, dirName, extension, readText } from '../files';
import type { LoadProgress } from '../../shared/types';
import type { ModelReader, OpenedModel } from './reader';
import { parseLabelsText, readSidecars } from './labels';
import { decodeOnnxModel, decodeRaw, dtypeName, ONNX_DTYPE, type OnnxModel } from '../onnx/onnx-proto';
import { refuseOnnxOps } from '../onnx/onnx-translate';

/** Field numbers a ModelProto has (onnx.proto): the first byte of a real file is one of their tags. */
const MODEL_FIELDS = new Set([1, 2, 3, 4, 5, 6, 7, 8, 14, 20, 25]);
const LABEL_FILES = ['labels.txt', 'synset.txt', 'imagenet_classes.txt', 'classes.txt'];
const QUANTIZED_TYPES = new Set<number>([ONNX_DTYPE.INT8, ONNX_DTYPE.UINT8]);

export function isOnnxName(name: string): boolean {
  return extension(name) === 'onnx';
}

/** A protobuf's first tag: wire type 0–5 and a field number ModelProto knows. */
function looksLikeModelProto(bytes: Uint8Array): boolean {
  const first = bytes[0];
  if (first === undefined) return false;
  const wire = first & 7;
  return wire <= 5 && MODEL_FIELDS.has(first >> 3);
}

export function decodeOnnxFile(file: InputFile, bytes: Uint8Array): OnnxModel {
  if (!looksLikeModelProto(bytes)) throw studioError('ONNX_INVALID', { file: file.name, reason: 'it does not start like a protobuf ModelProto' });
  try {
    return decodeOnnxModel(bytes);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const reason = /index out of range|premature|truncated/i.test(message) ? 'the file ends early: it is truncated' : message;
    throw studioError('ONNX_INVALID', { file: file.name, reason });
  }
}

/** Weights in an external file: found by name among the dropped files (same folder first). */
async function readExternalData(model: OnnxModel, files: InputFile[], modelFile: InputFile): Promise<void> {
  const cache = new Map<string, Uint8Array>();
  for (const tensor of model.initializers.values()) {
    const ref = tensor.external;
    if (!ref) continue;
    const wanted = baseName(ref.location);
    const candidates = files.filter((f) => f.name === wanted);
    const file = candidates.find((f) => dirName(f.path) === dirName(modelFile.path)) ?? candidates[0];
    if (!file) throw studioError('ONNX_EXTERNAL_DATA_MISSING', { file: ref.location, tensor: tensor.name });
    let bytes = cache.get(file.path);
    if (!bytes) {
      bytes = await file.bytes();
      cache.set(file.path, bytes);
    }
    const end = ref.length === null ? bytes.byteLength : ref.offset + ref.length;
    if (end > bytes.byteLength) throw studioError('ONNX_INVALID', { file: file.name, reason: `${tensor.name} lies past its end (truncated?)` });
    tensor.data = decodeRaw(bytes.subarray(ref.offset, end), tensor.dataType, tensor.name);
    delete tensor.external;
  }
}

/** labels.txt / synset.txt / imagenet_classes.txt (one per line; synset ids dropped), or a JSON list or {index: name} map. */
async function readLabels(files: InputFile[], modelFile: InputFile): Promise<{ labels?: string[]; source?: string }> {
  const sameDir = (f: InputFile) => dirName(f.path) === dirName(modelFile.path);
  const near = (f: InputFile) => sameDir(f) || files.filter((g) => g.name === f.name).length === 1;
  for (const name of LABEL_FILES) {
    const file = files.find((f) => f.name.toLowerCase() === name && near(f));
    if (!file) continue;
    // synset.txt lines read "n01440764 tench, Tinca tinca": the WordNet id is not a label.
    const labels = parseLabelsText(await readText(file)).map((l) => l.replace(/^n\d{8}\s+/, ''));
    if (labels.length > 0) return { labels, source: file.name };
  }
  for (const file of files.filter((f) => extension(f.name) === 'json' && near(f) && f.size < 4 * 1024 * 1024)) {
    try {
      const json: unknown = JSON.parse(await readText(file));
      if (Array.isArray(json) && json.length > 0 && json.every((v) => typeof v === 'string')) return { labels: json as string[], source: file.name };
      if (json && typeof json === 'object' && !Array.isArray(json)) {
        const entries = Object.entries(json as Record<string, unknown>);
        if (entries.length > 0 && entries.every(([k, v]) => /^\d+$/.test(k) && (typeof v === 'string' || (Array.isArray(v) && typeof v[v.length - 1] === 'string')))) {
          const labels: string[] = [];
          for (const [k, v] of entries) labels[Number(k)] = typeof v === 'string' ? v : String((v as unknown[])[(v as unknown[]).length - 1]);
          return { labels: Array.from(labels, (l, i) => l ?? String(i)), source: file.name };
        }
      }
    } catch {
      // not a labels file
    }
  }
  return {};
}

export const onnxReader: ModelReader = {
  name: 'onnx',

  match(files: InputFile[]): boolean {
    return files.some((f) => isOnnxName(f.name));
  },

  async open(files: InputFile[], onProgress?: (p: LoadProgress) => void): Promise<OpenedModel> {
    const modelFile = files.find((f) => isOnnxName(f.name));
    if (!modelFile) throw studioError('NO_MODEL_FILE');
    onProgress?.({ phase: 'reading', message: `Reading ${modelFile.name}…` });
    const model = decodeOnnxFile(modelFile, await modelFile.bytes());
    // Refused before any weight is read: ops it cannot run, then quantized weights.
    refuseOnnxOps(model);
    await readExternalData(model, files, modelFile);
    const quantized = [...model.initializers.values()].find((t) => QUANTIZED_TYPES.has(t.dataType));
    if (quantized) throw studioError('ONNX_DTYPE_UNSUPPORTED', { tensor: quantized.name, dtype: dtypeName(quantized.dataType) });
    const sidecars = await readSidecars(files, modelFile.path);
    const labels = sidecars.labels ? { labels: sidecars.labels } : await readLabels(files, modelFile);
    return {
      name: modelFile.name.replace(/\.onnx$/i, ''),
      format: 'onnx',
      kind: 'onnx',
      artifacts: { format: 'onnx', generatedBy: model.producer },
      onnx: model,
      labels: labels.labels,
      preprocess: sidecars.preprocess ?? { normalization: 'imagenet', resize: 'center-crop', source: 'ONNX default (torchvision: ImageNet mean/std on [0, 1] RGB)' },
      warnings: sidecars.warnings,
    };
  },
};
