/**
 * Decodes a dropped image in the worker: createImageBitmap → OffscreenCanvas → RGBA. Huge images
 * are decoded straight to a smaller size; GIFs give their first frame; SVGs are rasterised when the
 * browser allows it in a worker (the page client rasterises them first, see studio-client.ts).
 */
import { notice, studioError, type StudioNotice } from '../shared/errors';
import { type InputFile, type RawImage, decodeSize, displayedSize, MAX_IMAGE_SIDE, refuseFromHeader, sniffImage } from '../engine';

export interface DecodedImage {
  name: string;
  raw: RawImage;
  /** Kept to draw the panels' region at display size. */
  canvas: OffscreenCanvas;
  notices: StudioNotice[];
}

const MIME: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', bmp: 'image/bmp', svg: 'image/svg+xml', avif: 'image/avif' };


export async function decodeImage(file: InputFile): Promise<DecodedImage> {
  const name = file.path || file.name;
  const bytes = await file.bytes();
  const sniff = sniffImage(bytes);
  const notices: StudioNotice[] = [];
  refuseFromHeader(sniff, bytes.byteLength, name);
  const blob = new Blob([bytes as BlobPart], { type: MIME[sniff.kind] ?? '' });
  // The size the picture is shown at (EXIF orientation applied): createImageBitmap turns it first, then resizes.
  const shown = displayedSize(sniff);

  let bitmap: ImageBitmap;
  try {
    if (shown && decodeSize(shown.width, shown.height).downscaled) {
      const to = decodeSize(shown.width, shown.height);
      bitmap = await createImageBitmap(blob, { resizeWidth: to.width, resizeHeight: to.height, resizeQuality: 'high' });
      notices.push(notice('IMAGE_DOWNSCALED', { file: name, width: shown.width, height: shown.height, toWidth: bitmap.width, toHeight: bitmap.height }));
    } else {
      bitmap = await createImageBitmap(blob);
    }
  } catch {
    if (sniff.kind === 'svg') throw studioError('IMAGE_SVG_UNSUPPORTED', { file: name });
    throw studioError('IMAGE_DECODE_FAILED', { file: name });
  }
  if (bitmap.width === 0 || bitmap.height === 0) {
    bitmap.close();
    throw studioError('IMAGE_EMPTY', { file: name });
  }
  if (sniff.animated) notices.push(notice('IMAGE_ANIMATED', { file: name }));

  // Header without a size (odd formats): bound the size after decoding.
  const target = decodeSize(bitmap.width, bitmap.height, MAX_IMAGE_SIDE);
  if (target.downscaled) notices.push(notice('IMAGE_DOWNSCALED', { file: name, width: bitmap.width, height: bitmap.height, toWidth: target.width, toHeight: target.height }));
  const canvas = new OffscreenCanvas(target.width, target.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw studioError('INTERNAL', { reason: '2D canvas context unavailable in the worker' });
  ctx.drawImage(bitmap, 0, 0, target.width, target.height);
  bitmap.close();
  const data = ctx.getImageData(0, 0, target.width, target.height).data;
  return { name, raw: { width: target.width, height: target.height, data }, canvas, notices };
}
