/** The page/worker contract of the gallery (many images). */
import type { BatchRecord } from '../shared/batch-results';
import type { MethodId } from '../shared/methods';
import type { ExplainOptions, ViewOptions } from '../shared/types';

/** Which class each gallery image is explained for: its own top-1, its true label (from the folder), or one class for all. */
export type GalleryClassMode = 'predicted' | 'true' | 'fixed';

/** What a drop of several images (a folder, a zip) put in the gallery. */
export interface GalleryOpened {
  count: number;
  /** True labels found in the folder names (sorted), [] when the images sit at the root. */
  trueLabels: string[];
}

export interface GalleryRunOptions {
  layerPath: string | null;
  method: MethodId;
  classMode: GalleryClassMode;
  /** The class for 'fixed' (index into the model's labels). */
  fixedClass?: number | null;
  preprocess?: ExplainOptions['preprocess'];
  view: ViewOptions;
  /** Images per forward/backward pass (default 16); at most this many are decoded at once. */
  batchSize?: number;
  /** The bench's comparison: explain each image through the single-image path (LoadedModel.explain) instead of one batched pass. */
  singleImagePath?: boolean;
}

/** One explained (or failed) gallery image: its record and its thumbnail with the map over it. */
export interface GalleryItem {
  index: number;
  record: BatchRecord;
  /** The explained class (index into the model's labels); null when the image failed. */
  classIndex: number | null;
  /** PNG of the thumbnail with the overlay (null when the image failed). */
  thumb: Blob | null;
}

export interface GalleryProgress {
  done: number;
  total: number;
  imagesPerSecond: number;
  /** Estimated seconds left; null until the first batch is done. */
  secondsLeft: number | null;
  paused: boolean;
  /** The items finished since the last report. */
  items: GalleryItem[];
}

export interface GalleryRunResult {
  done: number;
  total: number;
  elapsedMs: number;
  imagesPerSecond: number;
  /** Where the time went: decoding (overlaps the previous batch's explanation), explaining, drawing and encoding thumbnails. */
  timings: { decodeMs: number; explainMs: number; drawMs: number };
}

/** Per class (true label, else predicted): the mean map (maps averaged at 32×32) and the mean image, as PNGs. */
export interface GalleryClassSummary {
  label: string;
  count: number;
  meanMap: Blob;
  meanImage: Blob;
}
