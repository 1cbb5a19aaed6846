/**
 * How the gallery reads its folder names when none of them is one of the model's labels
 * (shared/gallery-labels.ts): as they are, ignored, or mapped onto the labels by order. The choice
 * holds for one gallery (its folder names); a new gallery starts from 'folders'. Display only: the
 * worker's records keep the folder names.
 */
import { create } from 'zustand';
import { mappingByOrder, noFolderMatches, relabelEntries, type FolderLabelMode } from '../shared/gallery-labels';
import { useGallery } from './gallery';
import type { GalleryEntryView } from './gallery-view';

interface FolderLabelChoice {
  mode: FolderLabelMode;
  /** The folder names the choice was made for. */
  forFolders: readonly string[] | null;
}

export const useFolderLabels = create<FolderLabelChoice>(() => ({ mode: 'folders', forFolders: null }));

export function setFolderLabelMode(mode: FolderLabelMode): void {
  useFolderLabels.setState({ mode, forFolders: useGallery.getState().trueLabels });
}

/** The mode in force for the gallery on screen ('folders' once its folders changed). */
export function currentFolderLabelMode(folders: readonly string[], choice: FolderLabelChoice): FolderLabelMode {
  return choice.forFolders === folders ? choice.mode : 'folders';
}

export function relabelled(entries: ReadonlyArray<GalleryEntryView | undefined>, folders: readonly string[], labels: readonly string[], mode: FolderLabelMode): (GalleryEntryView | undefined)[] {
  if (mode === 'folders' || !noFolderMatches(folders, labels)) return [...entries];
  return relabelEntries(entries, mode, mappingByOrder(folders, labels));
}
