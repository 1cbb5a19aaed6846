/**
 * What happens when a person opens things while other things are still loading.
 *
 * Every open (files, the demo, the browser cache) takes a ticket when it arrives, in arrival order,
 * and later says which parts it holds: a model, an image, or both. The rules:
 *  - a model load and an image open are independent: a new image never cancels a model load;
 *  - a newer model cancels only older model loads, a newer image only older images;
 *  - an image waits for every older model load still in flight (and for older opens whose files are
 *    still being sorted), so that model-then-image arrives as one pair, explained once;
 *  - the two parts of one open (a model dropped with its image) are committed together, and if either
 *    fails the open fails as a whole;
 *  - commits run one at a time, in the order decided here.
 * Generic over what a model and an image are, so the rules are unit-tested without a browser.
 */
import { studioError } from '../shared/errors';

export type OpenPart = 'model' | 'image';

type PartStatus = 'loading' | 'ready' | 'committing' | 'committed' | 'cancelled' | 'failed';

interface PartState<T> {
  status: PartStatus;
  value?: T;
  controller: AbortController;
}

interface Ticket<M, I> {
  seq: number;
  /** False until `run` says which parts this open holds (its files are still being sorted). */
  classified: boolean;
  model?: PartState<M>;
  image?: PartState<I>;
  failure?: unknown;
  settle?: (outcome: OpenOutcome<M, I> | { error: unknown }) => void;
}

/** What one open did: the parts it committed, and the parts a newer open superseded. */
export interface OpenOutcome<M, I> {
  model?: M;
  image?: I;
  cancelled: OpenPart[];
}

export interface OpenTicket {
  readonly seq: number;
}

export interface Loaders<M, I> {
  model?: (signal: AbortSignal) => Promise<M>;
  image?: (signal: AbortSignal) => Promise<I>;
}

export interface CommitHooks<M, I> {
  /** Swap the parts in. Called one at a time; a throw fails the opens involved and keeps the old state. */
  commit(change: { model?: M; image?: I }): Promise<void>;
  /** A loaded part that will never be committed (superseded, or its open failed): free it. */
  discardModel?(model: M): void;
  discardImage?(image: I): void;
}

export class OpenCoordinator<M, I> {
  private seq = 0;
  private readonly tickets: Ticket<M, I>[] = [];
  private readonly latest: Record<OpenPart, number> = { model: 0, image: 0 };
  private committing = false;

  constructor(private readonly hooks: CommitHooks<M, I>) {}

  /** Take a place in line (synchronously, as the open arrives). Follow with `run` or `abandon`. */
  begin(): OpenTicket {
    const ticket: Ticket<M, I> = { seq: ++this.seq, classified: false };
    this.tickets.push(ticket);
    return ticket;
  }

  /** The open failed before it knew its parts (its files could not be read): stop waiting for it. */
  abandon(handle: OpenTicket): void {
    const ticket = this.find(handle);
    if (!ticket) return;
    this.remove(ticket);
    void this.pump();
  }

  /** Opens in flight (tests check that settled opens are let go). */
  get inFlight(): number {
    return this.tickets.length;
  }

  /**
   * Load the parts and commit them by the rules above. Resolves once every part is committed or
   * superseded; rejects with the first part's error, or CANCELLED when `signal` aborts the open.
   */
  run(handle: OpenTicket, loaders: Loaders<M, I>, signal?: AbortSignal): Promise<OpenOutcome<M, I>> {
    const ticket = this.find(handle);
    if (!ticket) return Promise.reject(studioError('CANCELLED'));
    const done = new Promise<OpenOutcome<M, I> | { error: unknown }>((resolve) => (ticket.settle = resolve));
    ticket.classified = true;
    if (loaders.model) ticket.model = this.claim('model', ticket);
    if (loaders.image) ticket.image = this.claim('image', ticket);
    if (signal) {
      const onAbort = () => this.fail(ticket, studioError('CANCELLED'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      void done.then(() => signal.removeEventListener('abort', onAbort));
    }
    this.start(ticket, 'model', loaders.model);
    this.start(ticket, 'image', loaders.image);
    this.settleIfDone(ticket);
    void this.pump();
    return done.then((outcome) => {
      if ('error' in outcome) throw outcome.error;
      return outcome;
    });
  }

  // ---- internals -------------------------------------------------------------------------------
  private find(handle: OpenTicket): Ticket<M, I> | undefined {
    return this.tickets.find((t) => t.seq === handle.seq);
  }

  private remove(ticket: Ticket<M, I>): void {
    const at = this.tickets.indexOf(ticket);
    if (at >= 0) this.tickets.splice(at, 1);
  }

  /** A newer open of the same part wins: older ones are cancelled, and this one is if a newer one exists. */
  private claim<T>(part: OpenPart, ticket: Ticket<M, I>): PartState<T> {
    const state: PartState<T> = { status: 'loading', controller: new AbortController() };
    if (this.latest[part] > ticket.seq) {
      state.status = 'cancelled';
      return state;
    }
    this.latest[part] = ticket.seq;
    for (const other of this.tickets) {
      if (other !== ticket && other.seq < ticket.seq) this.cancelPart(other, part);
    }
    return state;
  }

  private cancelPart(ticket: Ticket<M, I>, part: OpenPart): void {
    const state = ticket[part];
    if (!state || (state.status !== 'loading' && state.status !== 'ready')) return;
    if (state.status === 'ready') this.discard(part, state.value);
    state.status = 'cancelled';
    state.value = undefined;
    state.controller.abort();
    this.settleIfDone(ticket);
  }

  private discard(part: OpenPart, value: unknown): void {
    if (value === undefined) return;
    if (part === 'model') this.hooks.discardModel?.(value as M);
    else this.hooks.discardImage?.(value as I);
  }

  private start<T>(ticket: Ticket<M, I>, part: OpenPart, loader: ((signal: AbortSignal) => Promise<T>) | undefined): void {
    const state = ticket[part] as PartState<T> | undefined;
    if (!loader || !state || state.status !== 'loading') return;
    let promise: Promise<T>;
    try {
      promise = loader(state.controller.signal);
    } catch (e) {
      promise = Promise.reject(e);
    }
    promise.then(
      (value) => {
        if (state.status !== 'loading') {
          this.discard(part, value); // superseded or failed while it loaded
          return;
        }
        state.status = 'ready';
        state.value = value;
        void this.pump();
      },
      (e) => {
        if (state.status !== 'loading') return; // cancelled: its error is only the abort
        state.status = 'failed';
        this.fail(ticket, e);
      },
    );
  }

  /** One part failed (or the open was cancelled): the open fails as a whole, its other part is freed. */
  private fail(ticket: Ticket<M, I>, error: unknown): void {
    if (ticket.failure !== undefined || !ticket.settle) return;
    ticket.failure = error;
    for (const part of ['model', 'image'] as const) {
      const state = ticket[part];
      if (!state || state.status === 'committed' || state.status === 'committing') continue;
      if (state.status === 'ready') this.discard(part, state.value);
      if (state.status === 'loading' || state.status === 'ready') state.status = 'failed';
      state.value = undefined;
      state.controller.abort();
    }
    this.settleIfDone(ticket);
    void this.pump();
  }

  private settleIfDone(ticket: Ticket<M, I>): void {
    if (!ticket.settle || !ticket.classified) return;
    const parts = [ticket.model, ticket.image].filter((p): p is PartState<M> | PartState<I> => !!p);
    if (parts.some((p) => p.status === 'loading' || p.status === 'ready' || p.status === 'committing')) return;
    const settle = ticket.settle;
    ticket.settle = undefined;
    this.remove(ticket);
    // A part that was committed is on screen: the open reports it even if it was aborted meanwhile.
    const committed = parts.some((p) => p.status === 'committed');
    if (ticket.failure !== undefined && !committed) {
      settle({ error: ticket.failure });
      return;
    }
    const outcome: OpenOutcome<M, I> = { cancelled: [] };
    if (ticket.model?.status === 'committed') outcome.model = ticket.model.value;
    else if (ticket.model) outcome.cancelled.push('model');
    if (ticket.image?.status === 'committed') outcome.image = ticket.image.value;
    else if (ticket.image) outcome.cancelled.push('image');
    settle(outcome);
  }

  /** Decide what can be committed now, commit it, and look again. */
  private async pump(): Promise<void> {
    if (this.committing) return;
    const pick = this.nextCommit();
    if (!pick) return;
    const { modelTicket, imageTicket } = pick;
    const involved = [...new Set([modelTicket, imageTicket].filter((t): t is Ticket<M, I> => !!t))];
    const parts: PartState<unknown>[] = [];
    if (modelTicket?.model) parts.push(modelTicket.model);
    if (imageTicket?.image) parts.push(imageTicket.image);
    for (const p of parts) p.status = 'committing';
    this.committing = true;
    try {
      await this.hooks.commit({ model: modelTicket?.model?.value, image: imageTicket?.image?.value });
      for (const p of parts) p.status = 'committed';
    } catch (e) {
      for (const p of parts) p.status = 'ready'; // fail() discards them
      for (const t of involved) this.fail(t, e);
    } finally {
      this.committing = false;
    }
    for (const t of involved) this.settleIfDone(t);
    void this.pump();
  }

  private nextCommit(): { modelTicket?: Ticket<M, I>; imageTicket?: Ticket<M, I> } | null {
    const newest = (part: OpenPart) => this.tickets.find((t) => t.seq === this.latest[part] && t[part]?.status === 'ready');
    let modelTicket = newest('model');
    let imageTicket = newest('image');
    // A model dropped with its image waits for that image (unless a newer image superseded it).
    if (modelTicket?.image && modelTicket.image.status !== 'cancelled' && modelTicket.image.status !== 'committed') {
      if (modelTicket.image.status !== 'ready') modelTicket = undefined;
      else imageTicket = modelTicket;
    }
    if (imageTicket && imageTicket !== modelTicket) {
      // An image waits for every older (or its own) model load still in flight, and for older opens
      // not yet sorted: it is paired with that model when it arrives.
      const waitsFor = (t: Ticket<M, I>) =>
        t !== modelTicket && t.seq <= imageTicket!.seq && (!t.classified || t.model?.status === 'loading' || t.model?.status === 'ready');
      if (this.tickets.some(waitsFor)) imageTicket = undefined;
    }
    if (!modelTicket && !imageTicket) return null;
    return { modelTicket, imageTicket };
  }
}
