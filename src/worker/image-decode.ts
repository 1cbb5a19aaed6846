/**
 * Decodes a dropped image in the worker: createImageBitmap → OffscreenCanvas → RGBA. Huge images
 * are decoded straight to a smaller size; GIFs give their first frame; SVGs are rasterised when the
 * browser allows it in a worker (the page client rasterises them first, see studio-client.ts).
 */
import { notice, studioError, type StudioNotice } from '../shared/errors';
import type { InputFile, RawImage } from '../engine/files';
import { decodeSize, displayedSize, MAX_IMAGE_SIDE, sniffImage, UNDECODABLE_KINDS } from '../engine/image-sniff';

export interface DecodedImage {
  name: string;
  raw: RawImage;
  /** Kept to draw the panels' region at display size. */
  canvas: OffscreenCanvas;
  notices: StudioNotice[];
}

const MIME: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', bmp: 'image/bmp', svg: 'image/svg+xml', avif: 'image/avif' };

function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

export async function decodeImage(file: InputFile): Promise<DecodedImage> {
  const name = file.path || file.name;
  const bytes = await file.bytes();
  const sniff = sniffImage(bytes);
  const notices: StudioNotice[] = [];
  const unsupported = UNDECODABLE_KINDS[sniff.kind];
  if (unsupported) throw studioError('IMAGE_FORMAT_UNSUPPORTED', { file: name, format: unsupported });
  if (sniff.width === 0 || sniff.height === 0) throw studioError('IMAGE_EMPTY', { file: name });
  // A header that claims more pixels than the file could hold: refused at once, not after seconds of decoding.
  if (sniff.minBytes !== undefined && bytes.byteLength < sniff.minBytes) {
    throw studioError('IMAGE_CORRUPT', {
      file: name,
      reason: `its header says ${sniff.width}×${sniff.height} pixels, which needs at least ${formatBytes(sniff.minBytes)}, but the file has ${formatBytes(bytes.byteLength)}`,
    });
  }
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
