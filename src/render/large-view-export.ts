/**
 * The large view as a PNG: the frame exactly as shown (its size, zoom, centre and wipe), then the
 * caption strip, the caption also stored as PNG text. Runs in the worker (OffscreenCanvas).
 */
import { CAPTION_FONT, CAPTION_LINE_HEIGHT, CAPTION_PADDING, CAPTION_PNG_KEYWORD } from './composite';
import { drawLargeView, type ViewFrame } from './large-view';
import type { PanelPixels } from './pixels';
import { addPngText } from './png-text';

/** Backdrop around an image smaller than the view (as on screen: the dialog's dark stage). */
export const LARGE_VIEW_BACKDROP = '#111418';

/** Export size: the frame, then the caption strip. */
export function largeViewExportLayout(frame: Pick<ViewFrame, 'width' | 'height'>, captionLines: number): { width: number; height: number; captionTop: number } {
  const captionHeight = captionLines > 0 ? 2 * CAPTION_PADDING + captionLines * CAPTION_LINE_HEIGHT : 0;
  return { width: Math.max(1, Math.round(frame.width)), height: Math.max(1, Math.round(frame.height)) + captionHeight, captionTop: Math.round(frame.height) };
}

function toCanvas(pixels: PanelPixels): OffscreenCanvas {
  const canvas = new OffscreenCanvas(pixels.width, pixels.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('2D canvas context unavailable');
  ctx.putImageData(new ImageData(new Uint8ClampedArray(pixels.data), pixels.width, pixels.height), 0, 0);
  return canvas;
}

export async function exportLargeViewPng(original: PanelPixels, overlay: PanelPixels | null, frame: ViewFrame, caption: string[]): Promise<Blob> {
  const layout = largeViewExportLayout(frame, caption.length);
  const canvas = new OffscreenCanvas(layout.width, layout.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('2D canvas context unavailable');
  ctx.fillStyle = LARGE_VIEW_BACKDROP;
  ctx.fillRect(0, 0, layout.width, layout.captionTop);
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, 0, layout.width, layout.captionTop);
  ctx.clip();
  drawLargeView(ctx, toCanvas(original), overlay ? toCanvas(overlay) : null, { ...frame, width: layout.width, height: layout.captionTop });
  ctx.restore();
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, layout.captionTop, layout.width, layout.height - layout.captionTop);
  ctx.fillStyle = '#111';
  ctx.font = CAPTION_FONT;
  ctx.textBaseline = 'top';
  caption.forEach((line, i) => {
    ctx.fillText(line, CAPTION_PADDING, layout.captionTop + CAPTION_PADDING + i * CAPTION_LINE_HEIGHT, layout.width - 2 * CAPTION_PADDING);
  });
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  const png = addPngText(new Uint8Array(await blob.arrayBuffer()), CAPTION_PNG_KEYWORD, caption.join('\n'));
  return new Blob([png as BlobPart], { type: 'image/png' });
}
