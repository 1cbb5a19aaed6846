/**
 * Draws panels into OffscreenCanvases and builds the exported PNG. Runs in the worker (needs
 * OffscreenCanvas, no DOM); the pixel work itself is in `tf-render.ts` / `pixels.ts`.
 */
import type { ColormapName, MethodMap, ViewOptions } from '../shared/types';
import { colormapLut, LUT_SIZE } from './colormaps';
import type { PanelPixels, Region } from './pixels';
import { addPngText } from './png-text';
import { gpuBackendActive, renderOverlay, renderRgbMap } from './tf-render';
import { methodPictureAt } from './upsample';
import { drawSegmentBoundaries } from './segments';

/** Export layout: a grid of titled panels, a colour bar when a heatmap is shown, then the caption strip. */
export const CAPTION_LINE_HEIGHT = 18;
export const CAPTION_PADDING = 8;
export const CAPTION_FONT = '14px sans-serif';
/** Each panel's title strip (method, or layer) above it. */
export const TITLE_HEIGHT = 22;
export const TITLE_FONT = 'bold 13px sans-serif';
/** The colour bar strip: a gradient of the colour map with its ends labelled. */
export const COLORBAR_HEIGHT = 30;
/** At most this many panels per row (the screen's grid does the same on a wide window). */
export const GRID_COLUMNS = 4;
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

/** One panel of the grid from a method's map: a heatmap over the original, or the RGB gradient image. */
export async function renderMethodPanel(original: PanelPixels, map: MethodMap, view: ViewOptions): Promise<PanelPixels> {
  // On the GPU the blend runs as tfjs ops; on WASM / CPU the same blend in plain JavaScript is much
  // faster (the tfjs path's strided slice, gather and read-back took ~40 ms of a 320-px live frame).
  if (!gpuBackendActive() || (map.kind === 'heatmap' && map.concepts)) return methodPictureAt(original, map, view);
  const { width, height } = original;
  if (map.kind === 'heatmap') {
    const overlay = await renderOverlay(original, map.upsampled, colormapLut(view.colormap), view);
    return map.segments && view.segmentOutlines !== false ? drawSegmentBoundaries(overlay, map.segments) : overlay;
  }
  return renderRgbMap(map.map, width, height);
}

/** Put pixels on a (possibly transferred) canvas, resizing it to the panel. */
export function drawPanel(canvas: OffscreenCanvas, pixels: PanelPixels): void {
  if (canvas.width !== pixels.width) canvas.width = pixels.width;
  if (canvas.height !== pixels.height) canvas.height = pixels.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('2D canvas context unavailable');
  ctx.putImageData(new ImageData(new Uint8ClampedArray(pixels.data), pixels.width, pixels.height), 0, 0);
}

export interface GridLayout {
  width: number;
  height: number;
  columns: number;
  rows: number;
  cellWidth: number;
  cellHeight: number;
  /** Top-left of each panel's pixels (below its title). */
  positions: { x: number; y: number }[];
  gridHeight: number;
  colorbarHeight: number;
  captionHeight: number;
}

/**
 * Export size and placement: panels in rows of at most GRID_COLUMNS, each under a title strip, then
 * the colour bar (when a heatmap is shown) and the caption strip.
 */
export function gridLayout(panels: { width: number; height: number }[], captionLines: number, colorbar: boolean): GridLayout {
  const columns = Math.max(1, Math.min(GRID_COLUMNS, panels.length));
  const rows = Math.ceil(panels.length / columns);
  const cellWidth = Math.max(0, ...panels.map((p) => p.width));
  const cellHeight = TITLE_HEIGHT + Math.max(0, ...panels.map((p) => p.height));
  const positions = panels.map((_, i) => ({ x: (i % columns) * cellWidth, y: Math.floor(i / columns) * cellHeight + TITLE_HEIGHT }));
  const gridHeight = rows * cellHeight;
  const colorbarHeight = colorbar ? COLORBAR_HEIGHT : 0;
  const captionHeight = captionLines > 0 ? 2 * CAPTION_PADDING + captionLines * CAPTION_LINE_HEIGHT : 0;
  return { width: columns * cellWidth, height: gridHeight + colorbarHeight + captionHeight, columns, rows, cellWidth, cellHeight, positions, gridHeight, colorbarHeight, captionHeight };
}

export interface ExportPanel {
  title: string;
  pixels: PanelPixels;
}

/** The grid as shown — titled panels, the colour bar, the caption — as a PNG that also carries the caption as text. */
export async function exportGridPng(panels: ExportPanel[], caption: string[], colorbar: ColormapName | null): Promise<Blob> {
  const layout = gridLayout(panels.map((p) => p.pixels), caption.length, colorbar !== null);
  const canvas = new OffscreenCanvas(Math.max(1, layout.width), Math.max(1, layout.height));
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('2D canvas context unavailable');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.textBaseline = 'top';
  panels.forEach((panel, i) => {
    const { x, y } = layout.positions[i]!;
    ctx.putImageData(new ImageData(new Uint8ClampedArray(panel.pixels.data), panel.pixels.width, panel.pixels.height), x, y);
    ctx.fillStyle = '#111';
    ctx.font = TITLE_FONT;
    ctx.fillText(panel.title, x + 4, y - TITLE_HEIGHT + 5, layout.cellWidth - 8);
  });
  if (colorbar) drawColorbar(ctx, colorbar, 0, layout.gridHeight, layout.width);
  ctx.fillStyle = '#111';
  ctx.font = CAPTION_FONT;
  const captionTop = layout.gridHeight + layout.colorbarHeight;
  caption.forEach((line, i) => {
    ctx.fillText(line, CAPTION_PADDING, captionTop + CAPTION_PADDING + i * CAPTION_LINE_HEIGHT, layout.width - 2 * CAPTION_PADDING);
  });
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  const png = addPngText(new Uint8Array(await blob.arrayBuffer()), CAPTION_PNG_KEYWORD, caption.join('\n'));
  return new Blob([png as BlobPart], { type: 'image/png' });
}

/** The colour map as a horizontal bar (256 px or the width available), "0" and "1" at its ends. */
function drawColorbar(ctx: OffscreenCanvasRenderingContext2D, colormap: ColormapName, x: number, y: number, width: number): void {
  const lut = colormapLut(colormap);
  const barWidth = Math.max(16, Math.min(256, width - 2 * CAPTION_PADDING - 60));
  const left = x + CAPTION_PADDING + 20;
  for (let i = 0; i < barWidth; i++) {
    const k = Math.round((i / Math.max(1, barWidth - 1)) * (LUT_SIZE - 1)) * 3;
    ctx.fillStyle = `rgb(${lut[k]}, ${lut[k + 1]}, ${lut[k + 2]})`;
    ctx.fillRect(left + i, y + 8, 1, 14);
  }
  ctx.fillStyle = '#111';
  ctx.font = CAPTION_FONT;
  ctx.fillText('0', x + CAPTION_PADDING, y + 8);
  ctx.fillText('1', left + barWidth + 6, y + 8);
}
