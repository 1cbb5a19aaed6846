/**
 * What a new worker must be given to show what the page shows: the open that brought the committed
 * model, the one that brought the committed image (by the tokens the worker's CommittedState names),
 * the view, and the gallery's files. The bridge tells it about every open, state and setting as they
 * pass; after a restart it replays them, in that order.
 */
import * as Comlink from 'comlink';
import { studioError } from '../shared/errors';
import type { ViewOptions } from '../shared/types';
import type { CommittedState, DroppedResult, TransferredFile } from '../protocol/open';
import type { StudioWorkerApi } from '../protocol';

type Remote = Comlink.Remote<StudioWorkerApi>;
export type OpenSource = { kind: 'files'; files: TransferredFile[] } | { kind: 'demo'; sample?: string } | { kind: 'cache' };

interface Opened {
  source: OpenSource;
  token: string;
}

/** Opens remembered by token until the worker's state names them (a few opens can be in flight at once). */
const OPEN_HISTORY = 32;

export class Replay {
  private modelSource: Opened | null = null;
  private imageSource: Opened | null = null;
  private readonly opened = new Map<string, OpenSource>();
  private openSeq = 0;
  /** The newest committed-state version seen: a restarted worker counts on from here. */
  stateVersion = 0;
  view: ViewOptions | null = null;
  /** The files of the last drop that filled the gallery. */
  galleryFiles: TransferredFile[] | null = null;

  /** A fresh token for an open, remembered with its source until the worker's state names it. */
  newOpen(source: OpenSource): string {
    const token = `open-${++this.openSeq}`;
    this.opened.set(token, source);
    if (this.opened.size > OPEN_HISTORY) {
      const oldest = this.opened.keys().next().value;
      if (oldest !== undefined) this.opened.delete(oldest);
    }
    return token;
  }

  /** Follow the worker's committed state: what a restarted worker must reload is what it committed last. */
  noteState(state: CommittedState | undefined): void {
    if (!state || state.version <= this.stateVersion) return;
    this.stateVersion = state.version;
    const follow = (part: { token: string } | null, current: Opened | null): Opened | null => {
      if (!part) return null;
      if (current?.token === part.token) return current;
      const source = this.opened.get(part.token);
      return source ? { source, token: part.token } : current;
    };
    this.modelSource = follow(state.model, this.modelSource);
    this.imageSource = follow(state.image, this.imageSource);
  }

  /** Anything to bring back (after a failed recovery, the next worker restores what the user had). */
  get holdsOpens(): boolean {
    return this.modelSource !== null || this.imageSource !== null;
  }

  /**
   * Reload the model, the image, the view and the gallery's files into a fresh worker. `race` rejects
   * when that worker dies first; `nextId` gives request ids.
   */
  async restore(remote: Remote, race: <T>(call: Promise<T>) => Promise<T>, nextId: () => number): Promise<void> {
    // The same tokens as the first time: the new worker's state then names what the page shows.
    const replay = ({ source, token }: Opened, only?: 'model' | 'image') => {
      const id = nextId();
      if (source.kind === 'cache') return remote.restoreCached(id, { only, token });
      return source.kind === 'files' ? remote.openFiles(id, source.files, { only, token }) : remote.openDemo(id, { sample: source.sample, only, token });
    };
    // A replay that brings nothing back (e.g. the cache was emptied) must not leave a worker without
    // the model the page shows: fail the recovery with a coded error instead.
    const expect = (result: DroppedResult | null, what: 'model' | 'image') => {
      if (!result?.[what]) throw studioError('WORKER_CRASHED', { reason: `the ${what} could not be reloaded into the new worker` });
    };
    if (this.modelSource && this.modelSource.token === this.imageSource?.token) {
      expect(await race(replay(this.modelSource)), 'model');
    } else {
      if (this.modelSource) expect(await race(replay(this.modelSource, 'model')), 'model');
      if (this.imageSource) expect(await race(replay(this.imageSource, 'image')), 'image');
    }
    if (this.view) await race(remote.setView(nextId(), this.view));
    // The gallery's images too (its results are recomputed by the page's next run).
    if (this.galleryFiles) await race(remote.gallerySetFiles(nextId(), this.galleryFiles));
  }
}
