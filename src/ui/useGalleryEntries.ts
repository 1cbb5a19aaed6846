/** The gallery's entries with their true labels as the folder-label choice says (store/gallery-labels.ts). */
import { useDeferredValue, useMemo } from 'react';
import { useGallery } from '../store/gallery';
import { currentFolderLabelMode, relabelled, useFolderLabels } from '../store/gallery-labels';
import { useStore } from '../store/store';

export function useGalleryEntries() {
  // Deferred: a batch's new items render in an interruptible background render (React yields every few ms).
  const entries = useDeferredValue(useGallery((s) => s.entries));
  const folders = useGallery((s) => s.trueLabels);
  const labels = useStore((s) => s.model.summary?.labels);
  const choice = useFolderLabels();
  const mode = currentFolderLabelMode(folders, choice);
  return useMemo(() => relabelled(entries, folders, labels ?? [], mode), [entries, folders, labels, mode]);
}
