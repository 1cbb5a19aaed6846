/**
 * The engine's front door: what the worker, the CLI and the scripts use. Code outside src/engine
 * imports from here (or, in Node, from node/index.ts for file and image reading); the engine's
 * own files and its tests import each other directly.
 */
export { useBackend, type BackendStart } from './backend';
export { fromBrowserFile, fromBytes, type InputFile, type RawImage } from './files';
export { decodeSize, displayedSize, MAX_IMAGE_SIDE, refuseFromHeader, sniffImage, type ImageSniff } from './image-sniff';
export { cropBox, NORMALIZATION_PRESETS, preprocessImage, resolvePreprocess, RESIZE_MODES, type CropBox } from './preprocess';
export { classifyFiles } from './formats/index';
export { attachLabels, isLabelsOnly } from './formats/attach-labels';
export { exportLayersModelAsTfjs, type ExportedFile } from './formats/export-tfjs';
export { checkModelSize, defaultMemoryBudgetMb } from './formats/memory-estimate';
export { loadModel, loadedModelFromLayersModel, loadedModelFromOpened, type LoadedModel } from './model/index';
export { requestedMethods, resolveRequest, resolveTarget, type ResolvedRequest, type ResolvedTarget } from './request';
export { explainBatch, explainEach, GALLERY_MAP_SIZE, type BatchExplainOptions, type BatchItemResult } from './batch-explain';
export { yieldToEvents } from './methods/context';
export { flattenTree } from './tree';
export { classProbability, measureFaithfulness } from './metrics/measure';
export { scoreFaithfulness } from './metrics/faithfulness';
export { sanityCheck } from './metrics/sanity';
export { Rng } from './metrics/random';
// The executor, for the bench scripts that time its parts.
export { compileProgram, type Program, type ProgramTreeNode, type Step } from './executor/program';
export { downstreamSteps } from './executor/forward';
