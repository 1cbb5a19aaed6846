/**
 * Every failure the user can see has a code and a human message, defined here and nowhere else.
 * Engine, worker and UI all throw/show `StudioError`s; messages are templates filled from `detail`.
 */
export const ERROR_MESSAGES = {
  // Loading: files
  NO_MODEL_FILE: () => 'No model found among the dropped files. Drop a model.json with its weight files, a .zip, a Keras .h5/.keras file, an ONNX .onnx file, or a folder.',
  LABELS_WITHOUT_MODEL: (d: { file: string }) => `${d.file} holds class labels; open a model first, then its labels attach to it.`,
  LABELS_EMPTY: (d: { file: string }) => `${d.file} holds no class labels (one per line in labels.txt, or a "labels" list in metadata.json).`,
  LABELS_NOT_ATTACHED: (d: { file: string; labels: number; classes: number }) =>
    `${d.file} has ${d.labels} labels but the model has ${d.classes} classes; the labels were not attached.`,
  MODEL_JSON_INVALID: (d: { file: string; reason: string }) => `${d.file} is not valid JSON (${d.reason}).`,
  NOT_A_TFJS_MODEL: (d: { file: string }) => `${d.file} is JSON but not a TF.js model (no modelTopology with a Keras model config or a graph).`,
  GRAPH_MODEL_UNSUPPORTED: (d: { file: string }) => `${d.file} is a TF.js graph model; Grad-CAM needs a layers model (convert with --output_format=tfjs_layers_model).`,
  GRAPH_MODEL_INVALID: (d: { reason: string }) => `The graph model is not valid: ${d.reason}.`,
  GRAPH_OP_UNSUPPORTED: (d: { op: string; node: string }) => `The graph model uses the op ${d.op} (node "${d.node}"), which cannot be run here (control flow and dynamic ops are not supported).`,
  MISSING_SHARD: (d: { name: string }) => `Weight file "${d.name}" is missing: drop it together with model.json.`,
  SHARD_SIZE_MISMATCH: (d: { name: string; expected: number; actual: number }) => `Weight file "${d.name}" has ${d.actual} bytes but the manifest says ${d.expected}.`,
  WEIGHTS_NONFINITE: (d: { names: string }) => `Weights contain NaN or Infinity (${d.names}); results may be meaningless.`,
  UNSUPPORTED_LAYER: (d: { layer: string; className: string }) => `Layer "${d.layer}" uses class ${d.className}, which cannot be loaded in the browser (custom or Lambda layers carry Python code).`,
  WEIGHT_SHAPE_MISMATCH: (d: { weight: string; expected: string; actual: string }) => `Weight "${d.weight}" has shape [${d.actual}] but the layer expects [${d.expected}].`,
  MODEL_BUILD_FAILED: (d: { reason: string }) => `The model could not be built: ${d.reason}`,
  ONNX_INVALID: (d: { file: string; reason: string }) => `${d.file} is not a readable ONNX model (${d.reason}).`,
  ONNX_OP_UNSUPPORTED: (d: { op: string; node: string; opset: number; reason?: string }) => `The ONNX model uses ${d.op} (node "${d.node}", opset ${d.opset}), which cannot be run here${d.reason ? ` (${d.reason})` : ''}.`,
  ONNX_EXTERNAL_DATA_MISSING: (d: { file: string; tensor: string }) => `The ONNX model keeps the weight ${d.tensor} in ${d.file}, which was not dropped with it: drop the model together with ${d.file}.`,
  ONNX_DTYPE_UNSUPPORTED: (d: { tensor: string; dtype: string }) => `The ONNX model stores ${d.tensor} as ${d.dtype}; only float models can be explained (quantized int8/uint8 models cannot).`,
  MULTI_INPUT: (d: { count: number }) => `This model has ${d.count} inputs; only single-image-input models can be explained.`,
  MULTI_OUTPUT: (d: { count: number; name: string }) => `This model has ${d.count} outputs; explaining "${d.name}" — pick another output in the target panel.`,
  TOKENS_NOT_A_GRID: (d: { node: string; tokens: number; grid: string }) => `The tokens of ${d.node} (${d.tokens}) are not the ${d.grid} patch grid plus up to two class tokens: that layer is not shown as a map.`,
  INPUT_SIZE_ASSUMED: (d: { size: string }) => `The model accepts any image size; images are resized to ${d.size}.`,
  INPUT_NOT_IMAGE: (d: { shape: string }) => `The model's input shape [${d.shape}] is not an image (expected [batch, height, width, 1 or 3]).`,
  OUTPUT_NOT_FOUND: (d: { output: string; count: number }) => `Output ${d.output} does not exist: the model has ${d.count} output(s).`,
  NO_SPATIAL_LAYER: () => 'No layer has a spatial (height × width × channels) output, so Grad-CAM cannot run; guided backprop still works.',
  MODEL_TOO_LARGE: (d: { mb: number; budgetMb: number }) => `This model needs about ${d.mb} MB, above the ${d.budgetMb} MB memory budget; loading may fail or be slow.`,
  KERAS_UNSUPPORTED: (d: { reason: string }) => `This Keras file cannot be read: ${d.reason}`,
  LABELS_COUNT_MISMATCH: (d: { labels: number; classes: number }) => `The label file names ${d.labels} classes but the model has ${d.classes}; ${d.labels > d.classes ? `the first ${d.classes} are used — is it the right file?` : 'the rest are shown as "class N"'}`,
  TRAINING_ONLY_LAYER: (d: { layer: string; className: string }) => `Layer "${d.layer}" (${d.className}) only acts during training; here it passes its input through unchanged.`,
  ZIP_INVALID: (d: { file: string; reason: string }) => `${d.file} is not a readable zip (${d.reason}).`,
  ZIP_TOO_LARGE: (d: { file: string; entry: string; limit: string }) => `${d.file} unpacks to more than ${d.limit} (reached at ${d.entry}); refused before it filled memory. Unzip it and drop the files you need.`,
  ZIP_ENTRY_TOO_LARGE: (d: { file: string; entry: string; size: string; limit: string }) => `${d.entry} in ${d.file} unpacks to ${d.size}, above the ${d.limit} limit for one file; refused.`,
  ZIP_TOO_MANY_ENTRIES: (d: { file: string; entry: string; limit: number }) => `${d.file} has more than ${d.limit} files (reached at ${d.entry}); refused.`,
  ZIP_TOO_DEEP: (d: { file: string; limit: number }) => `${d.file} is a zip inside zips more than ${d.limit} deep; refused.`,
  ZIP_RATIO_TOO_HIGH: (d: { file: string; entry: string; ratio: number; limit: number }) => `${d.entry} in ${d.file} unpacks ${d.ratio} times larger than it is stored (limit ${d.limit}×): a zip bomb, refused.`,
  WEIGHTS_MANIFEST_INVALID: (d: { file: string; reason: string }) => `${d.file} has an invalid weights manifest (${d.reason}).`,
  FILE_NOT_FOUND: (d: { path: string; reason: string }) => `${d.path} cannot be read (${d.reason}).`,
  NOT_A_FILE: (d: { path: string; kind: string }) => `${d.path} is a ${d.kind}, not a regular file.`,
  NOT_A_FOLDER: (d: { path: string }) => `${d.path} exists and is not a folder.`,
  FILE_PERMISSION_DENIED: (d: { path: string }) => `${d.path} cannot be opened: permission denied.`,
  FILE_READ_FAILED: (d: { path: string; reason: string }) => `${d.path} could not be read (${d.reason}).`,
  FILE_READ_TIMEOUT: (d: { path: string; seconds: number }) => `Reading ${d.path} did not finish within ${d.seconds} s; skipped.`,
  FILE_TOO_LARGE: (d: { path: string; mb: number; limitMb: number }) => `${d.path} is ${d.mb} MB, above the ${d.limitMb} MB limit.`,
  FILE_WRITE_FAILED: (d: { path: string; reason: string }) => `${d.path} could not be written (${d.reason}).`,
  SYMLINK_LOOP: (d: { path: string }) => `${d.path} is a symbolic link that loops back on itself.`,
  MODEL_CONFIG_INVALID: (d: { layer: string; field: string; value: string; reason: string }) => `Layer "${d.layer}" has ${d.field} ${d.value}: ${d.reason}.`,
  INPUT_SIZE_INVALID: (d: { shape: string; reason: string }) => `The model's input shape ${d.shape} cannot be used: ${d.reason}.`,
  LAYER_OUTPUT_EMPTY: (d: { layer: string; shape: string; input: string }) => `Layer "${d.layer}" would output [${d.shape}] for this model's ${d.input} input: the input is too small for this network.`,
  ACTIVATIONS_TOO_LARGE: (d: { size: string; limit: string; input: string }) => `Explaining one ${d.input} image with this model needs about ${d.size} of activations, more than a browser tab can hold (${d.limit}).`,
  // Images
  NO_IMAGE: () => 'No image to explain yet: drop, paste or pick an image.',
  IMAGE_DECODE_FAILED: (d: { file: string }) => `${d.file} could not be decoded as an image (PNG, JPEG, WebP, BMP or GIF).`,
  IMAGE_EMPTY: (d: { file: string }) => `${d.file} has no pixels (0×0).`,
  IMAGE_DOWNSCALED: (d: { file: string; width: number; height: number; toWidth: number; toHeight: number }) => `${d.file} is ${d.width}×${d.height}; it was downscaled to ${d.toWidth}×${d.toHeight}.`,
  IMAGE_ANIMATED: (d: { file: string }) => `${d.file} is animated; its first frame is used.`,
  IMAGE_FORMAT_UNSUPPORTED: (d: { file: string; format: string }) => `${d.file} is a ${d.format} image, which browsers cannot decode; convert it to PNG or JPEG and open that.`,
  IMAGE_CORRUPT: (d: { file: string; reason: string }) => `${d.file} is not a readable image: ${d.reason}.`,
  IMAGE_SVG_UNSUPPORTED: (d: { file: string }) => `${d.file} is an SVG drawing that could not be rasterised here; export it as PNG and drop that.`,
  UNKNOWN_FILE: (d: { file: string }) => `${d.file} is neither a model file nor an image; ignored.`,
  // Explaining
  NO_MODEL: () => 'No model loaded yet: drop a model or open the demo.',
  LAYER_NOT_FOUND: (d: { path: string }) => `No layer "${d.path}" in this model.`,
  NO_ATTENTION: (d: { method: string }) => `${d.method} needs a vision transformer's attention matrices (a Softmax over tokens, [heads, N, N]); this model has none: pick a CAM method instead.`,
  LAYER_NOT_SPATIAL: (d: { path: string }) => `Layer "${d.path}" has no spatial output; Grad-CAM needs a layer with height × width × channels.`,
  METHOD_UNKNOWN: (d: { method: string; known: string }) => `No method "${d.method}": choose one of ${d.known}.`,
  CLASS_NOT_FOUND: (d: { query: string; count: number }) => `No class "${d.query}": give an index 0–${d.count - 1} or one of the labels.`,
  MAP_ALL_ZERO: (d: { reason: string }) => `The map is all zero: ${d.reason}`,
  GRADIENT_UNSUPPORTED: (d: { op: string; backend: string }) => `The ${d.backend} backend cannot differentiate ${d.op}.`,
  GRADIENT_METHODS_SKIPPED: (d: { op: string; methods: string }) => `This model has an op without a gradient (${d.op}), so ${d.methods} cannot run; the gradient-free methods (Occlusion, RISE, LIME, KernelSHAP…) still explain it.`,
  CANCELLED: () => 'Cancelled by a newer request.',
  // Faithfulness and the sanity check
  METRICS_NOTHING_EXPLAINED: () => 'Nothing to measure yet: explain the image first (the scores are of the maps on screen).',
  FAITHFULNESS_CONSTANT_MAP: (d: { method: string }) => `The ${d.method} map is the same value everywhere (a 1×1 layer?): it ranks no pixel above another, so its faithfulness scores mean nothing; pick a layer with a larger grid.`,
  METRICS_METHODS_GRID: () => 'The faithfulness scores and the sanity check compare methods: choose "Compare methods" first.',
  SANITY_LAYERS_ONLY: () => 'The sanity check rebuilds randomised copies of a layers model (TF.js layers or Keras); it does not run on a TF.js graph or ONNX model yet.',
  SANITY_NO_LAYER_TO_RANDOMISE: () => 'The sanity check randomises convolution and dense layers, and this model has none.',
  // Runtime
  DEMO_UNAVAILABLE: (d: { file: string; reason: string }) => `The built-in demo could not be loaded (${d.file}: ${d.reason}); drop a model instead.`,
  BACKEND_FAILED: (d: { backend: string; reason: string }) => `The ${d.backend} backend could not start: ${d.reason}`,
  WASM_THREADS_FAILED: (d: { threads: number; reason: string }) => `The threaded WASM build (${d.threads} threads) did not start (${d.reason}); the worker was restarted single-threaded.`,
  WORKER_CRASHED: (d: { reason: string }) => `The computation worker stopped (${d.reason}); it was restarted and the model reloaded.`,
  DEVICE_LOST: (d: { reason: string }) => `The GPU device was lost (${d.reason}); switched to the next backend.`,
  BACKEND_TRAPPED: (d: { reason: string; during: string }) => `The computation failed inside WebAssembly (${d.reason}) while ${d.during}; the worker was restarted with your model and image.`,
  WORKER_UNRESPONSIVE: (d: { seconds: number; during: string }) => `The computation worker did not answer for ${d.seconds} s while ${d.during}; it was replaced, with your model and image.`,
  INTERNAL: (d: { reason: string }) => `Unexpected error: ${d.reason}`,
  // Gallery (many images)
  GALLERY_EMPTY: () => 'No gallery yet: drop a folder of images (subfolders = true labels), several images, or a zip of them.',
  // Command line
  BAD_ARGUMENT: (d: { reason: string }) => `Bad argument: ${d.reason}`,
  BATCH_LOCKED: (d: { csv: string; pid: number }) => `${d.csv} is being written by another run (process ${d.pid}); wait for it to finish, or delete ${d.csv}.lock if that process is gone.`,
  CAMERA_UNAVAILABLE: (d: { reason: string }) => `The camera could not be started: ${d.reason}`,
  CAMERA_PERMISSION_DENIED: (d: { reason: string }) => `Camera access is not allowed (${d.reason}); allow it in the browser's site settings, then start again.`,
  CAMERA_NOT_FOUND: (d: { reason: string }) => `No camera was found (${d.reason}); connect one or choose another.`,
  CAMERA_IN_USE: (d: { reason: string }) => `The camera could not be read (${d.reason}); another app may be using it.`,
  CAMERA_ENDED: (d: { reason: string }) => `Live mode stopped: ${d.reason}. Choose a camera to start again.`,
  // Sharing (page side)
  CLIPBOARD_FAILED: (d: { reason: string }) => `The image could not be copied to the clipboard: ${d.reason}`,
  SHARE_FAILED: (d: { reason: string }) => `The image could not be shared: ${d.reason}`,
  EXPORT_FAILED: (d: { reason: string }) => `The PNG could not be made: ${d.reason}`,
  MODEL_EXPORT_FAILED: (d: { reason: string }) => `The model could not be exported as TF.js files: ${d.reason}`,
} as const;

export type ErrorCode = keyof typeof ERROR_MESSAGES;
export type ErrorDetail<C extends ErrorCode> = Parameters<(typeof ERROR_MESSAGES)[C]>[0];

/** Warnings use the same codes and messages but do not stop the operation. */
export interface StudioNotice {
  code: ErrorCode;
  message: string;
}

export class StudioError extends Error {
  readonly code: ErrorCode;
  readonly detail: unknown;
  constructor(code: ErrorCode, message: string, detail?: unknown) {
    super(message);
    this.name = 'StudioError';
    this.code = code;
    this.detail = detail;
  }
  toNotice(): StudioNotice {
    return { code: this.code, message: this.message };
  }
}

/** Build the coded error: `studioError('MISSING_SHARD', { name })`. */
export function studioError<C extends ErrorCode>(code: C, ...detail: ErrorDetail<C> extends undefined ? [] : [ErrorDetail<C>]): StudioError {
  const make = ERROR_MESSAGES[code] as (d?: unknown) => string;
  return new StudioError(code, make(detail[0]), detail[0]);
}

export function notice<C extends ErrorCode>(code: C, ...detail: ErrorDetail<C> extends undefined ? [] : [ErrorDetail<C>]): StudioNotice {
  return studioError(code, ...detail).toNotice();
}

/** Anything caught becomes a StudioError so that the status region always has a code to show. */
export function toStudioError(e: unknown): StudioError {
  if (e instanceof StudioError) return e;
  if (e && typeof e === 'object' && 'code' in e && 'message' in e && typeof (e as { code: unknown }).code === 'string' && (e as { code: string }).code in ERROR_MESSAGES) {
    const err = e as { code: ErrorCode; message: string; detail?: unknown };
    return new StudioError(err.code, err.message, err.detail);
  }
  const reason = e instanceof Error ? e.message : String(e);
  return studioError('INTERNAL', { reason });
}
