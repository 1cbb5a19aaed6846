import { describe, expect, it } from 'vitest';
import { Lane } from './lane';

/** A task that waits until released (or aborted), recording when it ran. */
function gate() {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  return { release, released };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'done';
  } catch (e) {
    return String((e as { code?: unknown }).code ?? e);
  }
}

function untilAborted(signal: AbortSignal, g: { released: Promise<void> }): Promise<string> {
  return new Promise((resolve, reject) => {
    signal.addEventListener('abort', () => reject({ code: 'CANCELLED' }), { once: true });
    void g.released.then(() => resolve('ok'));
  });
}

describe('Lane', () => {
  it('runs tasks one at a time, in the order they came', async () => {
    const lane = new Lane('test');
    const log: string[] = [];
    const g = gate();
    const first = lane.run(async () => {
      log.push('first start');
      await g.released;
      log.push('first end');
    });
    const second = lane.run(async () => void log.push('second'));
    await Promise.resolve();
    expect(log).toEqual(['first start']);
    g.release();
    await Promise.all([first, second]);
    expect(log).toEqual(['first start', 'first end', 'second']);
  });

  it('newest wins: a superseding task aborts the running one and the queued ones, then runs', async () => {
    const lane = new Lane('explain');
    const g = gate();
    const running = lane.run((signal) => untilAborted(signal, g), { kind: 'explain' });
    const queued = lane.run(async () => 'queued ran', { kind: 'explain' });
    const newest = lane.run(async () => 'newest', { kind: 'explain', supersedes: ['explain'] });
    expect(await codeOf(running)).toBe('CANCELLED');
    expect(await codeOf(queued)).toBe('CANCELLED');
    expect(await newest).toBe('newest');
    expect(lane.size).toBe(0);
  });

  it('supersedes only the kinds named: a new measurement leaves the explanation running', async () => {
    const lane = new Lane('explain');
    const g = gate();
    const explanation = lane.run((signal) => untilAborted(signal, g), { kind: 'explain' });
    const measurement = lane.run(async () => 'measured', { kind: 'measure', supersedes: ['measure'] });
    g.release();
    expect(await explanation).toBe('ok');
    expect(await measurement).toBe('measured');
  });

  it("the caller's signal cancels its task only; a task aborted before it starts never runs", async () => {
    const lane = new Lane('test');
    const g = gate();
    const caller = new AbortController();
    let ran = false;
    const first = lane.run((signal) => untilAborted(signal, g));
    const second = lane.run(async () => void (ran = true), { signal: caller.signal });
    caller.abort();
    g.release();
    expect(await first).toBe('ok');
    expect(await codeOf(second)).toBe('CANCELLED');
    expect(ran).toBe(false);
  });

  it('abort() stops everything on the lane; idle() waits for it to settle; a failure does not stop the lane', async () => {
    const lane = new Lane('gallery');
    const g = gate();
    const run = lane.run((signal) => untilAborted(signal, g), { kind: 'run' });
    lane.abort();
    await lane.idle();
    expect(await codeOf(run)).toBe('CANCELLED');
    const failing = lane.run(async () => {
      throw { code: 'NO_MODEL' };
    });
    expect(await codeOf(failing)).toBe('NO_MODEL');
    expect(await lane.run(async () => 'after')).toBe('after');
  });
});
