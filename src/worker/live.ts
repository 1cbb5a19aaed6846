/**
 * Live mode in the worker: a camera frame (an ImageBitmap the page transferred) is explained with one
 * single-pass method at the chosen layer and class and drawn straight onto the live canvas (an
 * OffscreenCanvas the page transferred once). Frames are never kept: the bitmap is closed as soon as
 * its pixels are read, the per-image cache is cleared after each frame, and nothing is sent back but
 * a few numbers.
 */
import type { LoadedModel } from '../engine/model';
import type { RawImage } from '../engine/files';
import { cropBox } from '../engine/preprocess';
import { studioError } from '../shared/errors';
import { methodInfo, type MethodId } from '../shared/methods';
import type { ExplainOptions, ViewOptions } from '../shared/types';
import { drawPanel, drawRegion, renderMethodPanel } from '../render/composite';
import { displaySize } from '../render/pixels';
import type { LiveFrameSummary } from '../protocol/live';

/** Costs cheap enough for every frame: one backward pass to the layer, or none (the registry's `cost`). */
const SINGLE_PASS = new Set(['activations', 'backward-to-layer']);

/** The first chosen method if it is a single-pass heatmap method, else Grad-CAM. */
export function liveMethod(requested: MethodId[] | undefined): MethodId {
  const id = requested?.find((m) => SINGLE_PASS.has(methodInfo(m).cost) && methodInfo(m).output === 'heatmap');
  return id ?? 'gradcam';
}

export class LiveSession {
  private canvas: OffscreenCanvas | null = null;

  attach(canvas: OffscreenCanvas): void {
    this.canvas = canvas;
  }

  async explainFrame(model: LoadedModel, frame: ImageBitmap, options: ExplainOptions, view: ViewOptions, signal: AbortSignal): Promise<Omit<LiveFrameSummary, 'requestId'>> {
    const started = performance.now();
    const source = new OffscreenCanvas(frame.width, frame.height);
    const ctx = source.getContext('2d');
    if (!ctx) throw studioError('INTERNAL', { reason: '2D canvas context unavailable' });
    ctx.drawImage(frame, 0, 0);
    frame.close(); // the frame is not kept
    const raw: RawImage = { width: source.width, height: source.height, data: ctx.getImageData(0, 0, source.width, source.height).data };
    const method = liveMethod(options.methods);
    try {
      const result = await model.explain(raw, { ...options, methods: [method] }, signal);
      const map = result.maps[method];
      if (!map || map.kind !== 'heatmap') throw studioError('INTERNAL', { reason: `${method} drew no heatmap` });
      if (signal.aborted) throw studioError('CANCELLED');
      const [h, w] = model.summary.imageSize;
      const resize = options.preprocess?.resize ?? model.summary.preprocess.resize;
      const region = cropBox(raw, [h, w], resize);
      const size = displaySize(region.width, region.height);
      const pixels = await renderMethodPanel(drawRegion(source, region, size.width, size.height), map, view);
      if (this.canvas) drawPanel(this.canvas, pixels);
      return {
        method,
        layerPath: result.layerPath,
        classIndex: result.classIndex,
        classLabel: result.classLabel,
        probability: result.probability,
        explainMs: performance.now() - started,
      };
    } finally {
      model.clearCache(); // a frame is never explained twice
    }
  }
}
