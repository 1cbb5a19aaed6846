/**
 * Issue 10: the seeded model mutations of the Node loader fuzzer (src/engine/node/fuzz-mutations.ts),
 * run through the app's own worker in Chromium: 64 mutants of the shared Teachable Machine export —
 * a third of them input-shape, stride and layer-name mutations, the rest the loader's byte and JSON
 * mutations. Each must end in success or a specific coded error within a bound, with no uncaught
 * error, no worker restart, and the worker still able to load and explain the real model afterwards.
 * Prints the table of codes seen. Skipped without ../shared/fixtures.
 */
import { expect, test } from '@playwright/test';
import { ERROR_MESSAGES } from '../src/shared/errors';
import { CONFIG_KINDS, LOADER_KINDS, loadFixture, makeRng, mutate, type Fixture } from '../src/engine/node/fuzz-mutations';
import { FIXTURES, FIXTURES_SKIP_REASON, fixturesAvailable, setupHarness, type PageClient } from './helpers';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const MUTANTS = Number(process.env.FUZZ_MUTANTS ?? 64);
const BASE_SEED = 20261201;
/** A mutant's load, in the browser on 2 cores, must end within this (the real model loads in ~1.5 s). */
const BOUND_MS = 20_000;
const KNOWN = new Set(Object.keys(ERROR_MESSAGES).filter((c) => c !== 'INTERNAL'));

type Outcome = { ok: true; ms: number } | { ok: false; code: string; message: string; ms: number };

test('64 mutants of the Teachable Machine export through the worker: each a success or a specific code, 0 hangs, 0 broken workers', async ({ page }) => {
  test.skip(!fixturesAvailable, FIXTURES_SKIP_REASON);
  test.setTimeout(15 * 60_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await setupHarness(page, 'wasm');
  const tm: Fixture = loadFixture(join(FIXTURES, 'models'), 'tm-gestures');
  // The real files go to the page once; a mutant sends only the files it changed.
  await page.evaluate((files) => {
    const w = window as unknown as { originals: Record<string, Uint8Array> };
    w.originals = Object.fromEntries(files.map((f) => [f.name, Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))]));
  }, tm.files.map((f) => ({ name: f.name, base64: Buffer.from(f.data).toString('base64') })));
  const original = new Map(tm.files.map((f) => [f.name, f.data]));

  const counts = new Map<string, number>();
  const failures: string[] = [];
  let slowest = 0;
  for (let i = 0; i < MUTANTS; i++) {
    const seed = BASE_SEED + i;
    // Every third mutant edits the layer config (input size, strides, names), the rest the files.
    const kinds = i % 3 === 0 ? CONFIG_KINDS : LOADER_KINDS;
    const { files, kind } = mutate(tm, makeRng(seed), kinds);
    const sent = files.map((f) => (original.get(f.name) === f.data ? { name: f.name, same: true } : { name: f.name, base64: Buffer.from(f.data).toString('base64') }));
    const outcome = await page.evaluate(async ({ sent, bound }): Promise<Outcome> => {
      type Client = PageClient;
      const w = window as unknown as { client: Client; originals: Record<string, Uint8Array> };
      const files = sent.map((f) => {
        const bytes = 'same' in f ? w.originals[f.name] : Uint8Array.from(atob(f.base64 as string), (c) => c.charCodeAt(0));
        return { file: new File([bytes as BlobPart], f.name) };
      });
      const started = performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<Outcome>((done) => (timer = setTimeout(() => done({ ok: false, code: 'HANG', message: `no answer in ${bound} ms`, ms: bound }), bound)));
      const run = w.client.call('openFiles', [files]).then(
        (): Outcome => ({ ok: true, ms: performance.now() - started }),
        (e: { code?: string; message?: string }): Outcome => ({ ok: false, code: e.code ?? 'UNTYPED', message: e.message ?? String(e), ms: performance.now() - started }),
      );
      const outcome = await Promise.race([run, timeout]);
      clearTimeout(timer);
      return outcome;
    }, { sent, bound: BOUND_MS });
    slowest = Math.max(slowest, outcome.ms);
    const key = outcome.ok ? 'ok' : outcome.code;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (!outcome.ok && !KNOWN.has(outcome.code)) failures.push(`seed ${seed} (${kind}): ${outcome.code} ${outcome.message}`);
    // The worker still answers after every mutant.
    const alive = await page.evaluate(async () => {
      const w = window as unknown as { client: PageClient };
      return Promise.race([w.client.call('memory', []).then(() => true, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
    });
    if (!alive) failures.push(`seed ${seed} (${kind}): the worker no longer answers`);
  }
  const restarts = await page.evaluate(() => (window as unknown as { events: { type: string }[] }).events.filter((e) => e.type === 'restarted').length);

  // The real model still loads and explains in the same worker.
  const good = await page.evaluate(async (files) => {
    type Client = PageClient;
    const w = window as unknown as { client: Client; originals: Record<string, Uint8Array> };
    const photo = new File([Uint8Array.from(atob(files.photo), (c) => c.charCodeAt(0)) as BlobPart], 'photo.png');
    const r = await w.client.call('openFiles', [[...Object.entries(w.originals).map(([name, bytes]) => ({ file: new File([bytes as BlobPart], name) })), { file: photo }]]);
    const e = await w.client.call('explain', [{}]);
    return { labels: r.model?.summary.labels, layer: e.layerPath };
  }, { photo: readFileSync(join(FIXTURES, 'images/skimage_astronaut.png')).toString('base64') });

  const table = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${k}: ${n}`).join('\n');
  console.log(`browser fuzz: ${MUTANTS} mutants (base seed ${BASE_SEED}), slowest ${Math.round(slowest)} ms, worker restarts ${restarts}\n${table}`);
  expect(failures).toEqual([]);
  expect(counts.get('HANG') ?? 0).toBe(0);
  expect(counts.get('INTERNAL') ?? 0).toBe(0);
  expect(restarts).toBe(0);
  expect(pageErrors).toEqual([]);
  expect(good.labels).toEqual(['Peace', 'Stop', 'Thumbs Up']);
  expect(good.layer).toMatch(/\/model1\/out_relu$/);
});
