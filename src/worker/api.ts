/**
 * The typed API the worker exposes through Comlink (Squoosh-style). Types only: the page imports
 * this file with `import type`, never the worker's implementation.
 *
 * Cancellation: every long call takes a `requestId`; the client aborts a call by calling
 * `cancel(requestId)` from its AbortSignal, and a newer `explain` cancels the one in flight
 * (the newest request wins). A cancelled call rejects with a StudioError-like `{ code: 'CANCELLED' }`.
 * Errors cross the boundary as plain `{ code, message }` objects (see `toStudioError`).
 */
import type { StudioNotice } from '../shared/errors';
import type {
  BackendInfo,
  BackendName,
  ExplainOptions,
  ExplainMethod,
  LoadProgress,
  ModelSummary,
  Prediction,
  ViewOptions,
} from '../shared/types';

/** A file as the page hands it to the worker (File objects clone cheaply; zips/folders are expanded in the worker). */
export interface TransferredFile {
  file: File;
  /** Relative path within a dropped folder, if any. */
  path?: string;
}

/** The canvases the page transfers once (`transferControlToOffscreen`); the worker draws into them. */
export type PanelName = 'original' | 'gradcam' | 'guided-backprop' | 'guided-gradcam';

export interface ImageInfo {
  name: string;
  width: number;
  height: number;
  notices: StudioNotice[];
}

/** What the page needs of an explanation: no pixel arrays (the worker already drew them). */
export interface ExplainSummary {
  requestId: number;
  layerPath: string | null;
  classIndex: number;
  classLabel: string;
  score: number;
  probability: number;
  counterfactual: boolean;
  predictions: Prediction[];
  methods: ExplainMethod[];
  camRawMax?: number;
  /** Grad-CAM at the layer's own resolution, [0,1] — small; the UI uses it for tests and tooltips. */
  cam?: { width: number; height: number; data: Float32Array };
  warnings: StudioNotice[];
  timings: Record<string, number>;
}

export interface ModelLoaded {
  summary: ModelSummary;
  /** Which files were used / ignored, for the status region. */
  ignored: string[];
}

export interface DroppedResult {
  model?: ModelLoaded;
  image?: ImageInfo;
  notices: StudioNotice[];
}

/** One entry of `demo/samples/index.json` (read defensively: missing fields become empty). */
export interface DemoSample {
  file: string;
  shapes: { label: string; bbox: [number, number, number, number] }[];
}

/** Which part of a drop to take: a restarted worker reloads the model and the image separately. */
export type OpenOnly = 'model' | 'image';

export interface DemoOptions {
  /** Sample file from index.json (default: the first). */
  sample?: string;
  only?: OpenOnly;
}

/** RGBA pixels of a drawn panel (what `inspectPanels` returns; the page cannot read transferred canvases). */
export interface PanelImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** Sent with `postMessage` (outside Comlink) when the worker cannot go on: the client restarts it. */
export interface WorkerFatalMessage {
  type: 'studio-fatal';
  code: 'DEVICE_LOST' | 'WORKER_CRASHED';
  reason: string;
}

export interface StudioWorkerApi {
  /** Pick a backend (or the one asked for) and say why; `avoid` = backends that just failed (tried last). */
  init(preferred?: BackendName | null, avoid?: BackendName[]): Promise<BackendInfo>;
  /** Hand over the panel canvases once. */
  attachCanvases(canvases: Partial<Record<PanelName, OffscreenCanvas>>): Promise<void>;
  /** Anything dropped/picked/pasted: model files, zips, folders' files and/or images, told apart by content and name. */
  openFiles(requestId: number, files: TransferredFile[], onProgress?: (p: LoadProgress) => void, only?: OpenOnly): Promise<DroppedResult>;
  /** Load the built-in demo (fetched from the app's own origin). */
  openDemo(requestId: number, onProgress?: (p: LoadProgress) => void, options?: DemoOptions): Promise<DroppedResult>;
  /** The demo's samples (from demo/samples/index.json); [] when there is none. */
  demoSamples(): Promise<DemoSample[]>;
  explain(requestId: number, options: ExplainOptions): Promise<ExplainSummary>;
  /** Recolour the current maps without recomputing. */
  setView(view: ViewOptions): Promise<void>;
  cancel(requestId: number): void;
  /** PNG of the panels side by side plus a caption strip. */
  exportPng(caption: string[]): Promise<Blob>;
  /** tfjs memory in the worker (leak checks). */
  memory(): Promise<{ numTensors: number; numBytes: number }>;
  /** The pixels last drawn on each panel (tests; transferred canvases cannot be read from the page). */
  inspectPanels(): Promise<Partial<Record<PanelName, PanelImage>>>;
  /** Tests: report a WebGPU device loss as if the GPU had gone away. */
  simulateDeviceLossForTest(): void;
}
