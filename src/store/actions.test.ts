/**
 * The store's rules, driven through its public actions with a stand-in for the worker client
 * (the client boundary, not the engine: these tests are about what the page keeps and shows).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackendInfo, BackendName, ExplainOptions, ModelSummary, ViewOptions } from '../shared/types';
import type { DroppedResult, ExplainSummary, ExtraPanel, PanelName, TransferredFile, WorkerOperation } from '../protocol';
import type { CallOptions } from '../client/studio-client';
import type { FaithfulnessOptions, FaithfulnessResult } from '../shared/metrics';
import {
  attachPanels,
  boot,
  dropFiles,
  exportCaption,
  exportFileName,
  exportPng,
  measureFaithfulness,
  largeViewCaption,
  largeViewFileName,
  resetForTest,
  setExportExtras,
  selectLayer,
  setPreprocess,
  setTarget,
  setView,
  share,
  shareRoute,
  switchBackend,
} from './actions';
import { setClientFactory, type ClientEvent, type StudioClientPort } from './client-port';
import { appState, latestNotice, useStore } from './store';
import { nestedSummary } from './test-fixtures';

const wasm: BackendInfo = { name: 'wasm', reason: 'no GPU', available: ['wasm', 'cpu'] };

class StandInClient implements StudioClientPort {
  explains: ExplainOptions[] = [];
  views: ViewOptions[] = [];
  inits: (BackendName | null | undefined)[] = [];
  mounted: Partial<Record<PanelName, HTMLElement>>[] = [];
  listeners = new Set<(e: ClientEvent) => void>();
  summary: ModelSummary = nestedSummary();
  /** Replace to make the next explain fail or hang. */
  explainImpl: (o: ExplainOptions) => Promise<ExplainSummary> = async (o) => this.answer(o);
  openFilesImpl: (files: TransferredFile[]) => Promise<DroppedResult> = async () => this.commit({});
  /** What the stand-in "worker" holds, as the real one reports it (CommittedState). */
  state: DroppedResult['state'] = { version: 0, model: null, image: null };
  private tokens = 0;

  /** An open that commits `parts` (none: nothing new), answered with the committed state as the worker does. */
  commit(parts: { model?: ModelSummary; ignored?: string[]; image?: boolean }, notices: DroppedResult['notices'] = []): DroppedResult {
    const token = `t${++this.tokens}`;
    const image = { name: 'sample.png', width: 28, height: 28, notices: [] };
    if (parts.model || parts.image) {
      this.state = {
        version: this.state.version + 1,
        model: parts.model ? { token, summary: parts.model, ignored: parts.ignored ?? [] } : this.state.model,
        image: parts.image ? { token, info: image } : this.state.image,
      };
    }
    return {
      notices,
      state: this.state,
      ...(parts.model ? { model: { summary: parts.model, ignored: parts.ignored ?? [] } } : {}),
      ...(parts.image ? { image } : {}),
    };
  }

  answer(o: ExplainOptions): ExplainSummary {
    const classIndex = typeof o.target === 'number' ? o.target : 0;
    return {
      requestId: this.explains.length,
      output: o.output ?? 0,
      layerPath: o.layerPath ?? this.summary.defaultLayerPath,
      classIndex,
      classLabel: this.summary.labels[classIndex],
      score: 2.5,
      probability: 0.8,
      counterfactual: Boolean(o.counterfactual),
      predictions: this.summary.labels.map((label, index) => ({ index, label, probability: index === 0 ? 0.8 : 0.1, logit: 1 })),
      methods: o.methods ?? [],
      panels: (o.methods ?? []).map((m) => ({ key: m, method: m, layerPaths: [o.layerPath ?? this.summary.defaultLayerPath ?? ''], output: 'heatmap' as const, settings: {} })),
      grid: 'methods',
      computed: o.methods ?? [],
      warnings: [],
      timings: {},
    };
  }
  mountPanels(c: Partial<Record<PanelName, HTMLElement>>) {
    this.mounted.push(c);
  }
  async init(preferred?: BackendName | null) {
    this.inits.push(preferred);
    if (preferred === 'webgpu') throw { code: 'BACKEND_FAILED', message: 'The webgpu backend could not start: no adapter' };
    return preferred ? { ...wasm, name: preferred, reason: 'chosen by you' } : wasm;
  }
  openFiles(files: TransferredFile[], _signal?: AbortSignal) {
    return this.openFilesImpl(files);
  }
  async openDemo(): Promise<DroppedResult> {
    return this.commit({ model: this.summary, image: true });
  }
  explain(o: ExplainOptions) {
    this.explains.push(o);
    return this.explainImpl(o);
  }
  async setView(v: ViewOptions) {
    this.views.push(v);
  }
  exported: ExtraPanel[][] = [];
  async exportPng(_caption: string[], extras: ExtraPanel[] = []): Promise<Blob> {
    this.exported.push(extras);
    return new Blob([new Uint8Array([137, 80, 78, 71])], { type: 'image/png' });
  }
  measured: FaithfulnessOptions[] = [];
  /** Replace to make the next measurement wait. */
  faithfulnessImpl: () => Promise<FaithfulnessResult> = async () => this.scores();
  scores(): FaithfulnessResult {
    const curve = { x: [0, 1], y: [0.8, 0.1], auc: 0.45 };
    const s = { deletion: curve, insertion: curve, road: { percents: [10], morf: [0.2], lerf: [0.7], combined: 0.25 }, confidenceChange: -0.1 };
    return { classIndex: 0, classLabel: 'a', probability: 0.8, settings: { steps: 20, baseline: 'blur' }, methods: { gradcam: s }, references: { random: s, centre: s }, forwardPasses: 10 };
  }
  faithfulness(options: FaithfulnessOptions) {
    this.measured.push(options);
    return this.faithfulnessImpl();
  }
  async memory() {
    return { numTensors: 0, numBytes: 0 };
  }
  on(listener: (e: ClientEvent) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(e: ClientEvent) {
    for (const l of this.listeners) l(e);
  }
  killWorkerForTest() {}
  async mountLiveCanvas() {}
  /** The bridge's one entry point, answered by the stand-in's operations above. */
  call = (async (op: WorkerOperation, args: readonly unknown[], options: CallOptions = {}) => {
    switch (op) {
      case 'openFiles':
        return this.openFiles(args[0] as TransferredFile[], options.signal);
      case 'openDemo':
        return this.openDemo();
      case 'explain':
        return this.explain(args[0] as ExplainOptions);
      case 'setView':
        return this.setView(args[0] as ViewOptions);
      case 'exportPng':
        return this.exportPng(args[0] as string[], args[1] as ExtraPanel[] | undefined);
      case 'faithfulness':
        return this.faithfulness(args[0] as FaithfulnessOptions);
      case 'memory':
        return this.memory();
      case 'restoreCached':
        return null; // this browser has no cached model
      case 'demoSamples':
        return [];
      default:
        throw { code: 'INTERNAL', message: `the stand-in client has no ${op}` };
    }
  }) as StudioClientPort['call'];
}

let client: StandInClient;

beforeEach(async () => {
  resetForTest();
  client = new StandInClient();
  setClientFactory(() => client);
  attachPanels({ original: {} as HTMLElement });
  await boot();
});

afterEach(() => setClientFactory(null));

const notices = () => useStore.getState().status.notices;

describe('boot', () => {
  it('starts the backend, mounts the panels, opens the demo and explains its default layer', () => {
    const s = useStore.getState();
    expect(client.inits).toEqual([null]);
    expect(client.mounted).toHaveLength(1);
    expect(s.model.summary?.name).toBe('outer');
    expect(s.backend.info?.name).toBe('wasm');
    expect(client.explains).toHaveLength(1);
    expect(client.explains[0]).toMatchObject({ layerPath: 'outer/inner/base/out_relu', target: null, counterfactual: false });
    expect(s.explanation.last?.layerPath).toBe('outer/inner/base/out_relu');
    expect(appState(s)).toBe('ready');
    // One fresh status line for what was opened, nothing else.
    expect(notices().map((n) => [n.level, n.message])).toEqual([['info', 'outer: opened (tfjs-layers, 6 layers, input 28×28×3).']]);
  });
});

describe('a failed start', () => {
  it('shows the error, still mounts the panels, and a later drop works', async () => {
    resetForTest();
    const broken = new StandInClient();
    broken.init = async () => {
      throw { code: 'WORKER_CRASHED', message: 'The computation worker stopped (no wasm binary); it was restarted and the model reloaded.' };
    };
    setClientFactory(() => broken);
    attachPanels({ original: {} as HTMLElement });
    expect(appState(useStore.getState())).toBe('busy');
    await boot();
    expect(appState(useStore.getState())).toBe('error');
    expect(latestNotice(useStore.getState())?.code).toBe('WORKER_CRASHED');
    expect(broken.mounted).toHaveLength(1);
    expect(useStore.getState().model.summary).toBeNull();

    broken.openFilesImpl = async () => broken.openDemo();
    await dropFiles([{ file: new File(['{}'], 'model.json') }]);
    expect(useStore.getState().model.summary?.name).toBe('outer');
    expect(broken.explains).toHaveLength(1);
    expect(appState(useStore.getState())).toBe('ready');
  });
});

describe('a failed drop', () => {
  it('shows the coded message and keeps model, image and explanation; the next good drop works', async () => {
    const before = useStore.getState();
    client.openFilesImpl = async () => {
      // Errors cross the worker boundary as plain objects.
      throw { code: 'MISSING_SHARD', message: 'Weight file "group1-shard2of2.bin" is missing: drop it together with model.json.' };
    };
    await dropFiles([{ file: new File(['{}'], 'model.json') }]);
    const after = useStore.getState();
    expect(latestNotice(after)).toMatchObject({ code: 'MISSING_SHARD', level: 'error' });
    expect(latestNotice(after)?.message).toContain('group1-shard2of2.bin');
    expect(after.model.summary).toBe(before.model.summary);
    expect(after.image).toBe(before.image);
    expect(after.explanation.last).toBe(before.explanation.last);
    expect(appState(after)).toBe('error');

    const other = nestedSummary({ name: 'second', labels: ['a', 'b', 'c'], defaultLayerPath: 'outer/inner/base/conv_b' });
    client.summary = other;
    client.openFilesImpl = async () => client.commit({ model: other, ignored: ['notes.md'] });
    await dropFiles([{ file: new File(['{}'], 'model.json') }]);
    const good = useStore.getState();
    expect(good.model.summary).toBe(other);
    expect(good.model.ignored).toEqual(['notes.md']);
    expect(good.image).toBe(before.image);
    expect(client.explains.at(-1)?.layerPath).toBe('outer/inner/base/conv_b');
    expect(good.explanation.last?.classLabel).toBe('a');
    expect(appState(good)).toBe('ready');
    // The old error is still listed but no longer current.
    const missing = good.status.notices.find((n) => n.code === 'MISSING_SHARD')!;
    expect(missing.id).toBeLessThanOrEqual(good.status.resolvedUpTo);
  });

  it('a drop with nothing usable is an error with the worker’s notice', async () => {
    client.openFilesImpl = async () => client.commit({}, [{ code: 'UNKNOWN_FILE', message: 'notes.md is neither a model file nor an image; ignored.' }]);
    await dropFiles([{ file: new File(['x'], 'notes.md') }]);
    expect(latestNotice(useStore.getState())?.code).toBe('UNKNOWN_FILE');
    expect(appState(useStore.getState())).toBe('error');
    expect(client.explains).toHaveLength(1);
  });
});

describe('explaining', () => {
  it('ignores CANCELLED: no notice, the previous explanation stays', async () => {
    const last = useStore.getState().explanation.last;
    client.explainImpl = async () => {
      throw { code: 'CANCELLED', message: 'Cancelled by a newer request.' };
    };
    const before = notices().length;
    await selectLayer('outer/inner/base/conv_a');
    expect(notices()).toHaveLength(before);
    expect(useStore.getState().explanation.last).toBe(last);
    expect(appState(useStore.getState())).toBe('ready');
  });

  it('a failed layer puts the previous choice back and says why', async () => {
    client.explainImpl = async () => {
      throw { code: 'GRADIENT_UNSUPPORTED', message: 'The wasm backend cannot differentiate Foo.' };
    };
    await selectLayer('outer/inner/base/conv_a');
    const s = useStore.getState();
    expect(s.explanation.selectedLayerPath).toBe('outer/inner/base/out_relu');
    expect(latestNotice(s)?.code).toBe('GRADIENT_UNSUPPORTED');
    expect(s.explanation.last?.layerPath).toBe('outer/inner/base/out_relu');
  });

  it('refuses layers without a spatial output or not in the model, without asking the worker', async () => {
    await selectLayer('outer/inner/gap');
    expect(latestNotice(useStore.getState())?.code).toBe('LAYER_NOT_SPATIAL');
    await selectLayer('outer/missing');
    expect(latestNotice(useStore.getState())?.code).toBe('LAYER_NOT_FOUND');
    expect(client.explains).toHaveLength(1);
  });

  it('explains a nested layer chosen in the tree', async () => {
    await selectLayer('outer/inner/base/conv_a');
    expect(client.explains.at(-1)?.layerPath).toBe('outer/inner/base/conv_a');
    expect(useStore.getState().explanation.last?.layerPath).toBe('outer/inner/base/conv_a');
  });

  it('takes a typed label or index and rejects unknown classes with CLASS_NOT_FOUND', async () => {
    await setTarget('Rock');
    const n = latestNotice(useStore.getState());
    expect(n?.code).toBe('CLASS_NOT_FOUND');
    expect(n?.message).toContain('0–2');
    expect(client.explains).toHaveLength(1);
    await setTarget('thumbs up');
    expect(client.explains.at(-1)?.target).toBe(2);
    expect(useStore.getState().explanation.last?.classLabel).toBe('Thumbs Up');
    await setTarget(null);
    expect(client.explains.at(-1)?.target).toBeNull();
  });

  it('a preprocessing override re-explains with it', async () => {
    await setPreprocess({ normalization: 'unit' });
    expect(client.explains.at(-1)?.preprocess).toEqual({ normalization: 'unit' });
  });

  it('view changes recolour through setView and never re-explain', async () => {
    await setView({ colormap: 'viridis' });
    await setView({ opacity: 0.8 });
    expect(client.views.at(-1)).toEqual({ colormap: 'viridis', opacity: 0.8, threshold: 0 });
    expect(client.explains).toHaveLength(1);
  });

  it('after the worker restarted, says so and explains again', async () => {
    client.emit({ type: 'restarted', reason: 'terminated', backend: wasm, code: 'WORKER_CRASHED', retrying: false });
    expect(latestNotice(useStore.getState())).toMatchObject({ code: 'WORKER_CRASHED', level: 'warning' });
    await new Promise((r) => setTimeout(r, 0));
    expect(client.explains).toHaveLength(2);
  });

  it('after a restart that retries the interrupted explanation, does not start a second one', async () => {
    client.emit({ type: 'restarted', reason: 'terminated', backend: wasm, code: 'WORKER_CRASHED', retrying: true });
    expect(latestNotice(useStore.getState())).toMatchObject({ code: 'WORKER_CRASHED', level: 'warning' });
    await new Promise((r) => setTimeout(r, 0));
    expect(client.explains).toHaveLength(1);
  });

  it('a failing backend switch keeps the current backend and shows the error', async () => {
    await switchBackend('webgpu');
    const s = useStore.getState();
    expect(s.backend.info?.name).toBe('wasm');
    expect(s.backend.switching).toBe(false);
    expect(latestNotice(s)?.code).toBe('BACKEND_FAILED');
    await switchBackend('cpu');
    expect(useStore.getState().backend.info?.name).toBe('cpu');
    expect(client.explains).toHaveLength(2);
  });
});

describe('export naming', () => {
  it('captions name model, layer, class, score and methods; file names are safe', () => {
    const s = useStore.getState();
    const caption = exportCaption(s).join('\n');
    expect(caption).toContain('Model: outer');
    expect(caption).toContain('Layer: outer/inner/base/out_relu');
    expect(caption).toContain('Class: Peace (#0)');
    expect(caption).toContain('score 2.500');
    expect(caption).toContain('Methods: Grad-CAM; Guided backprop; Guided Grad-CAM');
    expect(exportFileName(s)).toBe('gradcam-outer-outer_inner_base_out_relu.png');
  });

  it('a 10 kB layer name and model name give a bounded file name; two such names stay different', () => {
    const long = (c: string) => `${c.repeat(10_000)}`;
    const s = useStore.getState();
    const named = (model: string, layer: string) =>
      exportFileName({ ...s, model: { ...s.model, summary: { ...s.model.summary!, name: model } }, explanation: { ...s.explanation, last: { ...s.explanation.last!, layerPath: `outer/${layer}` } } });
    const a = named(long('m'), long('a'));
    const b = named(long('m'), `${long('a')}b`);
    expect(a.length).toBeLessThanOrEqual(140);
    expect(a).toMatch(/^gradcam-m+~\w+-a+~\w+\.png$/);
    expect(b).not.toBe(a);
  });
});

describe('the large view and Share', () => {
  it("a panel's caption names its own layer and method; the original's names the image", () => {
    const s = useStore.getState();
    expect(largeViewCaption(s, 'guided-backprop')).toEqual([
      'Model: outer',
      'Layer: outer/inner/base/out_relu',
      'Class: Peace (#0), score 2.500, p = 80.0%',
      'Method: Guided backprop',
    ]);
    expect(largeViewCaption(s, 'original')).toEqual(['Model: outer', 'Original: sample.png, as the model sees it']);
    expect(largeViewFileName(s, 'layer:2')).toBe('gradcam-outer-outer_inner_base_out_relu-layer-2.png');
  });

  it('with neither Web Share nor an image clipboard, Share says so and makes no PNG', async () => {
    let made = 0;
    client.exportPng = async () => {
      made++;
      return new Blob([new Uint8Array([137, 80, 78, 71])], { type: 'image/png' });
    };
    expect(shareRoute()).toBe('none'); // Node has neither
    await share();
    const last = notices().at(-1)!;
    expect(last.code).toBe('SHARE_FAILED');
    expect(last.message).toContain('neither share files nor copy images');
    expect(last.message).toContain('Export PNG');
    expect(made).toBe(0);
  });
});

describe('what the worker committed is what the screen shows', () => {
  /** A result as the real client gives it: the worker's committed state, versioned, tokens naming the opens. */
  const committed = (version: number, model: { token: string; summary: ModelSummary } | null, image: { token: string; name: string } | null): DroppedResult => ({
    notices: [],
    state: {
      version,
      model: model ? { token: model.token, summary: model.summary, ignored: [] } : null,
      image: image ? { token: image.token, info: { name: image.name, width: 10, height: 10, notices: [] } } : null,
    },
  });

  it('an older state arriving late is ignored; explanations name the tokens on screen', async () => {
    const newer = nestedSummary({ name: 'newer', labels: ['x', 'y', 'z'] });
    const older = nestedSummary({ name: 'older', labels: ['p', 'q', 'r'] });
    client.openFilesImpl = async (files) =>
      files[0].file.name === 'late.json' ? committed(5, { token: 'open-1', summary: older }, { token: 'open-1', name: 'one.png' }) : committed(7, { token: 'open-2', summary: newer }, { token: 'open-3', name: 'two.png' });
    await dropFiles([{ file: new File(['{}'], 'new.json') }]);
    expect(useStore.getState().model.summary?.name).toBe('newer');
    expect(client.explains.at(-1)?.expect).toEqual({ model: 'open-2', image: 'open-3' });
    const explained = client.explains.length;
    await dropFiles([{ file: new File(['{}'], 'late.json') }]);
    const s = useStore.getState();
    expect(s.model.summary?.name).toBe('newer');
    expect(s.image?.name).toBe('two.png');
    expect(s.committed).toEqual({ version: 7, modelToken: 'open-2', imageToken: 'open-3' });
    expect(client.explains).toHaveLength(explained); // nothing new to explain
  });

  it('two drops in flight both finish (the first is not aborted); a cancelled part is said in the history', async () => {
    const model = nestedSummary({ name: 'slow', labels: ['a', 'b', 'c'] });
    let releaseModel!: () => void;
    const signals: (AbortSignal | undefined)[] = [];
    client.openFiles = (files: TransferredFile[], signal?: AbortSignal) => {
      signals.push(signal);
      if (files[0].file.name === 'model.json') {
        const result = { ...committed(9, { token: 'm', summary: model }, { token: 'i', name: 'photo.png' }), model: { summary: model, ignored: [] } };
        return new Promise<DroppedResult>((done) => (releaseModel = () => done(result)));
      }
      const image = { name: 'photo.png', width: 10, height: 10, notices: [] };
      return Promise.resolve({ ...committed(9, { token: 'm', summary: model }, { token: 'i', name: 'photo.png' }), image, cancelled: [{ part: 'image' as const, name: 'older.png' }] });
    };
    const first = dropFiles([{ file: new File(['{}'], 'model.json') }]);
    const second = dropFiles([{ file: new File(['x'], 'photo.png') }]);
    await second;
    releaseModel();
    await first;
    expect(signals.every((sig) => !sig?.aborted)).toBe(true);
    const s = useStore.getState();
    expect(s.model.summary?.name).toBe('slow');
    expect(s.image?.name).toBe('photo.png');
    expect(s.status.notices.map((n) => n.message)).toContain('Opening older.png was cancelled: a newer image was opened.');
    expect(s.status.notices.map((n) => n.message)).toContain('slow: opened (tfjs-layers, 6 layers, input 28×28×3).');
    expect(appState(s)).toBe('ready');
  });

  it('a restart that the failed call reports itself adds no second message, but the panels are redrawn', async () => {
    const before = client.explains.length;
    const notices = useStore.getState().status.notices.length;
    client.emit({ type: 'restarted', reason: 'WebAssembly trap: unreachable', backend: wasm, code: 'WORKER_CRASHED', retrying: false, reported: true });
    await new Promise((r) => setTimeout(r, 0));
    expect(useStore.getState().status.notices).toHaveLength(notices);
    expect(client.explains.length).toBe(before + 1);
  });
});

describe('faithfulness', () => {
  it('measures the maps on screen with the chosen settings; a new explanation clears the scores', async () => {
    useStore.setState((s) => ({ metrics: { ...s.metrics, steps: 10, baseline: 'mean' } }));
    expect(await measureFaithfulness()).toBe('ok');
    expect(client.measured).toEqual([{ steps: 10, baseline: 'mean' }]);
    expect(useStore.getState().metrics.faithfulness?.methods.gradcam?.road.combined).toBe(0.25);
    expect(useStore.getState().metrics.running).toBeNull();
    await setTarget(1);
    expect(useStore.getState().metrics.faithfulness).toBeNull();
  });

  it('scores of maps that a newer explanation replaced meanwhile are not shown', async () => {
    let finish: (r: FaithfulnessResult) => void = () => undefined;
    client.faithfulnessImpl = () => new Promise((resolve) => (finish = resolve));
    const measuring = measureFaithfulness();
    await setTarget(1);
    finish(client.scores());
    expect(await measuring).toBe('cancelled');
    expect(useStore.getState().metrics.faithfulness).toBeNull();
  });

  it('a failed measurement says why and keeps the explanation', async () => {
    client.faithfulnessImpl = async () => Promise.reject({ code: 'METRICS_METHODS_GRID', message: 'choose Compare methods' });
    const last = useStore.getState().explanation.last;
    expect(await measureFaithfulness()).toBe('failed');
    expect(notices().at(-1)?.code).toBe('METRICS_METHODS_GRID');
    expect(useStore.getState().explanation.last).toBe(last);
  });

  it('the plots shown go into the exported PNG', async () => {
    const plot: ExtraPanel = { title: 'Deletion curve', pixels: { width: 1, height: 1, data: new Uint8ClampedArray(4) } };
    setExportExtras(() => [plot]);
    await exportPng().catch(() => undefined); // the download needs a DOM; the client has the PNG's parts by then
    expect(client.exported.at(-1)).toEqual([plot]);
  });
});
