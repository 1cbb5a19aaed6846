/**
 * The in-worker benchmark (`npm run bench`): forward passes, explanations, live frames and the
 * faithfulness curves of the current model and image, timed here so the page's messaging is not in
 * the figures; optionally one more run under tf.profile, kernel by kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { studioError } from '../../shared/errors';
import type { MethodId } from '../../shared/methods';
import { classProbability } from '../../engine/metrics/measure';
import { scoreFaithfulness } from '../../engine/metrics/faithfulness';
import { preprocessImage, resolvePreprocess } from '../../engine/preprocess';
import { yieldToEvents } from '../../engine/methods/context';
import type { LoadedModel } from '../../engine/model';
import type { BenchCase, BenchCaseResult, BenchResult, BenchSpec, KernelProfile } from '../../protocol/bench';
import type { DecodedImage } from '../image-decode';
import { guard, throwIfAborted } from '../guard';
import type { Lanes } from '../lane';
import { LiveSession } from '../live';
import type { WorkerSession } from '../session';

type Raw = DecodedImage['raw'];

/** One run under tf.profile: where its time goes, kernel by kernel (`npm run bench -- --threads`). */
async function profileKernels(run: () => Promise<number>): Promise<KernelProfile> {
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    await run();
  });
  const wallMs = performance.now() - t0;
  const rows = new Map<string, { ms: number; calls: number }>();
  let kernelMs = 0;
  for (const k of info.kernels) {
    // "fusedConv2d__op" and the like are op scopes (a custom gradient) around kernels listed too.
    if (k.name.endsWith('__op')) continue;
    const ms = Number(k.kernelTimeMs) || 0;
    const row = rows.get(k.name) ?? { ms: 0, calls: 0 };
    row.ms += ms;
    row.calls++;
    kernelMs += ms;
    rows.set(k.name, row);
  }
  const kernels = [...rows].map(([name, r]) => ({ name, ms: Math.round(r.ms * 10) / 10, calls: r.calls })).sort((a, b) => b.ms - a.ms);
  return { wallMs: Math.round(wallMs), kernelMs: Math.round(kernelMs), kernels };
}

/** ms of the deletion + insertion curves of the first method's map (its explanation untimed). */
async function timeCurves(loaded: LoadedModel, raw: Raw, methods: MethodId[], layerPath: string | undefined, steps: number, signal: AbortSignal): Promise<number> {
  const result = await loaded.explain(raw, { methods, layerPath }, signal);
  const first = methods[0];
  const map = first ? result.maps[first] : undefined;
  if (!map) throw studioError('INTERNAL', { reason: 'the timed method drew no map' });
  const input = preprocessImage(raw, loaded.summary.imageSize, resolvePreprocess(loaded.summary.preprocess));
  try {
    const t0 = performance.now();
    await scoreFaithfulness({
      input, probability: classProbability(loaded, result.classIndex), signal,
      maps: [{ id: 'map', map: (map.kind === 'heatmap' ? map.upsampled : map.saliency).data }], options: { steps, measures: 'curves' },
    });
    return performance.now() - t0;
  } finally {
    input.dispose();
  }
}

/**
 * One untimed warm-up run of every case, then `runs` rounds that time each case once, interleaved,
 * so a busy machine's slow moments spread over all cases alike instead of skewing one (see BenchCase
 * for cold vs warm).
 */
async function benchCases(session: WorkerSession, loaded: LoadedModel, raw: Raw, spec: BenchSpec, signal: AbortSignal): Promise<BenchCaseResult[]> {
  /** The benchmark's live session: renders frames like live mode, onto no canvas. */
  const benchLive = new LiveSession();
  const classes = loaded.summary.labels.length;
  let warmCalls = 0;
  const once = async (c: BenchCase): Promise<number> => {
    const target = c.warm ? ++warmCalls % classes : 0; // warm: a new class each call, so the backward pass re-runs
    if (c.warm) await loaded.predict(raw); // untimed: the activations are cached (a cold case may have cleared them)
    else loaded.clearCache();
    if (c.methods === 'live-frame') {
      // The frame the page would grab (untimed): longer side 320 px.
      const scale = Math.min(1, 320 / Math.max(raw.width, raw.height));
      const frame = await createImageBitmap(new ImageData(new Uint8ClampedArray(raw.data), raw.width, raw.height), { resizeWidth: Math.round(raw.width * scale), resizeHeight: Math.round(raw.height * scale) });
      const t0 = performance.now();
      await benchLive.explainFrame(loaded, frame, { methods: ['gradcam'], layerPath: c.layerPath }, session.view, signal);
      return performance.now() - t0;
    }
    if (c.metricsSteps && c.methods !== 'forward') return timeCurves(loaded, raw, c.methods, c.layerPath, c.metricsSteps, signal);
    const t0 = performance.now();
    if (c.methods === 'forward') await loaded.predict(raw);
    else await loaded.explain(raw, { methods: c.methods, layerPath: c.layerPath, target }, signal);
    return performance.now() - t0;
  };
  for (const c of spec.cases) {
    await yieldToEvents();
    await once(c);
  }
  const results: BenchCaseResult[] = spec.cases.map((c) => ({ label: c.label, runs: [] }));
  for (let round = 0; round < spec.runs; round++) {
    for (const [i, c] of spec.cases.entries()) {
      // Between runs (untimed) the worker answers the watchdog's ping and a cancel.
      await yieldToEvents();
      throwIfAborted(signal);
      results[i]?.runs.push(await once(c));
    }
  }
  for (const [i, c] of spec.cases.entries()) {
    const result = results[i];
    if (!c.profile || !result) continue;
    await yieldToEvents();
    throwIfAborted(signal);
    result.profile = await profileKernels(() => once(c));
  }
  return results;
}

export function makeBenchApi(session: WorkerSession, lanes: Lanes) {
  return {
    /** Time forward passes and explanations of the current model and image in this worker (`npm run bench`). */
    benchmark(requestId: number, spec: BenchSpec): Promise<BenchResult> {
      return guard(() =>
        session.requests.run(requestId, async (signal) => {
          await lanes.explain.idle(); // never time alongside an explanation
          await session.remembering; // nor alongside the IndexedDB write of the model just opened
          const { model, image } = session;
          if (!model) throw studioError('NO_MODEL');
          if (!image) throw studioError('NO_IMAGE');
          const results = await benchCases(session, model, image.raw, spec, signal);
          model.clearCache();
          return { backend: tf.getBackend(), cases: results };
        }),
      );
    },
  };
}
