/**
 * The gallery (many images): runs on the gallery lane (a new run supersedes the old one). The run
 * state the page shows is the worker's: a new run, new files or a new model always start unpaused,
 * so a run never waits on a pause the page no longer shows (Pause → Cancel → Run again stayed at 0 / N).
 */
import { studioError } from '../../shared/errors';
import type { ViewOptions } from '../../shared/types';
import { fromBrowserFile, classifyFiles } from '../../engine';
import type { TransferredFile } from '../../protocol/open';
import type { GalleryClassSummary, GalleryOpened, GalleryRunOptions, GalleryRunResult } from '../../protocol/gallery';
import { guard } from '../guard';
import type { Lanes } from '../lane';
import type { WorkerSession } from '../session';

export function makeGalleryApi(session: WorkerSession, lanes: Lanes) {
  const { gallery } = session;
  return {
    /**
     * Explain every gallery image (newest run wins): decode and explain in batches, each batch's items
     * reported on the progress channel as they finish. Resolves when all are done; CANCELLED when cancelled.
     */
    galleryRun(requestId: number, options: GalleryRunOptions): Promise<GalleryRunResult> {
      return guard(
        () =>
          session.requests.run(requestId, (requestSignal) => {
            // A pause belongs to the run it was pressed in: the new run starts running.
            gallery.setPaused(false);
            return lanes.gallery.run(
              async (signal) => {
                const model = session.model;
                if (!model) throw studioError('NO_MODEL');
                gallery.setPaused(false);
                return gallery.run(model, options, signal, (progress) => session.sendProgress({ requestId, gallery: progress }));
              },
              { signal: requestSignal, kind: 'run', supersedes: ['run'] },
            );
          }),
        'explaining the gallery',
      );
    },

    /** Pause or resume the run in flight (between batches). */
    async galleryPause(_requestId: number, paused: boolean): Promise<void> {
      gallery.setPaused(paused);
    },

    /** Per-class mean maps and mean images of the last run. */
    gallerySummary(_requestId: number, view: ViewOptions): Promise<GalleryClassSummary[]> {
      return guard(() => gallery.summary(view));
    },

    /** A contact sheet PNG of these gallery images (thumbnails with their overlays, captioned), in this order. */
    galleryContactSheet(_requestId: number, indices: number[], caption: string[], view: ViewOptions): Promise<Blob> {
      return guard(() => gallery.contactSheet(indices, caption, view));
    },

    /** A zip: results.csv (every image of `indices`) and one overlay PNG per explained image. */
    galleryExportZip(requestId: number, indices: number[], view: ViewOptions): Promise<Blob> {
      return guard(
        () =>
          session.requests.run(requestId, async (signal) => {
            const model = session.model;
            if (!model) throw studioError('NO_MODEL');
            return gallery.exportZip(indices, view, model, signal);
          }),
        'exporting the gallery',
      );
    },

    /** Gallery image `index` as a file (the page opens it in the single-image view like a dropped image). */
    galleryFile(_requestId: number, index: number): Promise<TransferredFile> {
      return guard(async () => {
        const file = gallery.file(index);
        const bytes = await file.bytes();
        return { file: new File([bytes as BlobPart], file.name), path: file.path || file.name };
      });
    },

    /** Tests / the bench / a restarted worker: the gallery images, set directly (as a drop of several images would). */
    gallerySetFiles(_requestId: number, files: TransferredFile[]): Promise<GalleryOpened> {
      return guard(async () => {
        lanes.gallery.abort();
        gallery.setPaused(false);
        const { images, problems } = await classifyFiles(files.map((f) => fromBrowserFile(f.file, f.path)));
        return { ...gallery.setFiles(images), ...(problems.length > 0 ? { problems } : {}) };
      });
    },
  };
}
