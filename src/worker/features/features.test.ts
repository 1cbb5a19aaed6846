/**
 * The worker's feature modules on a session built here: a real model (tfjs, CPU backend), real
 * explanations and real pixels; only the canvases are a plain-JS painter (Node has no OffscreenCanvas).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestModel, testImage, writeModelFiles } from '../../engine/node/test-models';
import { loadedModelFromLayersModel } from '../../engine/model';
import { decodedImage, JsPainter } from '../../test-support/js-painter';
import { makeStudioApi } from '../api';
import { createLanes } from '../lane';
import { WorkerSession } from '../session';
import { ResultCache } from '../result-cache';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'done';
  } catch (e) {
    return String((e as { code?: unknown }).code ?? e);
  }
}

const canvas = (name: string) => ({ name }) as unknown as OffscreenCanvas;

let painter: JsPainter;
let session: WorkerSession;
let api: ReturnType<typeof makeStudioApi>;
let inner: string;

beforeEach(async () => {
  painter = new JsPainter();
  session = new WorkerSession(painter);
  api = makeStudioApi(session, createLanes());
  const t = buildTestModel('e');
  inner = t.innerLayerPath;
  session.model = await loadedModelFromLayersModel(t.model, { labels: ['w', 'x', 'y', 'z'] });
  session.image = decodedImage('blob.png', testImage());
  session.modelToken = 'model-1';
  session.imageToken = 'image-1';
  session.resetPanels();
});

describe('explain', () => {
  it('explains, keeps the cells, and draws them on the canvases the page handed over', async () => {
    await api.attachCanvases({ original: canvas('original'), gradcam: canvas('gradcam') });
    const summary = await api.explain(1, { methods: ['gradcam', 'guided-backprop'], target: 2 });
    expect(summary.methods).toEqual(['gradcam', 'guided-backprop']);
    expect(summary.classIndex).toBe(2);
    expect(session.panels?.cells.map((c) => c.info.key)).toEqual(['gradcam', 'guided-backprop']);
    expect(session.explained?.classIndex).toBe(2);
    // The cell's map is the engine's map for the same request.
    const model = session.model;
    const image = session.image;
    if (!model || !image) throw new Error('no model');
    const direct = await model.explain(image.raw, { methods: ['gradcam'], target: 2 }, new AbortController().signal);
    const cell = session.panels?.cells[0]?.map;
    const ref = direct.maps.gradcam;
    if (cell?.kind !== 'heatmap' || ref?.kind !== 'heatmap') throw new Error('no heatmap');
    expect(Array.from(cell.map.data)).toEqual(Array.from(ref.map.data));
    // Both canvases got pixels: the original's and Grad-CAM's.
    const drawn = [...painter.painted.values()];
    expect(drawn).toHaveLength(2);
    expect(drawn[1]?.data).not.toEqual(drawn[0]?.data);
  });

  it('the newest explanation wins; cancel(id) stops one; an explanation asked for an older model is void', async () => {
    const first = api.explain(1, { methods: ['gradcam'], target: 0 });
    const second = api.explain(2, { methods: ['gradcam'], target: 1 });
    expect(await codeOf(first)).toBe('CANCELLED');
    expect((await second).classIndex).toBe(1);
    const slow = api.explain(3, { methods: ['scorecam'], layerPath: inner });
    await api.cancel(3);
    expect(await codeOf(slow)).toBe('CANCELLED');
    expect(await codeOf(api.explain(4, { methods: ['gradcam'], expect: { model: 'model-0', image: 'image-1' } }))).toBe('CANCELLED');
    expect(session.requests.size).toBe(0);
  });

  it('a measurement in flight is superseded by a newer explanation, which still completes', async () => {
    await api.explain(1, { methods: ['gradcam'] });
    const measuring = api.faithfulness(2, { steps: 4 });
    const explaining = api.explain(3, { methods: ['gradcam'], target: 3 });
    expect(await codeOf(measuring)).toBe('CANCELLED');
    expect((await explaining).classIndex).toBe(3);
  });

  it('layers grid: one panel per layer, titled with the layer', async () => {
    const summary = await api.explain(1, { methods: ['gradcam'] }, { mode: 'layers', layers: [inner, session.model?.summary.defaultLayerPath ?? ''] });
    expect(summary.grid).toBe('layers');
    expect(session.panels?.cells.map((c) => c.info.key)).toEqual(['layer:0', 'layer:1']);
    expect(session.panels?.cells[0]?.title).toMatch(/^Grad-CAM · /);
  });
});

describe('view', () => {
  it('recolours from the kept maps (the same map objects, new pixels) and reads the panels back', async () => {
    await api.explain(1, { methods: ['gradcam'] });
    const before = session.panels?.cells[0];
    await api.setView(2, { colormap: 'viridis', opacity: 0.9, threshold: 0.2 });
    const after = session.panels?.cells[0];
    expect(after?.map).toBe(before?.map);
    expect(after?.pixels.data).not.toEqual(before?.pixels.data);
    const panels = await api.inspectPanels(3);
    expect(Object.keys(panels).sort()).toEqual(['gradcam', 'original']);
    expect(panels.gradcam?.data).toEqual(after?.pixels.data);
  });
});

describe('open', () => {
  it('a model dropped as files is committed: the version grows, the tokens name the open, the old model goes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'open-'));
    await writeModelFiles(buildTestModel('b').model, dir);
    const files = ['model.json', 'weights.bin'].map((name) => ({ file: new File([readFileSync(join(dir, name))], name) }));
    const old = session.model;
    const version = session.version;
    const result = await api.openFiles(7, files, { token: 'page-open-7' });
    expect(result.model?.summary.name).toBeTruthy();
    expect(result.state.version).toBe(version + 1);
    expect(result.state.model?.token).toBe('page-open-7');
    expect(result.state.image?.token).toBe('image-1'); // the image on screen stays
    expect(session.model).not.toBe(old);
    expect(session.panels?.cells).toEqual([]); // the old maps no longer apply
  });

  it('files that are neither model nor image: NO_MODEL_FILE, and what is on screen stays', async () => {
    const model = session.model;
    const code = await codeOf(api.openFiles(8, [{ file: new File(['just notes'], 'notes.md') }]));
    expect(code).toBe('NO_MODEL_FILE');
    expect(session.model).toBe(model);
    expect(session.requests.size).toBe(0);
  });
});

describe('gallery', () => {
  it('a pause never outlives its run: new files start unpaused', async () => {
    await api.galleryPause(1, true);
    expect(session.gallery.paused).toBe(true);
    const png = new File([new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10])], 'a.png');
    const opened = await api.gallerySetFiles(2, [{ file: png, path: 'cats/a.png' }, { file: png, path: 'dogs/b.png' }]);
    expect(opened).toEqual({ count: 2, trueLabels: ['cats', 'dogs'] });
    expect(session.gallery.paused).toBe(false);
  });
});

describe('lifecycle, bench and test hooks', () => {
  it('ping answers the version; memory counts tensors; the bench times each case every round', async () => {
    session.version = 41;
    expect(await api.ping()).toBe(41);
    const memory = await api.memory(1);
    expect(memory.numTensors).toBe(tf.memory().numTensors);
    const bench = await api.benchmark(2, { runs: 2, cases: [{ label: 'forward', methods: 'forward' }, { label: 'Grad-CAM', methods: ['gradcam'] }] });
    expect(bench.backend).toBe('cpu');
    expect(bench.cases.map((c) => [c.label, c.runs.length])).toEqual([['forward', 2], ['Grad-CAM', 2]]);
    expect(bench.cases.every((c) => c.runs.every((ms) => ms >= 0))).toBe(true);
    const before = performance.now();
    await api.hangForTest(3, 30);
    expect(performance.now() - before).toBeGreaterThanOrEqual(29);
  });
});

describe('the result cache', () => {
  it('ticking a method computes only it, unticking computes nothing, a class seen before redraws without computing', async () => {
    const first = await api.explain(1, { methods: ['gradcam', 'guided-backprop'], target: 1 });
    expect(first.computed).toEqual(['gradcam', 'guided-backprop']);
    const ticked = await api.explain(2, { methods: ['gradcam', 'guided-backprop', 'layercam'], target: 1 });
    expect(ticked.computed).toEqual(['layercam']);
    expect(ticked.classIndex).toBe(1);
    const unticked = await api.explain(3, { methods: ['gradcam', 'layercam'], target: 1 });
    expect(unticked.computed).toEqual([]);
    expect(session.panels?.cells.map((c) => c.info.key)).toEqual(['gradcam', 'layercam']);
    await api.explain(4, { methods: ['gradcam', 'layercam'], target: 2 });
    const back = await api.explain(5, { methods: ['gradcam', 'layercam'], target: 1 });
    expect(back.computed).toEqual([]);
    // A setting of one method recomputes that method only; so does another layer for every layer method.
    const smoother = await api.explain(6, { methods: ['gradcam', 'layercam'], target: 1, methodOptions: { layercam: { x: 1 } } });
    expect(smoother.computed).toEqual(['layercam']);
    const other = await api.explain(7, { methods: ['gradcam', 'layercam'], target: 1, layerPath: inner });
    expect(other.computed).toEqual(['gradcam', 'layercam']);
    expect((await api.memory(8)).resultCache?.computed).toBe(session.results.computed);
  });

  it('maps from the cache are the maps computed the first time; a new model or image empties it', async () => {
    await api.explain(1, { methods: ['gradcam'] });
    const computedMap = session.panels?.cells[0]?.map;
    await api.explain(2, { methods: ['gradcam'], target: 3 });
    await api.explain(3, { methods: ['gradcam'] });
    expect(session.panels?.cells[0]?.map).toBe(computedMap);
    expect(session.results.size).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'open-'));
    await writeModelFiles(buildTestModel('b').model, dir);
    const files = ['model.json', 'weights.bin'].map((name) => ({ file: new File([readFileSync(join(dir, name))], name) }));
    await api.openFiles(4, files, { token: 'other-model' });
    expect(session.results.size).toBe(0);
  });

  it('stays within its byte budget, dropping the least recently used maps', async () => {
    const small = new ResultCache(1);
    const model = session.model;
    const image = session.image;
    if (!model || !image) throw new Error('no model');
    const result = await model.explain(image.raw, { methods: ['gradcam'] }, new AbortController().signal);
    small.store('a', result, ['gradcam'], {});
    small.store('b', result, ['gradcam'], {});
    expect(small.size).toBe(0); // every map is larger than 1 byte
    const roomy = new ResultCache();
    roomy.store('a', result, ['gradcam'], {});
    roomy.store('b', result, ['gradcam'], {});
    expect(roomy.size).toBe(2);
    expect(roomy.map('a', 'gradcam', {})).toBe(result.maps.gradcam);
  });
});
