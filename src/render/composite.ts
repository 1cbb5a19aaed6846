/**
 * Draws panels into OffscreenCanvases and builds the exported PNG. Runs in the worker (needs
 * OffscreenCanvas, no DOM); the pixel work itself is in `tf-render.ts` / `pixels.ts`.
 */
import type { Heatmap, ExplainResult, ViewOptions } from '../shared/types';
import { colormapLut } from './colormaps';
import { blankPanel, type PanelPixels, type Region } from './pixels';
import { addPngText } from './png-text';
import { renderOverlay, renderRgbMap } from './tf-render';

export type PanelId = 'original' | 'gradcam' | 'guided-backprop' | 'guided-gradcam';
/** Left-to-right order on screen and in the exported PNG. */
export const PANEL_ORDER: readonly PanelId[] = ['original', 'gradcam', 'guided-backprop', 'guided-gradcam'];

/** Export layout: panels side by side with no gaps, then a caption strip of this many px per line plus padding. */
export const CAPTION_LINE_HEIGHT = 18;
export const CAPTION_PADDING = 8;
export const CAPTION_FONT = '14px sans-serif';
/** PNG metadata keyword that carries the caption as text (iTXt, UTF-8, lines joined by "\n"). */
export const CAPTION_PNG_KEYWORD = 'Description';

type Source = ImageBitmap | OffscreenCanvas;

/** The model's view of the image (region) drawn at display size, as RGBA pixels. */
export function drawRegion(source: Source, region: Region, width: number, height: number): PanelPixels {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('2D canvas context unavailable');
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.fillStyle = '#fff'; // transparent images are shown on white
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(source, region.x, region.y, region.width, region.height, 0, 0, width, height);
  return { width, height, data: ctx.getImageData(0, 0, width, height).data };
}

/** All four panels for an explanation (missing methods → blank panels). */
export async function renderPanels(original: PanelPixels, result: ExplainResult | null, view: ViewOptions): Promise<Record<PanelId, PanelPixels>> {
  const { width, height } = original;
  const cam: Heatmap | undefined = result?.camUpsampled ?? result?.cam;
  return {
    original,
    gradcam: cam ? await renderOverlay(original, cam, colormapLut(view.colormap), view) : blankPanel(width, height),
    'guided-backprop': result?.guidedBackprop ? await renderRgbMap(result.guidedBackprop, width, height) : blankPanel(width, height),
    'guided-gradcam': result?.guidedGradcam ? await renderRgbMap(result.guidedGradcam, width, height) : blankPanel(width, height),
  };
}

/** Put pixels on a (possibly transferred) canvas, resizing it to the panel. */
export function drawPanel(canvas: OffscreenCanvas, pixels: PanelPixels): void {
  if (canvas.width !== pixels.width) canvas.width = pixels.width;
  if (canvas.height !== pixels.height) canvas.height = pixels.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('2D canvas context unavailable');
  ctx.putImageData(new ImageData(new Uint8ClampedArray(pixels.data), pixels.width, pixels.height), 0, 0);
}

/** Export size: width = sum of panel widths (no gaps); height = tallest panel + caption strip. */
export function exportLayout(panels: PanelPixels[], captionLines: number): { width: number; height: number; panelsHeight: number; captionHeight: number } {
  const width = panels.reduce((sum, p) => sum + p.width, 0);
  const panelsHeight = Math.max(0, ...panels.map((p) => p.height));
  const captionHeight = captionLines > 0 ? 2 * CAPTION_PADDING + captionLines * CAPTION_LINE_HEIGHT : 0;
  return { width, height: panelsHeight + captionHeight, panelsHeight, captionHeight };
}

/** The panels side by side plus a caption strip, as a PNG that also carries the caption as text. */
export async function exportPng(panels: Record<PanelId, PanelPixels>, caption: string[]): Promise<Blob> {
  const ordered = PANEL_ORDER.map((id) => panels[id]);
  const layout = exportLayout(ordered, caption.length);
  const canvas = new OffscreenCanvas(layout.width, layout.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('2D canvas context unavailable');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, layout.width, layout.height);
  let x = 0;
  for (const panel of ordered) {
    ctx.putImageData(new ImageData(new Uint8ClampedArray(panel.data), panel.width, panel.height), x, 0);
    x += panel.width;
  }
  ctx.fillStyle = '#111';
  ctx.font = CAPTION_FONT;
  ctx.textBaseline = 'top';
  caption.forEach((line, i) => {
    ctx.fillText(line, CAPTION_PADDING, layout.panelsHeight + CAPTION_PADDING + i * CAPTION_LINE_HEIGHT, layout.width - 2 * CAPTION_PADDING);
  });
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  const png = addPngText(new Uint8Array(await blob.arrayBuffer()), CAPTION_PNG_KEYWORD, caption.join('\n'));
  return new Blob([png as BlobPart], { type: 'image/png' });
}
