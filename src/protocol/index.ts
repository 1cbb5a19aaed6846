/**
 * The page/worker contract: the data each feature sends and gets back (one file per feature), and
 * the worker's API type. That type is not written out here: it is derived from the worker's feature
 * modules (src/worker/api.ts), so an operation is spelled once, where it is implemented. A type-only
 * import: nothing of the worker is bundled into the page through this file.
 */
export type * from './session';
export type * from './open';
export type * from './explain';
export type * from './view';
export type * from './metrics';
export type * from './live';
export type * from './gallery';
export type * from './bench';
export type { StudioWorkerApi, WorkerOperation, OperationArgs, OperationResult } from '../worker/api';
