/** The page/worker contract of opening: files, the demo, the cache, and the committed state they lead to. */
import type { StudioNotice } from '../shared/errors';
import type { ModelSummary } from '../shared/types';
import type { GalleryOpened } from './gallery';

/** A file as the page hands it to the worker (File objects clone cheaply; zips/folders are expanded in the worker). */
export interface TransferredFile {
  file: File;
  /** Relative path within a dropped folder, if any. */
  path?: string;
}

export interface ImageInfo {
  name: string;
  width: number;
  height: number;
  notices: StudioNotice[];
}

export interface ModelLoaded {
  summary: ModelSummary;
  /** Which files were used / ignored, for the status region. */
  ignored: string[];
}

export type OpenPart = 'model' | 'image';

/**
 * What the worker holds now: the one source of truth for what the page shows. `version` grows with
 * every commit (across worker restarts too); tokens name the open that brought each part.
 */
export interface CommittedState {
  version: number;
  model: { token: string; summary: ModelSummary; ignored: string[] } | null;
  image: { token: string; info: ImageInfo } | null;
}

export interface DroppedResult {
  /** Several images (a folder, a zip): they went to the gallery instead of the single view. */
  gallery?: GalleryOpened;
  /** What this open itself brought in (absent: nothing of that kind, or superseded). */
  model?: ModelLoaded;
  image?: ImageInfo;
  notices: StudioNotice[];
  /** Parts a newer open superseded (a newer model cancels an older model load, a newer image an older image). */
  cancelled?: { part: OpenPart; name: string }[];
  /** The worker's committed state once this open settled: what the page shows (if newer than what it has). */
  state: CommittedState;
  /** Restored from this browser's IndexedDB cache (restoreCached), not dropped now. */
  fromCache?: boolean;
}

/** One entry of `demo/samples/index.json` (read defensively: missing fields become empty). */
export interface DemoSample {
  file: string;
  shapes: { label: string; bbox: [number, number, number, number] }[];
}

/** Which part of a drop to take: a restarted worker reloads the model and the image separately. */
export type OpenOnly = OpenPart;

export interface OpenOptions {
  /** Take only this part of the files (a restarted worker reloads the model and the image separately). */
  only?: OpenOnly;
  /** Names this open in the committed state (the page's own id, kept when a restarted worker reloads it). */
  token?: string;
}

export interface DemoOptions extends OpenOptions {
  /** Sample file from index.json (default: the first). */
  sample?: string;
}
