/**
 * Explaining: the methods grid (every chosen method at one layer) or the layers grid (one method at
 * several layers), computed on the explain lane (a new explanation supersedes the one in flight and
 * any measurement), then drawn on the draw lane.
 */
import { studioError } from '../../shared/errors';
import { methodInfo, methodLabel, type MethodId } from '../../shared/methods';
import { conceptLegend, conceptTitle } from '../../shared/concepts';
import { conceptCells } from '../concept-cells';
import type { ExplainOptions, ExplainProgress, ExplainResult, MethodMap } from '../../shared/types';
import { layerPanelKey } from '../../shared/panels';
import { type LoadedModel, yieldToEvents, requestedMethods } from '../../engine';
import { renderMethodPanel } from '../../render/composite';
import type { ExplainSummary, GridSpec, PanelInfo, PanelName } from '../../protocol/explain';
import type { DecodedImage } from '../image-decode';
import { delay, guard, throwIfAborted } from '../guard';
import { headKey, type ResultCache } from '../result-cache';
import type { Lanes } from '../lane';
import type { Cell, WorkerSession } from '../session';

/** A panel's title: the method, and the layer when the grid compares layers; a concept's: its number and classes. */
export function cellTitle(info: PanelInfo, grid: GridSpec['mode']): string {
  if (info.concept) return conceptTitle(info.concept.index, info.concept.entry);
  const method = methodLabel(info.method);
  if (grid !== 'layers' || info.layerPaths.length === 0) return method;
  const layer = info.layerPaths.map((p) => p.split('/').pop()).join(' + ');
  return `${method} · ${layer}`;
}

type Computed = { info: PanelInfo; map: MethodMap };

/** A method's cell; in the methods grid, DFF showing all concepts is followed by one cell per concept. */
function cellOf(key: PanelName, method: MethodId, map: MethodMap | undefined, labels: readonly string[], grid: GridSpec['mode']): Computed[] {
  if (!map) return [];
  const info: PanelInfo = {
    key, method, layerPaths: map.layerPaths, output: map.kind, settings: map.settings,
    ...(map.kind === 'heatmap' ? { rawMax: map.rawMax } : {}),
    ...(map.kind === 'heatmap' && map.concepts ? { concepts: conceptLegend(map.concepts, labels) } : {}),
  };
  const concepts = map.kind === 'heatmap' && grid === 'methods' ? conceptCells(map, info) : [];
  return [{ info, map }, ...concepts];
}

/** Methods whose one map costs many passes: the ones a test can hold (`testExplainHoldMs`) to watch their panel. */
const COSTLY = new Set(['forward-per-channel', 'downstream-per-channel', 'pass-per-sample']);

interface CacheContext {
  cache: ResultCache;
  tokens: { model: string | null; image: string | null };
  /** Tests only: wait this long (cancellable) before computing a costly method, reporting it at 0 %. */
  holdMs: number;
}

/**
 * One explanation through the result cache: only the methods not kept already are computed (in one
 * engine call, so they share the backward pass); the rest come from the cache. `computed` says which ran.
 */
async function explainCached(
  loaded: LoadedModel,
  raw: DecodedImage['raw'],
  options: ExplainOptions,
  methods: MethodId[],
  signal: AbortSignal,
  onProgress: ((p: ExplainProgress) => void) | undefined,
  context: CacheContext,
): Promise<{ result: ExplainResult; computed: MethodId[] }> {
  const { cache } = context;
  const head = headKey(context.tokens, options);
  const known = cache.head(head);
  const missing = known ? methods.filter((m) => !cache.map(head, m, options)) : methods;
  let result: ExplainResult;
  if (missing.length > 0) {
    const costly = missing.find((m) => COSTLY.has(methodInfo(m).cost));
    if (context.holdMs > 0 && costly) {
      onProgress?.({ method: costly, fraction: 0, done: 0, total: missing.length });
      await delay(context.holdMs, signal);
    }
    result = await loaded.explain(raw, { ...options, methods: missing }, signal, onProgress);
    cache.store(head, result, missing, options);
  } else if (known) {
    result = { ...known, maps: {}, warnings: [], timings: { cached: 1 } };
  } else {
    throw studioError('INTERNAL', { reason: 'an explanation with no method' });
  }
  const maps: ExplainResult['maps'] = {};
  for (const m of methods) {
    const map = result.maps[m] ?? cache.map(head, m, options);
    if (map) maps[m] = map;
  }
  return { result: { ...result, maps }, computed: missing };
}

/**
 * The maps the grid shows: in the methods grid, every requested method at the chosen layer (one
 * explanation); in the layers grid, the first method at each layer (one backward pass each: the
 * forward pass is cached). Returns the first explanation (predictions, class), the cells and the
 * methods computed (the others came from the result cache).
 */
export async function explainGrid(
  loaded: LoadedModel,
  raw: DecodedImage['raw'],
  options: ExplainOptions,
  grid: GridSpec,
  signal: AbortSignal,
  onProgress: ((p: ExplainProgress) => void) | undefined,
  context: CacheContext,
): Promise<{ result: ExplainResult; cells: Computed[]; computed: MethodId[] }> {
  const requested = requestedMethods(options.methods);
  const method = requested[0];
  if (grid.mode === 'methods' || grid.layers.length === 0 || !method) {
    const { result, computed } = await explainCached(loaded, raw, options, requested, signal, onProgress, context);
    return { result, cells: requested.flatMap((m) => cellOf(m, m, result.maps[m], loaded.summary.labels, 'methods')), computed };
  }
  let first: ExplainResult | null = null;
  const cells: Computed[] = [];
  const computed: MethodId[] = [];
  for (const [i, layerPath] of grid.layers.entries()) {
    if (i > 0) await yieldToEvents(); // the watchdog's ping and a newer request get in between layers
    throwIfAborted(signal);
    const layerOptions = { ...options, methods: [method], layerPath, layerPaths: undefined };
    const { result, computed: ran } = await explainCached(loaded, raw, layerOptions, [method], signal, (p) =>
      onProgress?.({ ...p, done: i, total: grid.layers.length, fraction: (i + p.fraction) / grid.layers.length }), context,
    );
    first ??= result;
    computed.push(...ran);
    cells.push(...cellOf(layerPanelKey(i), method, result.maps[method], loaded.summary.labels, 'layers'));
  }
  if (!first) throw studioError('CANCELLED');
  return { result: first, cells, computed };
}

export function makeExplainApi(session: WorkerSession, lanes: Lanes) {
  return {
    /** Explain and draw the grid; costly methods report their progress on the session's channel (newest request wins). */
    explain(requestId: number, options: ExplainOptions, grid: GridSpec = { mode: 'methods' }): Promise<ExplainSummary> {
      return guard(
        () =>
          session.requests.run(requestId, (requestSignal) =>
            lanes.explain.run(
              async (signal) => {
                const model = session.model;
                const image = session.image;
                if (!model) throw studioError('NO_MODEL');
                if (!image) throw studioError('NO_IMAGE');
                // Asked about a model or image the worker no longer holds: the page has not yet applied the
                // newer open (its answer is on its way and brings a fresh request), so this one is void.
                const expected = options.expect;
                if (expected && ((expected.model != null && expected.model !== session.modelToken) || (expected.image != null && expected.image !== session.imageToken))) {
                  throw studioError('CANCELLED');
                }
                const started = performance.now();
                const progress = (p: ExplainProgress) => session.sendProgress({ requestId, explain: p });
                const context = { cache: session.results, tokens: { model: session.modelToken, image: session.imageToken }, holdMs: session.testExplainHoldMs };
                const { result, cells, computed } = await explainGrid(model, image.raw, options, grid, signal, progress, context);
                throwIfAborted(signal);
                const resize = session.currentResize(options);
                const renderStarted = performance.now();
                await lanes.draw.run(async () => {
                  throwIfAborted(signal);
                  const original = session.originalPanel(resize);
                  if (!original) throw studioError('NO_IMAGE');
                  const drawn: Cell[] = [];
                  for (const cell of cells) drawn.push({ ...cell, title: cellTitle(cell.info, grid.mode), pixels: await renderMethodPanel(original, cell.map, session.view) });
                  throwIfAborted(signal);
                  session.panels = { original, cells: drawn };
                  session.explained = { classIndex: result.classIndex, options, grid: grid.mode };
                  session.panelsResize = resize;
                  session.drawAll();
                });
                const gradcam = result.maps.gradcam;
                return {
                  requestId,
                  output: result.output,
                  layerPath: result.layerPath,
                  classIndex: result.classIndex,
                  classLabel: result.classLabel,
                  score: result.score,
                  probability: result.probability,
                  counterfactual: result.counterfactual,
                  predictions: result.predictions,
                  methods: cells.filter((c) => !c.info.concept).map((c) => c.info.method),
                  panels: cells.map((c) => c.info),
                  grid: grid.mode,
                  computed,
                  ...(gradcam?.kind === 'heatmap' ? { cam: gradcam.map, camRawMax: gradcam.rawMax } : {}),
                  warnings: result.warnings,
                  timings: { ...result.timings, render: performance.now() - renderStarted, total: performance.now() - started },
                };
              },
              { signal: requestSignal, kind: 'explain', supersedes: ['explain', 'measure'] },
            ),
          ),
        'explaining',
      );
    },
  };
}
