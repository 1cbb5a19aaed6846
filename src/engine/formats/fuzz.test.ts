/**
 * Seeded fuzzer over the real fixture models (issue 4, item 2): every mutated drop must end, within a
 * time bound, in a loaded model or a StudioError with a known code, never an untyped throw or a hang.
 * Runs the app's loading path, `loadModel` (openModel → buildLayersModel → summary → warm-up), on WASM.
 * Reproduce one case: FUZZ_SEED=<seed> FUZZ_CASES=1 FUZZ_TRACE=1 npx vitest run src/engine/formats/fuzz.test.ts
 * (FUZZ_TRACE prints each case's mutation and outcome; FUZZ_BACKEND=cpu switches the backend).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromBytes, type InputFile } from '../files';
import { ERROR_MESSAGES, StudioError } from '../../shared/errors';
import '@tensorflow/tfjs-backend-wasm';
import { loadModel } from '../model';

const fixtures = resolve(process.cwd(), '../shared/fixtures/models');
const haveFixtures = existsSync(join(fixtures, 'tm-gestures')) && existsSync(join(fixtures, 'darknet-tiny-imagenet'));

const BASE_SEED = Number(process.env.FUZZ_SEED ?? 20261128);
const CASES = Number(process.env.FUZZ_CASES ?? 240);
const CASE_TIMEOUT_MS = 5000;
/** Seeds that once failed (untyped error or crash), kept as regression cases. */
const REGRESSION_SEEDS: number[] = [
  20261145, // layer renamed: tfjs-layers looped forever connecting nodes (now MODEL_BUILD_FAILED before building)
];

/** mulberry32: tiny, fast, good enough to pick mutations reproducibly. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Rng {
  next: () => number;
  int: (n: number) => number;
  pick: <T>(items: T[]) => T;
}

function makeRng(seed: number): Rng {
  const next = mulberry32(seed);
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: (items) => items[int(items.length)] };
}

interface Fixture {
  name: string;
  files: { name: string; data: Uint8Array }[];
}

function loadFixture(dir: string): Fixture {
  const names = readdirSync(join(fixtures, dir)).filter((n) => !n.startsWith('LICENSE'));
  return { name: dir, files: names.map((name) => ({ name, data: new Uint8Array(readFileSync(join(fixtures, dir, name))) })) };
}

type Json = Record<string, unknown> | unknown[];
const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Every (container, key) in a JSON tree, with its path, to pick a field to delete/rename/edit. */
function slots(root: unknown): { parent: Json; key: string | number; path: string }[] {
  const out: { parent: Json; key: string | number; path: string }[] = [];
  const walk = (node: unknown, path: string) => {
    const children: [string | number, unknown, string][] = Array.isArray(node)
      ? node.map((child, i) => [i, child, `${path}[${i}]`])
      : node && typeof node === 'object'
        ? Object.entries(node).map(([k, v]) => [k, v, `${path}.${k}`])
        : [];
    for (const [key, child, childPath] of children) {
      out.push({ parent: node as Json, key, path: childPath });
      walk(child, childPath);
    }
  };
  walk(root, '');
  return out;
}

function getSlot(slot: { parent: Json; key: string | number }): unknown {
  return (slot.parent as Record<string | number, unknown>)[slot.key];
}

function setSlot(slot: { parent: Json; key: string | number }, value: unknown): void {
  (slot.parent as Record<string | number, unknown>)[slot.key] = value;
}

function editValue(value: unknown, rng: Rng): unknown {
  if (typeof value === 'number') return rng.pick([0, -1, value + 1, value * 2, Math.max(0, value - 1), 1.5, null]);
  if (typeof value === 'string') return rng.pick(['', `${value}x`, 'float64', 'Lambda', value.toUpperCase(), 'same', 'linear']);
  if (typeof value === 'boolean') return !value;
  if (value === null) return rng.pick([0, 'x', [], {}]);
  if (Array.isArray(value)) return rng.pick([[], [...value, 1], value.slice(1), [...value].reverse(), null]);
  return rng.pick([null, [], 'x', {}]);
}

type Files = { name: string; data: Uint8Array }[];

/** One mutation of the fixture's files; returns a label for the outcome table. */
function mutate(fixture: Fixture, rng: Rng): { files: Files; kind: string } {
  const files = fixture.files.map((f) => ({ ...f }));
  const modelIndex = files.findIndex((f) => f.name === 'model.json');
  const shardIndices = files.map((f, i) => (f.name.startsWith('group') || f.name.endsWith('.bin') ? i : -1)).filter((i) => i >= 0);
  const json = JSON.parse(dec(files[modelIndex].data)) as Record<string, unknown>;
  const writeJson = () => (files[modelIndex] = { name: 'model.json', data: enc(JSON.stringify(json)) });
  const manifest = json.weightsManifest as { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
  const allWeights = manifest.flatMap((g) => g.weights);
  const kinds = [
    'truncate-json', 'flip-json-bytes', 'truncate-shard', 'flip-shard-bytes', 'delete-field', 'rename-field', 'edit-value',
    'shuffle-manifest', 'wrong-dtype', 'edit-shape', 'drop-shard', 'rename-shard', 'extra-files', 'grow-shard',
  ];
  const kind = rng.pick(kinds);
  let detail = '';
  switch (kind) {
    case 'truncate-json':
      files[modelIndex] = { name: 'model.json', data: files[modelIndex].data.slice(0, rng.int(files[modelIndex].data.length)) };
      break;
    case 'flip-json-bytes': {
      const data = files[modelIndex].data.slice();
      for (let n = 1 + rng.int(4); n > 0; n--) data[rng.int(data.length)] = rng.int(256);
      files[modelIndex] = { name: 'model.json', data };
      break;
    }
    case 'truncate-shard': {
      const i = rng.pick(shardIndices);
      files[i] = { ...files[i], data: files[i].data.slice(0, rng.int(files[i].data.length)) };
      break;
    }
    case 'grow-shard': {
      const i = rng.pick(shardIndices);
      files[i] = { ...files[i], data: new Uint8Array([...files[i].data.subarray(0, 64), ...new Uint8Array(1 + rng.int(8)), ...files[i].data.subarray(64)]) };
      break;
    }
    case 'flip-shard-bytes': {
      const i = rng.pick(shardIndices);
      const data = files[i].data.slice();
      // 0xff in the high bytes of float32s makes NaNs: the loader must warn, not fail.
      for (let n = 1 + rng.int(16); n > 0; n--) data[rng.int(data.length)] = rng.pick([0xff, 0x7f, 0x80, rng.int(256)]);
      files[i] = { ...files[i], data };
      break;
    }
    case 'delete-field':
    case 'rename-field': {
      const objectSlots = slots(json).filter((s) => !Array.isArray(s.parent));
      const slot = rng.pick(objectSlots);
      detail = slot.path;
      const value = getSlot(slot);
      delete (slot.parent as Record<string, unknown>)[slot.key as string];
      if (kind === 'rename-field') (slot.parent as Record<string, unknown>)[`${String(slot.key)}_renamed`] = value;
      writeJson();
      break;
    }
    case 'edit-value': {
      const slot = rng.pick(slots(json));
      const before = getSlot(slot);
      setSlot(slot, editValue(before, rng));
      detail = `${slot.path}: ${JSON.stringify(before)?.slice(0, 40)} → ${JSON.stringify(getSlot(slot))?.slice(0, 40)}`;
      writeJson();
      break;
    }
    case 'shuffle-manifest': {
      const group = rng.pick(manifest);
      const items = rng.next() < 0.5 ? manifest : group.weights;
      for (let i = items.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [items[i], items[j]] = [items[j], items[i]];
      }
      writeJson();
      break;
    }
    case 'wrong-dtype':
      rng.pick(allWeights).dtype = rng.pick(['float64', 'int32', 'bool', 'string', 'uint8', 'complex64', '']);
      writeJson();
      break;
    case 'edit-shape': {
      const weight = rng.pick(allWeights.filter((w) => w.shape.length > 0));
      const d = rng.int(weight.shape.length);
      const op = rng.int(4);
      if (op === 0) weight.shape = [...weight.shape].reverse();
      else if (op === 1) weight.shape[d] += 1;
      else if (op === 2) weight.shape[d] = 0;
      else weight.shape = [weight.shape.reduce((a, b) => a * b, 1)];
      writeJson();
      break;
    }
    case 'drop-shard':
      files.splice(rng.pick(shardIndices), 1);
      break;
    case 'rename-shard': {
      const i = rng.pick(shardIndices);
      files[i] = { ...files[i], name: rng.pick([`${files[i].name}.bin`, files[i].name.replace(/\.bin$/, ''), `x${files[i].name}`, 'group99-shard1of1']) };
      break;
    }
    case 'extra-files':
      files.push({ name: 'group1-shard1of1.bak', data: new Uint8Array(10) }, { name: 'notes.json', data: enc('{"modelTopology": 1}') });
      break;
  }
  return { files, kind: detail ? `${kind} ${detail}` : kind };
}

const KNOWN_CODES = new Set(Object.keys(ERROR_MESSAGES).filter((c) => c !== 'INTERNAL'));

type Outcome = { ok: true; warnings: string[] } | { ok: false; code: string; message: string };

async function runCase(files: Files): Promise<Outcome> {
  const inputs: InputFile[] = files.map((f) => fromBytes(f.name, f.data));
  try {
    const loaded = await loadModel(inputs);
    const warnings = loaded.summary.warnings.map((w) => w.code);
    loaded.dispose();
    return { ok: true, warnings };
  } catch (e) {
    if (e instanceof StudioError && KNOWN_CODES.has(e.code)) return { ok: false, code: e.code, message: e.message };
    return { ok: false, code: 'UNTYPED', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

async function withinBound(files: Files): Promise<{ outcome: Outcome; ms: number }> {
  const start = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<Outcome>((done) => {
    timer = setTimeout(() => done({ ok: false, code: 'TIMEOUT', message: `no result within ${CASE_TIMEOUT_MS} ms` }), CASE_TIMEOUT_MS);
  });
  const outcome = await Promise.race([runCase(files), timeout]);
  clearTimeout(timer);
  // Synchronous work cannot be pre-empted by the timer, so the bound is also checked afterwards.
  const ms = performance.now() - start;
  return { outcome: ms > CASE_TIMEOUT_MS && outcome.ok ? { ok: false, code: 'TIMEOUT', message: `${Math.round(ms)} ms` } : outcome, ms };
}

describe.skipIf(!haveFixtures)('loading fuzzer over the real fixtures (skipped without ../shared/fixtures)', () => {
  let tm: Fixture;
  let darknet: Fixture;

  beforeAll(async () => {
    await tf.setBackend(process.env.FUZZ_BACKEND ?? 'wasm');
    tm = loadFixture('tm-gestures');
    darknet = loadFixture('darknet-tiny-imagenet');
  });

  it(`${CASES} seeded mutations + regressions each end in success or a coded error, within ${CASE_TIMEOUT_MS} ms`, async () => {
    const seeds = [...REGRESSION_SEEDS, ...Array.from({ length: CASES }, (_, i) => BASE_SEED + i)];
    const counts = new Map<string, number>();
    const failures: string[] = [];
    const tensorsBefore = tf.memory().numTensors;
    let slowest = 0;
    for (const seed of seeds) {
      const rng = makeRng(seed);
      // darknet (31 small shards) is the cheap target; every fourth case mutates the Teachable Machine export.
      const fixture = rng.int(4) === 0 ? tm : darknet;
      const { files, kind } = mutate(fixture, rng);
      if (process.env.FUZZ_TRACE) process.stderr.write(`seed ${seed} ${fixture.name} ${kind} ... `);
      const tensors = tf.memory().numTensors;
      const { outcome, ms } = await withinBound(files);
      const leaked = tf.memory().numTensors - tensors;
      if (leaked !== 0) failures.push(`seed ${seed} (${fixture.name}, ${kind}): ${leaked} tensors leaked (${outcome.ok ? 'ok' : outcome.code})`);
      if (process.env.FUZZ_TRACE) process.stderr.write(`${outcome.ok ? 'ok' : outcome.code} ${Math.round(ms)} ms\n`);
      slowest = Math.max(slowest, ms);
      const key = outcome.ok ? `ok${outcome.warnings.length ? ` (+${outcome.warnings.join(',')})` : ''}` : outcome.code;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (!outcome.ok && (outcome.code === 'UNTYPED' || outcome.code === 'TIMEOUT')) {
        failures.push(`seed ${seed} (${fixture.name}, ${kind}): ${outcome.code} ${outcome.message}`);
      }
    }
    const table = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${k}: ${n}`).join('\n');
    console.log(`fuzz: ${seeds.length} cases (base seed ${BASE_SEED}), slowest ${Math.round(slowest)} ms\n${table}`);
    expect(failures).toEqual([]);
    expect(seeds.length).toBeGreaterThanOrEqual(Math.min(CASES, 200));
    // Failed builds free what they allocated.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
