/**
 * The worker's API: the union of its feature modules. Its type is derived from them (StudioWorkerApi),
 * never written out, so an operation is spelled once — in its feature module — and the page sees it
 * through src/protocol. Every operation but the client's own life calls (LifecycleOperation) takes the
 * request id first, so the page can cancel any of them (`cancel(requestId)`).
 */
import { makeBenchApi } from './features/bench';
import { makeExplainApi } from './features/explain';
import { makeGalleryApi } from './features/gallery';
import { makeLifecycleApi } from './features/lifecycle';
import { makeLiveApi } from './features/live';
import { makeMetricsApi } from './features/metrics';
import { makeOpenApi } from './features/open';
import { makeTestHooksApi } from './features/test-hooks';
import { makeViewApi } from './features/view';
import type { Lanes } from './lane';
import type { WorkerSession } from './session';

export function makeStudioApi(session: WorkerSession, lanes: Lanes) {
  return {
    ...makeLifecycleApi(session),
    ...makeOpenApi(session, lanes),
    ...makeExplainApi(session, lanes),
    ...makeViewApi(session, lanes),
    ...makeMetricsApi(session, lanes),
    ...makeLiveApi(session, lanes),
    ...makeGalleryApi(session, lanes),
    ...makeBenchApi(session, lanes),
    ...makeTestHooksApi(),
  };
}

export type StudioWorkerApi = ReturnType<typeof makeStudioApi>;

/** The calls the client makes for the worker's own life (no request id): start, channel, canvases, watchdog, cancel. */
export type LifecycleOperation = 'init' | 'listen' | 'attachCanvases' | 'ping' | 'cancel';

/** Every other operation: called through the client's generic bridge with a request id. */
export type WorkerOperation = Exclude<keyof StudioWorkerApi, LifecycleOperation>;

/** An operation's arguments after its request id. */
export type OperationArgs<K extends WorkerOperation> = Parameters<StudioWorkerApi[K]> extends [number, ...infer Rest] ? Rest : never;

export type OperationResult<K extends WorkerOperation> = Awaited<ReturnType<StudioWorkerApi[K]>>;
