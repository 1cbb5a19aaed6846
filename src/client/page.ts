/** What the page itself prepares for the worker: settings from the page's URL, SVGs rasterised. */
import type { WorkerOptions } from '../protocol/session';
import type { TransferredFile } from '../protocol/open';

export function pageNumber(name: string): number | null {
  const value = typeof location === 'undefined' ? null : new URLSearchParams(location.search).get(name);
  const n = value === null ? NaN : Number(value);
  return Number.isFinite(n) && n > 0 ? n : null;
}

/** `?memoryBudgetMb=N` on the page's URL overrides the worker's memory budget (tests, small devices). */
export function workerOptionsFromPage(): WorkerOptions {
  const mb = pageNumber('memoryBudgetMb');
  const delay = pageNumber('testLoadDelayMs');
  const threads = pageNumber('threads');
  const threadedStart = pageNumber('testThreadedStartMs');
  const hold = pageNumber('testExplainHoldMs');
  const galleryHold = pageNumber('testGalleryHoldMs');
  return {
    ...(mb ? { memoryBudgetMb: mb } : {}),
    ...(delay ? { testLoadDelayMs: delay } : {}),
    ...(threads ? { threads } : {}),
    ...(threadedStart ? { testThreadedStartMs: threadedStart } : {}),
    ...(hold ? { testExplainHoldMs: hold } : {}),
    ...(galleryHold ? { testGalleryHoldMs: galleryHold } : {}),
  };
}

/** SVGs cannot be decoded in a worker; rasterise them on the page into PNG files. */
export async function rasteriseSvgs(files: TransferredFile[]): Promise<TransferredFile[]> {
  return Promise.all(
    files.map(async (entry) => {
      const isSvg = /\.svg$/i.test(entry.file.name) || entry.file.type === 'image/svg+xml';
      if (!isSvg || typeof document === 'undefined') return entry;
      // Typed explicitly: a file without a MIME type would not load as an SVG image.
      const url = URL.createObjectURL(new Blob([entry.file], { type: 'image/svg+xml' }));
      try {
        const img = new Image();
        img.src = url;
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth || 512;
        canvas.height = img.naturalHeight || 512;
        canvas.getContext('2d')?.drawImage(img, 0, 0, canvas.width, canvas.height);
        const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
        if (!blob) return entry;
        const name = entry.file.name.replace(/\.svg$/i, '') + '.png';
        return { file: new File([blob], name, { type: 'image/png' }), path: entry.path?.replace(/\.svg$/i, '.png') };
      } catch {
        return entry; // the worker then reports IMAGE_SVG_UNSUPPORTED
      } finally {
        URL.revokeObjectURL(url);
      }
    }),
  );
}
