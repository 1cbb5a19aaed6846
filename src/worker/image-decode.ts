/**
 * Decodes a dropped image in the worker: createImageBitmap → OffscreenCanvas → RGBA. Huge images
 * are decoded straight to a smaller size; GIFs give their first frame; SVGs are rasterised when the
 * browser allows it in a worker (the page client rasterises them first, see studio-client.ts).
 */
import { notice, studioError, type StudioNotice } from '../shared/errors';
import type { InputFile, RawImage } from '../engine/files';
import { decodeSize, MAX_IMAGE_SIDE, sniffImage } from './image-sniff';

export interface DecodedImage {
  name: string;
  raw: RawImage;
  /** Kept to draw the panels' region at display size. */
  canvas: OffscreenCanvas;
  notices: StudioNotice[];
}

const MIME: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', bmp: 'image/bmp', svg: 'image/svg+xml' };

export async function decodeImage(file: InputFile): Promise<DecodedImage> {
  const name = file.path || file.name;
  const bytes = await file.bytes();
  const sniff = sniffImage(bytes);
  const notices: StudioNotice[] = [];
  if (sniff.width === 0 || sniff.height === 0) throw studioError('IMAGE_EMPTY', { file: name });
  const blob = new Blob([bytes as BlobPart], { type: MIME[sniff.kind] ?? '' });

  let bitmap: ImageBitmap;
  try {
    if (sniff.width && sniff.height && decodeSize(sniff.width, sniff.height).downscaled) {
      const to = decodeSize(sniff.width, sniff.height);
      bitmap = await createImageBitmap(blob, { resizeWidth: to.width, resizeHeight: to.height, resizeQuality: 'high' });
      notices.push(notice('IMAGE_DOWNSCALED', { file: name, width: sniff.width, height: sniff.height, toWidth: bitmap.width, toHeight: bitmap.height }));
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
