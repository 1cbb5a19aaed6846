/**
 * Can I trust these maps: faithfulness (deletion / insertion, ROAD, confidence change, with reference
 * maps) and the randomisation sanity check, measured on the maps on screen. They run on the explain
 * lane: never alongside an explanation, superseded by a newer explanation (its maps would be stale)
 * or a newer measurement.
 */
import { studioError } from '../../shared/errors';
import { isMethodId, type MethodId } from '../../shared/methods';
import type { FaithfulnessOptions, FaithfulnessResult, SanityOptions } from '../../shared/metrics';
import type { ExplainOptions } from '../../shared/types';
import { measureFaithfulness } from '../../engine/metrics/measure';
import { sanityCheck } from '../../engine/metrics/sanity';
import type { LoadedModel } from '../../engine/model';
import { cropBox } from '../../engine/preprocess';
import { renderMethodPanel } from '../../render/composite';
import { displaySize } from '../../render/pixels';
import type { SanitySummary } from '../../protocol/metrics';
import type { DecodedImage } from '../image-decode';
import { guard } from '../guard';
import type { Lanes } from '../lane';
import type { Cell, WorkerSession } from '../session';

/** The long side of the sanity check's strip pictures, in pixels. */
const STRIP_LONG_SIDE = 96;

interface Shown {
  classIndex: number;
  options: ExplainOptions;
  cells: Cell[];
}

type Measure<T> = (signal: AbortSignal, model: LoadedModel, image: DecodedImage, shown: Shown) => Promise<T>;

export function makeMetricsApi(session: WorkerSession, lanes: Lanes) {
  function runMeasurement<T>(requestId: number, measure: Measure<T>): Promise<T> {
    return session.requests.run(requestId, (requestSignal) =>
      lanes.explain.run(
        async (signal) => {
          const { model, image, panels, explained } = session;
          if (!model) throw studioError('NO_MODEL');
          if (!image) throw studioError('NO_IMAGE');
          if (!panels || !explained || panels.cells.length === 0) throw studioError('METRICS_NOTHING_EXPLAINED');
          if (explained.grid !== 'methods') throw studioError('METRICS_METHODS_GRID');
          const cells = panels.cells.filter((c) => isMethodId(c.info.key));
          return measure(signal, model, image, { classIndex: explained.classIndex, options: explained.options, cells });
        },
        { signal: requestSignal, kind: 'measure', supersedes: ['measure'] },
      ),
    );
  }

  return {
    /** Faithfulness of the maps on screen (methods grid), with the random and centre-Gaussian maps as references. */
    faithfulness(requestId: number, options: FaithfulnessOptions): Promise<FaithfulnessResult> {
      return guard(
        () =>
          runMeasurement(requestId, async (signal, model, image, shown) => {
            const maps: Partial<Record<MethodId, { width: number; height: number; data: Float32Array }>> = {};
            for (const cell of shown.cells) maps[cell.info.method] = cell.map.kind === 'heatmap' ? cell.map.upsampled : cell.map.saliency;
            return measureFaithfulness(model, {
              image: image.raw, preprocess: shown.options.preprocess, classIndex: shown.classIndex, maps, options, signal,
              onProgress: (fraction) => session.sendProgress({ requestId, metrics: { kind: 'faithfulness', fraction } }),
            });
          }),
        'measuring faithfulness',
      );
    },

    /** The randomisation sanity check of the methods on screen, on copies of the weights, with a strip of small maps. */
    sanityCheck(requestId: number, options: SanityOptions): Promise<SanitySummary> {
      return guard(
        () =>
          runMeasurement(requestId, async (signal, model, image, shown): Promise<SanitySummary> => {
            const methods = shown.cells.map((c) => c.info.method);
            const resize = session.currentResize(shown.options);
            const region = cropBox(image.raw, [model.summary.imageSize[0], model.summary.imageSize[1]], resize);
            const size = displaySize(region.width, region.height, STRIP_LONG_SIDE);
            const small = session.painter.region(image, region, size.width, size.height);
            const strip: SanitySummary['strip'] = {};
            const result = await sanityCheck({
              loaded: model, image: image.raw, explain: { ...shown.options, methods }, classIndex: shown.classIndex,
              mode: options.mode, seed: options.seed, signal,
              onStep: async (fraction, _step, stepResult) => {
                session.sendProgress({ requestId, metrics: { kind: 'sanity', fraction } });
                for (const id of methods) {
                  const map = stepResult.maps[id];
                  if (!map) continue;
                  const pixels = await renderMethodPanel(small, map, session.view);
                  (strip[id] ??= []).push({ width: pixels.width, height: pixels.height, data: pixels.data });
                }
              },
            });
            return { ...result, strip };
          }),
        'running the sanity check',
      );
    },
  };
}
