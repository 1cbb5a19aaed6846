/**
 * The computation worker: one WorkerSession (what it holds), four lanes (what must not overlap) and
 * the feature modules' operations over them, exposed to the page through Comlink. Everything else
 * lives in the feature modules (src/worker/features/); docs/architecture.md says how they fit.
 */
import * as Comlink from 'comlink';
import { makeStudioApi } from './api';
import { createLanes } from './lane';
import { WorkerSession } from './session';

Comlink.expose(makeStudioApi(new WorkerSession(), createLanes()));
