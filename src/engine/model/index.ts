/** The loaded model: loading (load.ts), its summary (summary.ts), warm-up, image cache and explain entry point. */
export { loadModel, loadedModelFromOpened, loadedModelFromLayersModel, loadedModelFromHost, type LoadedModelMeta } from './load';
export type { LoadedModel } from './loaded-model';
export { binaryLabels, headKind, predictionsOf, type OutputValues } from './summary';
