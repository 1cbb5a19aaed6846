/**
 * What is on screen and what leaves it: recolouring without recomputing, the large view, the exported
 * PNGs, the model as TF.js files, and the panels' pixels read back (tests).
 */
import * as Comlink from 'comlink';
import { studioError, toStudioError } from '../../shared/errors';
import type { Heatmap, ViewOptions } from '../../shared/types';
import { exportLayersModelAsTfjs } from '../../engine/formats/export-tfjs';
import { exportGridPng, renderMethodPanel, type ExportPanel } from '../../render/composite';
import { DISPLAY_LONG_SIDE, type PanelPixels } from '../../render/pixels';
import { exportLargeViewPng } from '../../render/large-view-export';
import { methodPictureAt } from '../../render/upsample';
import type { ViewFrame } from '../../render/large-view';
import type { PanelName } from '../../protocol/explain';
import type { ExportedModelFile, ExtraPanel, LargeViewImages, PanelImage } from '../../protocol/view';
import { guard } from '../guard';
import type { Lanes } from '../lane';
import type { Cell, WorkerSession } from '../session';

/** Longest side the large view is drawn at (a 4k screen's view; zooming past it shows the pixels). */
const LARGE_VIEW_MAX_SIDE = 2048;

export function makeViewApi(session: WorkerSession, lanes: Lanes) {
  /** One panel redrawn at the large view's size: the original, the method's overlay over it, and its map. */
  async function largeViewPixels(key: PanelName, longSide: number): Promise<{ title: string; original: PanelPixels; overlay: PanelPixels | null; map: Heatmap | null }> {
    await lanes.draw.idle(); // the latest recolour is in the picture
    const panels = session.panels;
    if (!panels) throw studioError('NO_IMAGE');
    const side = Math.round(Math.min(LARGE_VIEW_MAX_SIDE, Math.max(DISPLAY_LONG_SIDE, longSide)));
    const original = session.originalPanel(session.panelsResize, side);
    if (!original) throw studioError('NO_IMAGE');
    if (key === 'original') return { title: 'Original', original, overlay: null, map: null };
    const cell = panels.cells.find((c) => c.info.key === key);
    if (!cell) throw studioError('EXPORT_FAILED', { reason: `the panel ${key} has nothing drawn yet` });
    const map = cell.map.kind === 'heatmap' ? cell.map.upsampled : cell.map.saliency;
    // Plain JS at this size: the tfjs path took seconds on WASM at 1280² (render/upsample.ts).
    return { title: cell.title, original, overlay: methodPictureAt(original, cell.map, session.view), map };
  }

  return {
    /** Recolour the current maps without recomputing. */
    setView(_requestId: number, next: ViewOptions): Promise<void> {
      return guard(async () => {
        session.view = { ...next };
        await lanes.draw.run(async () => {
          const panels = session.panels;
          if (!panels) return;
          const original = panels.original;
          const cells: Cell[] = [];
          for (const cell of panels.cells) cells.push(cell.map.kind === 'heatmap' ? { ...cell, pixels: await renderMethodPanel(original, cell.map, session.view) } : cell);
          session.panels = { original, cells };
          session.drawAll(cells.filter((c) => c.map.kind === 'heatmap').map((c) => c.info.key));
        });
      });
    },

    /** One panel redrawn for the large view, its longer side `longSide` pixels (see LargeViewImages). */
    largeView(_requestId: number, key: PanelName, longSide: number): Promise<LargeViewImages> {
      return guard(async () => {
        const { title, original, overlay, map } = await largeViewPixels(key, longSide);
        const [inputHeight, inputWidth] = session.model ? session.model.summary.imageSize : [original.height, original.width];
        // The map is the cell's own: the page gets a copy; the fresh pixels are handed over.
        const copy = map ? { width: map.width, height: map.height, data: map.data.slice() } : null;
        const result: LargeViewImages = { key, title, original, overlay, map: copy, input: { width: inputWidth, height: inputHeight } };
        const buffers = [original.data.buffer, overlay?.data.buffer, copy?.data.buffer].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
        return Comlink.transfer(result, buffers);
      });
    },

    /** PNG of the large view as shown (frame: size, zoom, centre, wipe; drawn from `largeView(key, longSide)`'s pixels) plus a caption strip. */
    exportLargeView(_requestId: number, key: PanelName, frame: ViewFrame, longSide: number, caption: string[]): Promise<Blob> {
      return guard(async () => {
        const { original, overlay } = await largeViewPixels(key, longSide);
        return exportLargeViewPng(original, overlay, frame, caption);
      });
    },

    /** PNG of the panels side by side plus a caption strip, and `extras` (the plots shown) after the panels. */
    exportPng(_requestId: number, caption: string[], extras: ExtraPanel[] = []): Promise<Blob> {
      return guard(async () => {
        await lanes.draw.idle(); // the latest recolour is in the picture
        const panels = session.panels;
        if (!panels) throw studioError('NO_IMAGE');
        const shown: ExportPanel[] = [
          { title: 'Original', pixels: panels.original },
          ...panels.cells.map((c) => ({ title: c.title, pixels: c.pixels })),
          ...extras.map((e) => ({ title: e.title, pixels: { width: e.pixels.width, height: e.pixels.height, data: new Uint8ClampedArray(e.pixels.data) } })),
        ];
        const heatmaps = panels.cells.some((c) => c.map.kind === 'heatmap');
        return exportGridPng(shown, caption, heatmaps ? session.view.colormap : null);
      });
    },

    /** The current model as TF.js files (model.json, weights.bin, metadata.json with its labels): the in-browser converter. */
    exportTfjs(_requestId: number): Promise<ExportedModelFile[]> {
      return guard(async () => {
        const current = session.model;
        if (!current) throw studioError('NO_MODEL');
        // A graph model is already TF.js files, and has no layers to write out.
        if (!current.model) throw studioError('MODEL_EXPORT_FAILED', { reason: 'a TF.js graph model is already in TF.js format (use its own files)' });
        let files: ExportedModelFile[];
        try {
          // Numbered placeholder labels ("class 3") are not worth writing out; a guessed preprocessing neither.
          const { labels, labelsFromFile, preprocess } = current.summary;
          files = await exportLayersModelAsTfjs(current.model, labelsFromFile ? labels : undefined, preprocess.source === 'default' ? undefined : preprocess);
        } catch (e) {
          throw studioError('MODEL_EXPORT_FAILED', { reason: toStudioError(e).message });
        }
        // Each file owns its buffer: hand them over instead of copying (weights can be tens of MB).
        return Comlink.transfer(files, files.map((f) => f.data.buffer as ArrayBuffer));
      });
    },

    /** The pixels last drawn on each panel (tests; transferred canvases cannot be read from the page). */
    async inspectPanels(_requestId: number): Promise<Record<PanelName, PanelImage>> {
      await lanes.draw.idle();
      const out: Record<PanelName, PanelImage> = {};
      const copy = (p: PanelPixels): PanelImage => ({ width: p.width, height: p.height, data: p.data.slice() });
      const panels = session.panels;
      if (panels) {
        out.original = copy(panels.original);
        for (const cell of panels.cells) out[cell.info.key] = copy(cell.pixels);
        // Panels on screen with nothing drawn yet read as the blank they show.
        for (const key of session.canvases.keys()) {
          const pixels = session.panelPixels(key);
          if (pixels) out[key] ??= copy(pixels);
        }
      }
      return out;
    },
  };
}
