/**
 * The large view of one panel: where the image lies on a canvas for a zoom and a centre, the point
 * under the pointer, and the drawing (overlay, the original wiped over its left part). Pure
 * geometry plus one draw function over any 2D context, so the page (on screen) and the worker (the
 * exported PNG) draw the very same picture from the same frame.
 */

/** What the large view shows: canvas size, zoom (1 = the image fitted), centre and wipe. */
export interface ViewFrame {
  /** Canvas size in pixels. */
  width: number;
  height: number;
  /** 1 = the whole image fitted to the canvas; MAX_ZOOM at most. */
  zoom: number;
  /** The image point at the canvas centre, as fractions of the image's width and height. */
  centerX: number;
  centerY: number;
  /** The divider, as a fraction of the canvas width: the original left of it, the overlay right of it. */
  wipe: number;
}

export const MIN_ZOOM = 1;
export const MAX_ZOOM = 32;
/** Zoomed this far past the source's own pixels, they are drawn as squares (nearest neighbour). */
const CRISP_ABOVE = 2;

/** The whole image's rectangle on the canvas. */
export interface Placement {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function initialFrame(width: number, height: number): ViewFrame {
  return { width, height, zoom: 1, centerX: 0.5, centerY: 0.5, wipe: 0 };
}

function clamp(value: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, value));
}

/** Scale from image pixels to canvas pixels. */
export function viewScale(frame: ViewFrame, imageWidth: number, imageHeight: number): number {
  const fit = Math.min(frame.width / Math.max(1, imageWidth), frame.height / Math.max(1, imageHeight));
  return fit * frame.zoom;
}

export function placement(frame: ViewFrame, imageWidth: number, imageHeight: number): Placement {
  const s = viewScale(frame, imageWidth, imageHeight);
  const width = imageWidth * s;
  const height = imageHeight * s;
  return { x: frame.width / 2 - frame.centerX * width, y: frame.height / 2 - frame.centerY * height, width, height };
}

/** The image point (fractions of its width and height; outside [0, 1) = off the image) under a canvas point. */
export function canvasToImage(frame: ViewFrame, imageWidth: number, imageHeight: number, x: number, y: number): { u: number; v: number } {
  const p = placement(frame, imageWidth, imageHeight);
  return { u: (x - p.x) / p.width, v: (y - p.y) / p.height };
}

/**
 * Keep the picture in view: an image larger than the canvas (on an axis) always covers it; a
 * smaller one stays wholly inside it. (Not re-centred: zooming about the pointer keeps the point
 * under it while the image is still smaller than the window.)
 */
export function clampFrame(frame: ViewFrame, imageWidth: number, imageHeight: number): ViewFrame {
  const zoom = clamp(frame.zoom, MIN_ZOOM, MAX_ZOOM);
  const p = placement({ ...frame, zoom }, imageWidth, imageHeight);
  const axis = (center: number, extent: number, size: number) => {
    const a = size / 2 / extent;
    return clamp(center, Math.min(a, 1 - a), Math.max(a, 1 - a));
  };
  return { ...frame, zoom, centerX: axis(frame.centerX, p.width, frame.width), centerY: axis(frame.centerY, p.height, frame.height), wipe: clamp(frame.wipe, 0, 1) };
}

/** Zoom by `factor` about a canvas point: the image point under it stays under it (unless the image would leave the canvas). */
export function zoomAt(frame: ViewFrame, imageWidth: number, imageHeight: number, x: number, y: number, factor: number): ViewFrame {
  const { u, v } = canvasToImage(frame, imageWidth, imageHeight, x, y);
  const zoom = clamp(frame.zoom * factor, MIN_ZOOM, MAX_ZOOM);
  const p = placement({ ...frame, zoom }, imageWidth, imageHeight);
  // New placement origin that puts (u, v) at (x, y); the centre follows from it.
  const originX = x - u * p.width;
  const originY = y - v * p.height;
  const next = { ...frame, zoom, centerX: (frame.width / 2 - originX) / p.width, centerY: (frame.height / 2 - originY) / p.height };
  return clampFrame(next, imageWidth, imageHeight);
}

/** Move the picture by (dx, dy) canvas pixels (a drag, or the arrow keys). */
export function panBy(frame: ViewFrame, imageWidth: number, imageHeight: number, dx: number, dy: number): ViewFrame {
  const p = placement(frame, imageWidth, imageHeight);
  return clampFrame({ ...frame, centerX: frame.centerX - dx / p.width, centerY: frame.centerY - dy / p.height }, imageWidth, imageHeight);
}

/** A pixel of a w×h grid (the model's input) under image fractions (u, v); null off the image. */
export function gridPixel(u: number, v: number, width: number, height: number): { x: number; y: number } | null {
  if (!(u >= 0 && u < 1 && v >= 0 && v < 1)) return null;
  return { x: Math.min(width - 1, Math.floor(u * width)), y: Math.min(height - 1, Math.floor(v * height)) };
}

/** What is drawn: an ImageBitmap or canvas on the page, an OffscreenCanvas in the worker. */
type Drawable = CanvasImageSource & { width: number; height: number };
/** The part of a 2D context used here, common to the page's and the worker's canvases. */
type Context2D = Pick<OffscreenCanvasRenderingContext2D, 'drawImage' | 'save' | 'restore' | 'beginPath' | 'rect' | 'clip' | 'fillRect' | 'imageSmoothingEnabled' | 'imageSmoothingQuality' | 'fillStyle'>;

/**
 * Draw the frame: the overlay (or the original alone) placed by the zoom and centre, the original
 * over the part left of the wipe, and the divider. The backdrop is left to the caller.
 */
export function drawLargeView(ctx: Context2D, original: Drawable, overlay: Drawable | null, frame: ViewFrame): void {
  const p = placement(frame, original.width, original.height);
  ctx.imageSmoothingEnabled = viewScale(frame, original.width, original.height) < CRISP_ABOVE;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(overlay ?? original, p.x, p.y, p.width, p.height);
  if (!overlay || frame.wipe <= 0) return;
  const cut = Math.round(frame.width * frame.wipe);
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, 0, cut, frame.height);
  ctx.clip();
  ctx.drawImage(original, p.x, p.y, p.width, p.height);
  ctx.restore();
  if (frame.wipe < 1) {
    ctx.fillStyle = 'rgba(0, 0, 0, 0.6)';
    ctx.fillRect(cut - 2, 0, 4, frame.height);
    ctx.fillStyle = '#fff';
    ctx.fillRect(cut - 1, 0, 2, frame.height);
  }
}
