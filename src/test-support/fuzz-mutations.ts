/**
 * Seeded mutations of real model files, shared by the loader fuzzer in Node
 * (src/engine/formats/fuzz.test.ts) and the same fuzzer run through the app's worker in a browser
 * (e2e/fuzz.spec.ts). A seed always gives the same mutation for the same kinds list.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../shared/random';

export interface Rng {
  next: () => number;
  int: (n: number) => number;
  pick: <T>(items: T[]) => T;
}

/** The project's seeded generator (src/shared/random.ts) picks mutations reproducibly. */
export function makeRng(seed: number): Rng {
  const next = seededRandom(seed);
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: (items) => items[int(items.length)] };
}

export interface Fixture {
  name: string;
  files: { name: string; data: Uint8Array }[];
}

export function loadFixture(fixtures: string, dir: string): Fixture {
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

export type Files = { name: string; data: Uint8Array }[];

/** The mutations the Node fuzzer has always drawn from (its seeds, regression seeds included, pick from this list). */
export const LOADER_KINDS = [
  'truncate-json', 'flip-json-bytes', 'truncate-shard', 'flip-shard-bytes', 'delete-field', 'rename-field', 'edit-value',
  'shuffle-manifest', 'wrong-dtype', 'edit-shape', 'drop-shard', 'rename-shard', 'extra-files', 'grow-shard',
] as const;
/** Mutations of the layer config that once broke the WASM backend: input sizes, strides, reserved names. */
export const CONFIG_KINDS = ['edit-input-shape', 'edit-strides', 'reserved-name'] as const;
export type MutationKind = (typeof LOADER_KINDS)[number] | (typeof CONFIG_KINDS)[number];

/** Every layer config object in a topology (any nesting), for the config mutations. */
function layerConfigs(root: unknown): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (typeof record.class_name === 'string' && record.config && typeof record.config === 'object' && !Array.isArray(record.config)) out.push(record.config as Record<string, unknown>);
    Object.values(record).forEach(walk);
  };
  walk(root);
  return out;
}

/** One mutation of the fixture's files; returns a label for the outcome table. */
export function mutate(fixture: Fixture, rng: Rng, kinds: readonly MutationKind[] = LOADER_KINDS): { files: Files; kind: string } {
  const files = fixture.files.map((f) => ({ ...f }));
  const modelIndex = files.findIndex((f) => f.name === 'model.json');
  const shardIndices = files.map((f, i) => (f.name.startsWith('group') || f.name.endsWith('.bin') ? i : -1)).filter((i) => i >= 0);
  const json = JSON.parse(dec(files[modelIndex].data)) as Record<string, unknown>;
  const writeJson = () => (files[modelIndex] = { name: 'model.json', data: enc(JSON.stringify(json)) });
  const manifest = json.weightsManifest as { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
  const allWeights = manifest.flatMap((g) => g.weights);
  const kind = rng.pick([...kinds]);
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
    case 'edit-input-shape': {
      const shaped = layerConfigs(json.modelTopology).filter((c) => Array.isArray(c.batch_input_shape) && (c.batch_input_shape as unknown[]).length === 4);
      const config = rng.pick(shaped);
      const side = rng.pick([0, 1, -3, 2, 8, 31, 100_000]);
      const shape = [...(config.batch_input_shape as unknown[])];
      shape[1] = side;
      shape[2] = rng.next() < 0.5 ? side : shape[2];
      config.batch_input_shape = shape;
      detail = JSON.stringify(shape);
      writeJson();
      break;
    }
    case 'edit-strides': {
      const strided = layerConfigs(json.modelTopology).filter((c) => Array.isArray(c.strides));
      const config = rng.pick(strided);
      config.strides = rng.pick([[0, 0], [-1, 1], [2, 0], [3, 3], [1, 1], [7, 7]]);
      detail = `${String(config.name)} ${JSON.stringify(config.strides)}`;
      writeJson();
      break;
    }
    case 'reserved-name': {
      const config = rng.pick(layerConfigs(json.modelTopology).filter((c) => typeof c.name === 'string'));
      const to = rng.pick(['toString', '__proto__', 'constructor', 'valueOf']);
      detail = `${String(config.name)} → ${to}`;
      const renamed = JSON.stringify(json).split(JSON.stringify(config.name)).join(JSON.stringify(to));
      files[modelIndex] = { name: 'model.json', data: enc(renamed) };
      break;
    }
    case 'extra-files':
      files.push({ name: 'group1-shard1of1.bak', data: new Uint8Array(10) }, { name: 'notes.json', data: enc('{"modelTopology": 1}') });
      break;
  }
  return { files, kind: detail ? `${kind} ${detail}` : kind };
}

