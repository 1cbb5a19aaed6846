/**
 * Can I trust these maps: faithfulness and the sanity check of the maps on screen, the newest
 * measurement winning; a result replaces only its own part, and only while its maps are still shown.
 */
import { studioError } from '../shared/errors';
import type { ProgressEvent } from '../protocol';
import type { StudioClientPort } from './client-port';
import { getClient, pushNotice, track, type ExplainOutcome } from './session';
import { useStore, type MetricsSlice } from './store';

let metricsController: AbortController | null = null;
let metricsSeq = 0;

/** Stops the measurement in flight (the Cancel button); the scores on screen stay. */
export function cancelMetrics(): void {
  metricsController?.abort();
}

export function setMetricsSettings(partial: Partial<Pick<MetricsSlice, 'steps' | 'baseline' | 'sanityMode'>>): void {
  const steps = partial.steps === undefined ? undefined : Math.min(100, Math.max(2, Math.round(partial.steps) || 2));
  useStore.setState((s) => ({ metrics: { ...s.metrics, ...partial, ...(steps === undefined ? {} : { steps }) } }));
}

/** Run one measurement of the maps on screen; the newest wins, its result replaces only its own part. */
async function measure<K extends 'faithfulness' | 'sanity'>(kind: K, phase: string, run: (c: StudioClientPort, signal: AbortSignal, onProgress: (fraction: number) => void) => Promise<MetricsSlice[K]>): Promise<ExplainOutcome> {
  const c = getClient();
  if (!c || !useStore.getState().explanation.last) {
    pushNotice(studioError('METRICS_NOTHING_EXPLAINED').toNotice(), 'warning');
    return 'skipped';
  }
  metricsController?.abort();
  const controller = new AbortController();
  metricsController = controller;
  const seq = ++metricsSeq;
  const explanation = useStore.getState().explanation.last;
  useStore.setState((s) => ({ metrics: { ...s.metrics, running: kind, progress: 0 } }));
  const onProgress = (fraction: number) => {
    if (seq === metricsSeq) useStore.setState((s) => ({ metrics: { ...s.metrics, progress: fraction }, status: { ...s.status, phase: `${phase} ${Math.round(fraction * 100)} %` } }));
  };
  try {
    const done = await track(phase, () => run(c, controller.signal, onProgress));
    if (seq !== metricsSeq) return 'cancelled';
    useStore.setState((s) => ({ metrics: { ...s.metrics, running: null, progress: null } }));
    if (!done.ok) return done.cancelled ? 'cancelled' : 'failed';
    // Measured maps that a newer explanation has replaced meanwhile are not shown.
    if (useStore.getState().explanation.last !== explanation) return 'cancelled';
    useStore.setState((s) => ({ metrics: { ...s.metrics, [kind]: done.value } }));
    return 'ok';
  } finally {
    if (metricsController === controller) metricsController = null;
  }
}

/** A measurement's progress events as fractions. */
function metricsProgress(onProgress: (fraction: number) => void): (event: ProgressEvent) => void {
  return (event) => {
    if ('metrics' in event) onProgress(event.metrics.fraction);
  };
}

/** Deletion / insertion curves, ROAD and the confidence change of every map on screen, with the reference maps. */
export function measureFaithfulness(): Promise<ExplainOutcome> {
  const { steps, baseline } = useStore.getState().metrics;
  return measure('faithfulness', 'Measuring faithfulness…', (c, signal, onProgress) => {
    return c.call('faithfulness', [{ steps, baseline }], { signal, lane: 'metrics', onProgress: metricsProgress(onProgress) });
  });
}

/** The randomisation sanity check of the methods on screen. */
export function runSanityCheck(): Promise<ExplainOutcome> {
  const { sanityMode } = useStore.getState().metrics;
  return measure('sanity', 'Sanity check…', (c, signal, onProgress) => {
    return c.call('sanityCheck', [{ mode: sanityMode }], { signal, lane: 'metrics', onProgress: metricsProgress(onProgress) });
  });
}

/** Forget the measurement in flight (unit tests). */
export function resetMetricsForTest(): void {
  metricsController = null;
}
