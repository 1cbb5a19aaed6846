/**
 * Explaining with the current choices (layer, class, output, methods, grid, preprocessing), the
 * newest request winning; each choice that re-explains puts itself back if the explanation failed.
 */
import { studioError, toStudioError } from '../shared/errors';
import { isMethodId, methodLabel, type MethodId, type MethodOptionValue } from '../shared/methods';
import type { ExplainOptions, PreprocessOptions, ViewOptions } from '../shared/types';
import type { GridSpec, ProgressEvent } from '../protocol';
import { usableMethods } from '../shared/attention';
import { findNode, gridLayers, resolveClass } from './layer-tree';
import { getClient, isCancelled, pushNotice, track, type ExplainOutcome } from './session';
import { currentOutput, useStore, type ExplanationSlice, type StudioState } from './store';

let explainSeq = 0;
let inFlight = 0;

/** Explanations in flight (a restarted worker retries one, so the page need not explain again). */
export function explainsInFlight(): number {
  return inFlight;
}

export function explainOptions(s: StudioState): ExplainOptions {
  return {
    layerPath: s.explanation.selectedLayerPath,
    target: s.explanation.target,
    counterfactual: s.explanation.counterfactual,
    output: s.explanation.output,
    // Methods this model cannot run (attention on a CNN) are left out; the picker says why.
    methods: usableMethods(s.explanation.methods, s.model.summary?.tree),
    methodOptions: { ...s.explanation.methodOptions },
    eigenSmooth: s.explanation.smoothing.eigenSmooth,
    augSmooth: s.explanation.smoothing.augSmooth,
    preprocess: { ...s.preprocess },
    // The worker answers only for the model and image on screen (else a newer open is on its way).
    expect: { model: s.committed.modelToken, image: s.committed.imageToken },
  };
}

/** What the grid shows: the methods side by side, or the first method at the grid's layers. */
export function gridSpec(s: StudioState): GridSpec {
  if (s.explanation.grid !== 'layers' || !s.model.summary) return { mode: 'methods' };
  const [height, width] = s.model.summary.imageSize;
  return { mode: 'layers', layers: gridLayers(s.model.summary.tree, s.explanation.selectedLayerPath ?? s.model.summary.defaultLayerPath, [height, width]) };
}

/** Aborts the explanation in flight (the Cancel button); the previous one stays on screen. */
let explainController: AbortController | null = null;

export function cancelExplain(): void {
  explainController?.abort();
}

/** Explain with the current choices; the newest call wins. */
export async function runExplain(): Promise<ExplainOutcome> {
  const s = useStore.getState();
  const c = getClient();
  if (!c || !s.model.summary) return 'skipped';
  if (!s.image) {
    pushNotice(studioError('NO_IMAGE').toNotice(), 'warning');
    return 'skipped';
  }
  const seq = ++explainSeq;
  inFlight++;
  const controller = new AbortController();
  explainController = controller;
  const methods = s.explanation.grid === 'methods' ? usableMethods(s.explanation.methods, s.model.summary?.tree) : [];
  const setRunning = (running: ExplanationSlice['running'], unfinished: ExplanationSlice['unfinished'] = null) =>
    useStore.setState((st) => ({ explanation: { ...st.explanation, running, unfinished } }));
  setRunning({ methods, method: null, methodSince: Date.now() });
  const onProgress = (event: ProgressEvent) => {
    if (seq !== explainSeq || !('explain' in event)) return;
    const progress = event.explain;
    useStore.setState((st) => {
      const running = st.explanation.running;
      const moved = running && running.method !== progress.method ? { ...running, method: progress.method, methodSince: Date.now() } : running;
      return {
        status: { ...st.status, explainProgress: progress, phase: `${methodLabel(progress.method)}: ${Math.round(progress.fraction * 100)} %` },
        explanation: moved === running ? st.explanation : { ...st.explanation, running: moved },
      };
    });
  };
  try {
    const done = await track('Explaining…', () => c.call('explain', [explainOptions(s), gridSpec(s)], { signal: controller.signal, lane: 'explain', onProgress }));
    if (seq === explainSeq) useStore.setState((st) => ({ status: { ...st.status, explainProgress: null } }));
    if (!done.ok) {
      // The panels it would have drawn say why they are empty (a newer request speaks for itself).
      if (seq === explainSeq) {
        const drawn = new Set(useStore.getState().explanation.last?.methods ?? []);
        setRunning(null, { outcome: done.cancelled ? 'cancelled' : 'failed', methods: methods.filter((m) => !drawn.has(m)) });
      }
      return done.cancelled ? 'cancelled' : 'failed';
    }
    // A newer request was issued meanwhile: its answer is the one to show.
    if (seq !== explainSeq) return 'cancelled';
    const summary = done.value;
    for (const n of summary.warnings) pushNotice(n, 'warning');
    // The scores were of the maps now replaced.
    useStore.setState((st) => ({ explanation: { ...st.explanation, last: summary, running: null, unfinished: null }, metrics: { ...st.metrics, faithfulness: null, sanity: null } }));
    return 'ok';
  } finally {
    inFlight--;
    if (explainController === controller) explainController = null;
  }
}

/** The fields of each slice that a patch changed: (slice, field) pairs, so progress written to the same slice meanwhile does not count as a change of choice. */
function changedFields(before: StudioState, patch: Partial<StudioState>): [keyof StudioState, string][] {
  const out: [keyof StudioState, string][] = [];
  for (const k of Object.keys(patch) as (keyof StudioState)[]) {
    const was = before[k] as unknown as Record<string, unknown>;
    const is = patch[k] as unknown as Record<string, unknown>;
    for (const f of Object.keys(is)) if (is[f] !== was[f]) out.push([k, f]);
  }
  return out;
}

/** Change one choice, explain, and put the choice back if the explanation failed. */
async function explainWith(apply: (s: StudioState) => Partial<StudioState>): Promise<ExplainOutcome> {
  const before = useStore.getState();
  const patch = apply(before);
  const changed = changedFields(before, patch);
  useStore.setState(patch);
  const outcome = await runExplain();
  if (outcome === 'failed') {
    const field = (s: Partial<StudioState>, k: keyof StudioState, f: string) => (s[k] as unknown as Record<string, unknown>)[f];
    // Only undo if nobody changed the same choice again meanwhile (running/progress fields of the slice may have moved).
    const now = useStore.getState();
    const untouched = changed.every(([k, f]) => field(now, k, f) === field(patch, k, f));
    if (untouched) {
      useStore.setState((st) => {
        const undo: Record<string, Record<string, unknown>> = {};
        for (const [k, f] of changed) undo[k] = { ...(undo[k] ?? (st[k] as unknown as Record<string, unknown>)), [f]: field(before, k, f) };
        return undo as Partial<StudioState>;
      });
    }
  }
  return outcome;
}

export async function selectLayer(path: string): Promise<ExplainOutcome> {
  const summary = useStore.getState().model.summary;
  if (!summary) return 'skipped';
  const node = findNode(summary.tree, path);
  if (!node) {
    pushNotice(studioError('LAYER_NOT_FOUND', { path }).toNotice(), 'error');
    return 'failed';
  }
  if (!node.explainable) {
    pushNotice(studioError('LAYER_NOT_SPATIAL', { path }).toNotice(), 'error');
    return 'failed';
  }
  return explainWith((s) => ({ explanation: { ...s.explanation, selectedLayerPath: path } }));
}

/** A class index, a label or an index typed as text; null = the top-1 prediction. */
export async function setTarget(query: number | string | null): Promise<ExplainOutcome> {
  const summary = useStore.getState().model.summary;
  if (!summary) return 'skipped';
  let target: number | null = null;
  if (query !== null && !(typeof query === 'string' && query.trim() === '')) {
    const { labels } = currentOutput(summary, useStore.getState().explanation.output);
    target = resolveClass(query, labels);
    if (target === null) {
      pushNotice(studioError('CLASS_NOT_FOUND', { query: String(query), count: labels.length }).toNotice(), 'error');
      return 'failed';
    }
  }
  return explainWith((s) => ({ explanation: { ...s.explanation, target } }));
}

/** Explain another output of a multi-output model (its classes differ: the target goes back to top-1). */
export async function setOutput(output: number): Promise<ExplainOutcome> {
  return explainWith((s) => ({ explanation: { ...s.explanation, output, target: null } }));
}

export async function setCounterfactual(counterfactual: boolean): Promise<ExplainOutcome> {
  return explainWith((s) => ({ explanation: { ...s.explanation, counterfactual } }));
}

// ---------------------------------------------------------------- methods and the comparison grid

/** The methods to show, in order (at least one; unknown ids dropped). */
export async function setMethods(methods: MethodId[]): Promise<ExplainOutcome> {
  const chosen = [...new Set(methods.filter(isMethodId))];
  if (chosen.length === 0) return 'skipped';
  return explainWith((s) => ({ explanation: { ...s.explanation, methods: chosen } }));
}

/** Add or remove one method (the last one cannot be removed). */
export async function toggleMethod(method: MethodId, on: boolean): Promise<ExplainOutcome> {
  const current = useStore.getState().explanation.methods;
  const next = on ? (current.includes(method) ? current : [...current, method]) : current.filter((m) => m !== method);
  if (next.length === 0 || next.length === current.length && next.every((m, i) => m === current[i])) return 'skipped';
  return setMethods(next);
}

/** One method setting (SmoothGrad's samples, Integrated Gradients' baseline, …): re-explains. */
export async function setMethodOption(method: MethodId, name: string, value: MethodOptionValue): Promise<ExplainOutcome> {
  return explainWith((s) => ({
    explanation: { ...s.explanation, methodOptions: { ...s.explanation.methodOptions, [method]: { ...(s.explanation.methodOptions[method] ?? {}), [name]: value } } },
  }));
}

/** Eigen-smoothing and flip (test-time augmentation) smoothing for the CAM methods. */
export async function setSmoothing(partial: Partial<ExplanationSlice['smoothing']>): Promise<ExplainOutcome> {
  return explainWith((s) => ({ explanation: { ...s.explanation, smoothing: { ...s.explanation.smoothing, ...partial } } }));
}

/** Compare the chosen methods side by side, or the first of them at several layers. */
export async function setGrid(grid: ExplanationSlice['grid']): Promise<ExplainOutcome> {
  if (useStore.getState().explanation.grid === grid) return 'skipped';
  return explainWith((s) => ({ explanation: { ...s.explanation, grid } }));
}

export async function setPreprocess(partial: Partial<PreprocessOptions>): Promise<ExplainOutcome> {
  return explainWith((s) => ({ preprocess: { ...s.preprocess, ...partial } }));
}

/** Back to the model's own preprocessing defaults. */
export async function resetPreprocess(): Promise<ExplainOutcome> {
  return explainWith(() => ({ preprocess: {} }));
}

/** Recolour only: the worker redraws from the maps it has, nothing is recomputed. */
export async function setView(partial: Partial<ViewOptions>): Promise<void> {
  const view = { ...useStore.getState().view, ...partial };
  useStore.setState({ view });
  const c = getClient();
  if (!c) return;
  try {
    await c.call('setView', [view]);
  } catch (e) {
    if (!isCancelled(e)) pushNotice(toStudioError(e).toNotice(), 'error');
  }
}

/** Forget the explanation bookkeeping (unit tests). */
export function resetExplainForTest(): void {
  explainSeq = 0;
  inFlight = 0;
  explainController = null;
}
