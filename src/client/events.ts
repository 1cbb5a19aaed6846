/** What the client reports outside any request (the store listens: src/store/session.ts). */
import type { BackendInfo, LoadProgress } from '../shared/types';

export type ClientEvent =
  /**
   * `retrying`: an explanation was in flight and is being retried on the new worker. `reported`: the
   * call that died fails with its own coded error (a trap, a hang), so this event need not be shown.
   */
  | { type: 'restarted'; reason: string; backend: BackendInfo; code: 'WORKER_CRASHED' | 'DEVICE_LOST'; retrying: boolean; reported?: boolean }
  | { type: 'backend'; info: BackendInfo }
  | { type: 'progress'; progress: LoadProgress };
