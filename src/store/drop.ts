/**
 * A drop (or pick, or paste): opened and shown; several images go to the gallery, which is loaded
 * only then (the single view does not need it). Above open.ts and gallery.ts, so neither imports the other.
 */
import type { TransferredFile } from '../protocol';
import { runExplain } from './explain';
import { openFiles } from './open';

export async function dropFiles(files: TransferredFile[]): Promise<void> {
  if (!files.length) return;
  const opened = await openFiles(files);
  if (!opened) return;
  const gallery = opened.result.gallery;
  if (gallery) {
    const { openGallery } = await import('./gallery');
    await Promise.all([openGallery(gallery), opened.changed ? runExplain() : null]);
    return;
  }
  if (opened.changed) await runExplain();
}
