/**
 * A lane: the worker's one primitive for work that must not overlap. Tasks run one at a time in the
 * order they arrive; each gets its own AbortSignal, aborted by the caller's signal (the page's cancel)
 * or by the lane. A task may supersede the tasks of named kinds still queued or running on the lane
 * ("newest wins"): they are aborted first, and the new task runs once they have stopped.
 *
 * The worker has four: explanations and measurements (a new explanation supersedes both, a new
 * measurement only measurements), drawing (every panel redraw reads the latest state), the gallery
 * (a new run supersedes the old) and live frames (a new frame supersedes the one in flight).
 */
import { studioError } from '../shared/errors';

interface Running {
  kind: string;
  controller: AbortController;
}

export interface LaneTaskOptions {
  /** The caller's signal (a request's cancel): aborting it aborts the task. */
  signal?: AbortSignal;
  /** What the task is, for `supersedes` and `abort` (default 'task'). */
  kind?: string;
  /** Kinds whose tasks queued or in flight are aborted before this one is queued (newest wins). */
  supersedes?: readonly string[];
}

export class Lane {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly running = new Set<Running>();

  constructor(readonly name: string) {}

  /** Queue `task`; it rejects with CANCELLED when aborted before it starts. */
  run<T>(task: (signal: AbortSignal) => Promise<T>, options: LaneTaskOptions = {}): Promise<T> {
    if (options.supersedes) this.abort(options.supersedes);
    const controller = new AbortController();
    const entry: Running = { kind: options.kind ?? 'task', controller };
    const outer = options.signal;
    const forward = () => controller.abort();
    if (outer?.aborted) controller.abort();
    else outer?.addEventListener('abort', forward, { once: true });
    this.running.add(entry);
    const result = this.tail.then(() => {
      if (controller.signal.aborted) throw studioError('CANCELLED');
      return task(controller.signal);
    });
    this.tail = result.catch(() => undefined);
    return result.finally(() => {
      this.running.delete(entry);
      outer?.removeEventListener('abort', forward);
    });
  }

  /** Abort the tasks queued or running (of these kinds; every kind when none is given). */
  abort(kinds?: readonly string[]): void {
    for (const entry of this.running) if (!kinds || kinds.includes(entry.kind)) entry.controller.abort();
  }

  /** Resolves once every task queued so far has settled. */
  async idle(): Promise<void> {
    await this.tail;
  }

  /** Tasks queued or running. */
  get size(): number {
    return this.running.size;
  }
}

/** The worker's lanes (see Lane). */
export interface Lanes {
  explain: Lane;
  draw: Lane;
  gallery: Lane;
  live: Lane;
}

export function createLanes(): Lanes {
  return { explain: new Lane('explain'), draw: new Lane('draw'), gallery: new Lane('gallery'), live: new Lane('live') };
}
