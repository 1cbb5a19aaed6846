/**
 * What this browser keeps (IndexedDB, src/worker/model-cache.ts) after each commit: a dropped model
 * with the image now on screen; a new image alone for the cached model; the demo clears the cache (a
 * reload opens the demo again, not an older drop). Best effort: a browser without IndexedDB works.
 */
import type { InputFile } from '../engine/files';
import type { LoadedModel } from '../engine/model';
import { forgetCurrent, rememberImage, rememberModel, type CachedFile } from './model-cache';
import type { WorkerSession } from './session';

/** Where a part came from: files (dropped now), the demo, or this browser's cache (already stored). */
export type OpenSource = 'files' | 'demo' | 'cache';

async function asCachedFile(file: InputFile): Promise<CachedFile> {
  const bytes = await file.bytes();
  const copy = bytes.slice().buffer as ArrayBuffer;
  return file.path && file.path !== file.name ? { name: file.name, path: file.path, bytes: copy } : { name: file.name, bytes: copy };
}

export function rememberCommitted(session: WorkerSession, change: { model?: { loaded: LoadedModel; source: OpenSource; files: InputFile[] }; image?: { source: OpenSource } }): void {
  const imageFile = session.imageFile;
  const demoLoaded = session.demoLoaded;
  const remember = async () => {
    try {
      if (change.model?.source === 'demo') {
        await forgetCurrent();
        return;
      }
      const keptImage = imageFile ? await asCachedFile(imageFile) : undefined;
      if (change.model?.source === 'files') await rememberModel(change.model.loaded.summary.name, await Promise.all(change.model.files.map(asCachedFile)), keptImage);
      else if (!change.model && change.image?.source === 'files' && !demoLoaded && keptImage) await rememberImage(keptImage);
    } catch (e) {
      console.warn('the model could not be kept in this browser (IndexedDB):', e instanceof Error ? e.message : e);
    }
  };
  session.remembering = session.remembering.then(remember);
}
