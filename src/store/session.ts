/**
 * The store's session primitives, below every feature's actions: the worker client, the notices, and
 * the busy tracking every operation runs under. Rule for every action: on failure push a coded
 * notice and keep what is on screen (model, image, explanation); never clear state before its
 * replacement has succeeded. CANCELLED (a newer request won) is not an error and is never shown.
 */
import { studioError, toStudioError, type StudioNotice } from '../shared/errors';
import type { StudioClientPort } from './client-port';
import { NOTICE_HISTORY, useStore, type NoticeLevel, type UiNotice } from './store';

let client: StudioClientPort | null = null;
let clientReady: Promise<StudioClientPort> | null = null;
let resolveClientReady: ((c: StudioClientPort) => void) | null = null;
let noticeSeq = 0;

export type ExplainOutcome = 'ok' | 'failed' | 'cancelled' | 'skipped';

/** The client, once `boot()` made it (for tests and the `window.__studio` hook). */
export function getClient(): StudioClientPort | null {
  return client;
}

export function whenClient(): Promise<StudioClientPort> {
  if (client) return Promise.resolve(client);
  if (!clientReady) clientReady = new Promise((resolve) => (resolveClientReady = resolve));
  return clientReady;
}

/** Boot made the client: every action waiting in `whenClient` goes on. */
export function setClient(made: StudioClientPort): void {
  client = made;
  resolveClientReady?.(made);
}

export function requireClient(): StudioClientPort {
  if (!client) throw studioError('INTERNAL', { reason: 'the worker client is not started' });
  return client;
}

/** The id of the newest notice (an operation's start: only errors before it count as resolved when it succeeds). */
export function lastNoticeId(): number {
  return noticeSeq;
}

export function pushNotice(n: StudioNotice | { code: null; message: string }, level: NoticeLevel): void {
  const entry: UiNotice = { id: ++noticeSeq, code: n.code, message: n.message, level, time: Date.now() };
  useStore.setState((s) => ({
    status: {
      ...s.status,
      notices: [...s.status.notices, entry].slice(-NOTICE_HISTORY),
      // An error with nothing else running is the page's outcome; while busy, the op's end decides.
      outcome: level === 'error' && s.status.pending === 0 ? 'error' : s.status.outcome,
    },
  }));
}

export function dismissNotices(): void {
  useStore.setState((s) => ({ status: { ...s.status, notices: [] } }));
}

export function isCancelled(e: unknown): boolean {
  if (e && typeof e === 'object' && 'name' in e && (e as { name: unknown }).name === 'AbortError') return true;
  return toStudioError(e).code === 'CANCELLED';
}

function begin(phase: string): void {
  useStore.setState((s) => ({ status: { ...s.status, pending: s.status.pending + 1, phase } }));
}

/** `since`: the last notice id when the operation began; only errors before it count as resolved. */
function end(outcome: 'ready' | 'error' | null, since: number): void {
  useStore.setState((s) => {
    const pending = Math.max(0, s.status.pending - 1);
    return {
      status: {
        ...s.status,
        pending,
        outcome: outcome ?? s.status.outcome,
        resolvedUpTo: outcome === 'ready' ? Math.max(s.status.resolvedUpTo, since) : s.status.resolvedUpTo,
        phase: pending === 0 ? null : s.status.phase,
        progress: pending === 0 ? null : s.status.progress,
        explainProgress: pending === 0 ? null : s.status.explainProgress,
      },
    };
  });
}

export type Tracked<T> = { ok: true; value: T } | { ok: false; cancelled: boolean };

/** Run one operation with the busy indicator; a failure becomes a coded error notice. */
export async function track<T>(phase: string, op: () => Promise<T>): Promise<Tracked<T>> {
  begin(phase);
  const since = noticeSeq;
  try {
    const value = await op();
    end('ready', since);
    return { ok: true, value };
  } catch (e) {
    if (isCancelled(e)) {
      end(null, since);
      return { ok: false, cancelled: true };
    }
    pushNotice(toStudioError(e).toNotice(), 'error');
    end('error', since);
    return { ok: false, cancelled: false };
  }
}


/** Forget the client (unit tests). */
export function resetSessionForTest(): void {
  client = null;
  clientReady = null;
  resolveClientReady = null;
}
