/**
 * What the store needs of the worker client. The real one is `StudioClient`
 * (src/client/studio-client.ts); tests may hand the store any object with this shape.
 */
import type { BackendInfo, BackendName, ExplainOptions, ExplainProgress, LoadProgress, ViewOptions } from '../shared/types';
import type {
  DemoSample, DroppedResult, ExplainSummary, ExportedModelFile, ExtraPanel, GalleryClassSummary, GalleryOpened, GalleryProgress, GalleryRunOptions, GalleryRunResult, GridSpec,
  LargeViewImages, LiveFrameSummary, MetricsProgress, PanelName, SanitySummary, TransferredFile,
} from '../worker/api';
import type { FaithfulnessOptions, FaithfulnessResult, SanityOptions } from '../shared/metrics';
import type { ViewFrame } from '../render/large-view';

/** Events the client reports outside any request. */
export type ClientEvent =
  | { type: 'restarted'; reason: string; backend: BackendInfo; code?: 'WORKER_CRASHED' | 'DEVICE_LOST'; retrying?: boolean; reported?: boolean }
  | { type: 'backend'; info: BackendInfo }
  | { type: 'progress'; progress: LoadProgress };

/** The agreed surface of `StudioClient`, written out so the store does not depend on its implementation. */
export interface StudioClientPort {
  mountPanels(containers: Partial<Record<PanelName, HTMLElement>>): void;
  init(preferred?: BackendName | null): Promise<BackendInfo>;
  openFiles(files: TransferredFile[], signal?: AbortSignal): Promise<DroppedResult>;
  /** The demo model with its first sample, or just another sample (by file name) once the demo is open. */
  openDemo(signal?: AbortSignal, sample?: string): Promise<DroppedResult>;
  /** The demo's sample images; optional so that a minimal client can leave it out. */
  demoSamples?(signal?: AbortSignal): Promise<DemoSample[]>;
  /** The model last dropped, from this browser's cache (null: none); optional for minimal clients. */
  restoreCached?(signal?: AbortSignal): Promise<DroppedResult | null>;
  /** Empty this browser's model cache. */
  forgetCachedModels?(signal?: AbortSignal): Promise<void>;
  explain(options: ExplainOptions, signal?: AbortSignal, grid?: GridSpec, onProgress?: (p: ExplainProgress) => void): Promise<ExplainSummary>;
  setView(view: ViewOptions): Promise<void>;
  exportPng(caption: string[], extras?: ExtraPanel[]): Promise<Blob>;
  /** Faithfulness of the maps on screen; optional so that a minimal client can leave it out. */
  faithfulness?(options: FaithfulnessOptions, signal?: AbortSignal, onProgress?: (p: MetricsProgress) => void): Promise<FaithfulnessResult>;
  /** The randomisation sanity check of the methods on screen; optional like faithfulness. */
  sanityCheck?(options: SanityOptions, signal?: AbortSignal, onProgress?: (p: MetricsProgress) => void): Promise<SanitySummary>;
  /** One panel redrawn for the large view; optional so that a minimal client can leave it out. */
  largeView?(key: PanelName, longSide: number, signal?: AbortSignal): Promise<LargeViewImages>;
  /** The large view as shown, with its caption strip, as a PNG; optional like `largeView`. */
  exportLargeView?(key: PanelName, frame: ViewFrame, longSide: number, caption: string[], signal?: AbortSignal): Promise<Blob>;
  /** The current model as TF.js files; optional so that a minimal client can leave it out. */
  exportTfjs?(signal?: AbortSignal): Promise<ExportedModelFile[]>;
  memory(): Promise<{ numTensors: number; numBytes: number }>;
  /** Live mode (optional for minimal clients): the live canvas, and one camera frame explained and drawn. */
  mountLiveCanvas?(container: HTMLElement, signal?: AbortSignal): Promise<void>;
  explainFrame?(frame: ImageBitmap, options: ExplainOptions, signal?: AbortSignal): Promise<LiveFrameSummary>;
  /** The gallery (optional so that a minimal client can leave it out): see StudioClient. */
  galleryRun?(options: GalleryRunOptions, signal?: AbortSignal, onProgress?: (p: GalleryProgress) => void): Promise<GalleryRunResult>;
  galleryPause?(paused: boolean): Promise<void>;
  gallerySummary?(view: ViewOptions): Promise<GalleryClassSummary[]>;
  galleryContactSheet?(indices: number[], caption: string[], view: ViewOptions): Promise<Blob>;
  galleryExportZip?(indices: number[], view: ViewOptions, signal?: AbortSignal): Promise<Blob>;
  galleryFile?(index: number): Promise<TransferredFile>;
  gallerySetFiles?(files: TransferredFile[]): Promise<GalleryOpened>;
  on(listener: (e: ClientEvent) => void): () => void;
  killWorkerForTest(): void;
}

let factory: (() => StudioClientPort) | null = null;

/** Replace how `boot()` makes its client (tests; a custom worker). */
export function setClientFactory(make: (() => StudioClientPort) | null): void {
  factory = make;
}

export async function createClient(): Promise<StudioClientPort> {
  if (factory) return factory();
  // Loaded lazily so the store (and its unit tests) do not pull in the worker client.
  const { StudioClient } = await import('../client/studio-client');
  const made: StudioClientPort = new StudioClient();
  return made;
}
