/**
 * The open rules (open-coordinator.ts) with loads whose timing the test controls: every order of
 * "model then image", "image then model", "model then model" the issue names, plus failures.
 */
import { describe, expect, it } from 'vitest';
import { OpenCoordinator, type OpenOutcome } from './open-coordinator';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

/** A coordinator over string "models" and "images" that records every commit and discard. */
function harness(commitDelay?: () => Promise<void>) {
  const commits: { model?: string; image?: string }[] = [];
  const discarded: string[] = [];
  const state = { model: 'old-model', image: 'old-image' };
  const coordinator = new OpenCoordinator<string, string>({
    async commit(change) {
      await commitDelay?.();
      commits.push({ ...change });
      if (change.model) state.model = change.model;
      if (change.image) state.image = change.image;
    },
    discardModel: (m) => discarded.push(m),
    discardImage: (i) => discarded.push(i),
  });
  return { coordinator, commits, discarded, state };
}

function settled<T>(p: Promise<T>): { value?: T; error?: unknown; done: boolean } {
  const out: { value?: T; error?: unknown; done: boolean } = { done: false };
  p.then(
    (v) => Object.assign(out, { value: v, done: true }),
    (e) => Object.assign(out, { error: e, done: true }),
  );
  return out;
}

describe('OpenCoordinator', () => {
  it('model then image (image decoded first): both arrive together in one commit', async () => {
    const { coordinator, commits, state } = harness();
    const modelLoad = deferred<string>();
    const a = coordinator.begin();
    const modelOpen = coordinator.run(a, { model: () => modelLoad.promise });
    const b = coordinator.begin();
    const imageOpen = coordinator.run(b, { image: async () => 'new-image' });
    await tick();
    expect(commits).toEqual([]); // the image waits for the model in flight
    modelLoad.resolve('new-model');
    const [m, i] = await Promise.all([modelOpen, imageOpen]);
    expect(commits).toEqual([{ model: 'new-model', image: 'new-image' }]);
    expect(state).toEqual({ model: 'new-model', image: 'new-image' });
    expect(m).toEqual<OpenOutcome<string, string>>({ model: 'new-model', cancelled: [] });
    expect(i).toEqual<OpenOutcome<string, string>>({ image: 'new-image', cancelled: [] });
  });

  it('model then image while the model files are still being sorted: the image waits too', async () => {
    const { coordinator, commits } = harness();
    const a = coordinator.begin(); // still classifying
    const b = coordinator.begin();
    const imageOpen = settled(coordinator.run(b, { image: async () => 'img' }));
    await tick();
    expect(commits).toEqual([]);
    const modelOpen = coordinator.run(a, { model: async () => 'mdl' });
    await modelOpen;
    await tick();
    expect(imageOpen.done).toBe(true);
    expect(commits).toEqual([{ model: 'mdl', image: 'img' }]);
  });

  it('an older open that turns out to hold no model releases the waiting image', async () => {
    const { coordinator, commits } = harness();
    const a = coordinator.begin();
    const b = coordinator.begin();
    const imageOpen = coordinator.run(b, { image: async () => 'img' });
    await tick();
    coordinator.abandon(a);
    await imageOpen;
    expect(commits).toEqual([{ image: 'img' }]);
  });

  it('image then model: the image is committed at once, the model after', async () => {
    const { coordinator, commits, state } = harness();
    const modelLoad = deferred<string>();
    const imageOpen = coordinator.run(coordinator.begin(), { image: async () => 'img' });
    const modelOpen = coordinator.run(coordinator.begin(), { model: () => modelLoad.promise });
    await imageOpen;
    expect(commits).toEqual([{ image: 'img' }]);
    modelLoad.resolve('mdl');
    await modelOpen;
    expect(commits).toEqual([{ image: 'img' }, { model: 'mdl' }]);
    expect(state).toEqual({ model: 'mdl', image: 'img' });
  });

  it('two models in quick succession: the newer wins, the older is reported cancelled and freed', async () => {
    const { coordinator, commits, discarded } = harness();
    const first = deferred<string>();
    let firstSignal: AbortSignal | null = null;
    const older = coordinator.run(coordinator.begin(), {
      model: (signal) => {
        firstSignal = signal;
        return first.promise;
      },
    });
    const newer = coordinator.run(coordinator.begin(), { model: async () => 'm2' });
    expect(firstSignal!.aborted).toBe(true); // the loader is told to stop
    expect(await newer).toEqual({ model: 'm2', cancelled: [] });
    expect(await older).toEqual({ cancelled: ['model'] });
    first.resolve('m1'); // it finished anyway: freed, never committed
    await tick();
    expect(commits).toEqual([{ model: 'm2' }]);
    expect(discarded).toEqual(['m1']);
  });

  it('an older open sorted after a newer model is cancelled before it loads anything', async () => {
    const { coordinator, commits, discarded } = harness();
    const second = deferred<string>();
    const a = coordinator.begin();
    const b = coordinator.begin();
    // b is sorted first (its files were quicker to read) and claims the model.
    const newer = coordinator.run(b, { model: () => second.promise });
    let olderLoaded = false;
    const older = coordinator.run(a, { model: async () => ((olderLoaded = true), 'm1') });
    expect(await older).toEqual({ cancelled: ['model'] });
    second.resolve('m2');
    await newer;
    expect(commits).toEqual([{ model: 'm2' }]);
    expect(olderLoaded).toBe(false); // never even started
    expect(discarded).toEqual([]);
  });

  it('a newer image replaces an older one; a new image never cancels a model load', async () => {
    const { coordinator, commits } = harness();
    const modelLoad = deferred<string>();
    const model = coordinator.run(coordinator.begin(), { model: () => modelLoad.promise });
    const image1 = coordinator.run(coordinator.begin(), { image: async () => 'i1' });
    const image2 = coordinator.run(coordinator.begin(), { image: async () => 'i2' });
    expect(await image1).toEqual({ cancelled: ['image'] });
    modelLoad.resolve('m');
    expect(await model).toEqual({ model: 'm', cancelled: [] });
    expect(await image2).toEqual({ image: 'i2', cancelled: [] });
    expect(commits).toEqual([{ model: 'm', image: 'i2' }]);
  });

  it('a model dropped with its image commits both at once; a failing part fails the whole drop', async () => {
    const { coordinator, commits, discarded } = harness();
    const both = await coordinator.run(coordinator.begin(), { model: async () => 'm', image: async () => 'i' });
    expect(both).toEqual({ model: 'm', image: 'i', cancelled: [] });
    const bad = coordinator.run(coordinator.begin(), {
      model: async () => 'm-bad',
      image: async () => {
        await tick();
        throw new Error('IMAGE_DECODE_FAILED');
      },
    });
    await expect(bad).rejects.toThrow('IMAGE_DECODE_FAILED');
    await tick();
    expect(commits).toEqual([{ model: 'm', image: 'i' }]);
    expect(discarded).toEqual(['m-bad']);
  });

  it('a failed model load releases an image that waited for it', async () => {
    const { coordinator, commits } = harness();
    const modelLoad = deferred<string>();
    const model = coordinator.run(coordinator.begin(), { model: () => modelLoad.promise });
    const image = coordinator.run(coordinator.begin(), { image: async () => 'i' });
    modelLoad.reject(new Error('MISSING_SHARD'));
    await expect(model).rejects.toThrow('MISSING_SHARD');
    expect(await image).toEqual({ image: 'i', cancelled: [] });
    expect(commits).toEqual([{ image: 'i' }]);
  });

  it('a model superseded while its drop-mate image is the newest: the image still arrives', async () => {
    const { coordinator, commits, state } = harness();
    const slow = deferred<string>();
    const first = coordinator.run(coordinator.begin(), { model: () => slow.promise, image: async () => 'i1' });
    const second = coordinator.run(coordinator.begin(), { model: async () => 'm2' });
    expect(await second).toEqual({ model: 'm2', cancelled: [] });
    expect(await first).toEqual({ image: 'i1', cancelled: ['model'] });
    // Whatever the order, the end state is the newer model with the image.
    expect(commits.some((c) => c.model === 'm2')).toBe(true);
    expect(commits.some((c) => c.image === 'i1')).toBe(true);
    expect(commits.some((c) => c.model === 'm1')).toBe(false);
    expect(state).toEqual({ model: 'm2', image: 'i1' });
  });

  it('a commit that fails keeps the old state and fails the opens involved', async () => {
    let failNext = true;
    const { coordinator, state, discarded } = harness(async () => {
      if (failNext) {
        failNext = false;
        throw new Error('commit failed');
      }
    });
    await expect(coordinator.run(coordinator.begin(), { model: async () => 'm' })).rejects.toThrow('commit failed');
    expect(state.model).toBe('old-model');
    expect(discarded).toEqual(['m']);
    await coordinator.run(coordinator.begin(), { model: async () => 'm2' });
    expect(state.model).toBe('m2');
  });

  it('commits run one at a time, in order', async () => {
    let active = 0;
    let most = 0;
    const { coordinator, commits } = harness(async () => {
      active++;
      most = Math.max(most, active);
      await tick();
      active--;
    });
    const opens = [];
    for (let i = 0; i < 5; i++) opens.push(coordinator.run(coordinator.begin(), i % 2 ? { image: async () => `i${i}` } : { model: async () => `m${i}` }));
    await Promise.all(opens);
    expect(most).toBe(1);
    expect(commits.at(-1)).toBeDefined();
    expect(coordinator.inFlight).toBe(0);
  });

  it('an aborted open is cancelled and frees what it loaded', async () => {
    const { coordinator, commits, discarded } = harness();
    const load = deferred<string>();
    const controller = new AbortController();
    const open = coordinator.run(coordinator.begin(), { model: () => load.promise }, controller.signal);
    controller.abort();
    await expect(open).rejects.toMatchObject({ code: 'CANCELLED' });
    load.resolve('m');
    await tick();
    expect(commits).toEqual([]);
    expect(discarded).toEqual(['m']);
  });
});
