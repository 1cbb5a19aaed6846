/**
 * The page's state, as Zustand slices. Plain data only: the worker holds every tensor and draws
 * the panels; the store keeps what the UI shows (summary, image info, last explanation, choices).
 * Actions live in `actions.ts` as plain functions, not in components.
 */
import { create } from 'zustand';
import type { ErrorCode } from '../shared/errors';
import { CLASSIC_METHODS, type MethodId, type MethodOptionValue } from '../shared/methods';
import type {
  BackendInfo,
  ExplainProgress,
  LoadProgress,
  ModelSummary,
  OutputSummary,
  PreprocessOptions,
  ViewOptions,
} from '../shared/types';
import type { DemoSample, ExplainSummary, ImageInfo, SanitySummary } from '../protocol';
import { DEFAULT_FAITHFULNESS, type FaithfulnessBaseline, type FaithfulnessResult, type SanityMode } from '../shared/metrics';

export type NoticeLevel = 'error' | 'warning' | 'info';

/** One line of the status region. `code` is null only for plain information ("Copied."). */
export interface UiNotice {
  id: number;
  code: ErrorCode | null;
  message: string;
  level: NoticeLevel;
  time: number;
}

export interface ModelSlice {
  summary: ModelSummary | null;
  /** Dropped files that were not part of the model (shown in the status region). */
  ignored: string[];
}

export interface ExplanationSlice {
  /** The last explanation that succeeded; kept on screen while a newer one runs or fails. */
  last: ExplainSummary | null;
  /** Layer chosen in the tree (null = the model's default). */
  selectedLayerPath: string | null;
  /** Class index to explain, or null for the top-1 prediction. */
  target: number | null;
  counterfactual: boolean;
  /** The model output explained (ModelSummary.outputs), or null for the model's default output. */
  output: number | null;
  /** The methods chosen, in the grid's order (src/shared/methods.ts). */
  methods: MethodId[];
  /** Each method's settings, by option name (defaults fill the rest). */
  methodOptions: Partial<Record<MethodId, Record<string, MethodOptionValue>>>;
  /** pytorch-grad-cam's smoothing for the CAM methods. */
  smoothing: { eigenSmooth: boolean; augSmooth: boolean };
  /** The comparison grid: the chosen methods side by side, or the first of them at several layers. */
  grid: 'methods' | 'layers';
  /** The explanation in flight: the methods it asks for (their panels say so until drawn); the running method and since when. */
  running: { methods: MethodId[]; method: MethodId | null; methodSince: number } | null;
  /** Panels the last request left undrawn because it was cancelled or failed (they say so instead of "not computed"). */
  unfinished: { outcome: 'cancelled' | 'failed'; methods: MethodId[] } | null;
}

/** Faithfulness scores and the sanity check of the maps on screen (cleared when a new explanation lands). */
export interface MetricsSlice {
  /** Points per deletion / insertion curve (a forward pass each). */
  steps: number;
  baseline: FaithfulnessBaseline;
  sanityMode: SanityMode;
  faithfulness: FaithfulnessResult | null;
  sanity: SanitySummary | null;
  running: 'faithfulness' | 'sanity' | null;
  /** 0 … 1 while running. */
  progress: number | null;
}

export interface StatusSlice {
  /** False until boot has made the client and tried a backend. */
  started: boolean;
  /** Operations in flight (boot, drop, explain, export...). */
  pending: number;
  /** What the last finished operation did, for `data-state`. */
  outcome: 'ready' | 'error';
  phase: string | null;
  progress: LoadProgress | null;
  /** The costly methods' progress while an explanation runs (Score-CAM, SmoothGrad, …). */
  explainProgress: ExplainProgress | null;
  notices: UiNotice[];
  /** Errors with an id up to this were followed by a success: shown muted, no longer current. */
  resolvedUpTo: number;
}

export interface BackendSlice {
  info: BackendInfo | null;
  switching: boolean;
}

export interface StudioState {
  model: ModelSlice;
  image: ImageInfo | null;
  explanation: ExplanationSlice;
  metrics: MetricsSlice;
  view: ViewOptions;
  /** User overrides of the model's preprocessing defaults. */
  preprocess: Partial<PreprocessOptions>;
  status: StatusSlice;
  backend: BackendSlice;
  /** Whether the Web Share API can share a PNG file here. */
  canShare: boolean;
  /** The built-in demo's sample images (empty until listed). */
  demoSamples: DemoSample[];
  /**
   * Which of the worker's commits the screen shows: the model and image tokens and the state version
   * (src/worker/api.ts CommittedState). Only a newer version is applied, and every explanation names
   * these tokens, so the tree on screen and the worker's model cannot differ.
   */
  committed: { version: number; modelToken: string | null; imageToken: string | null };
  live: LiveSlice;
}

export const DEFAULT_VIEW: ViewOptions = { colormap: 'turbo', opacity: 0.5, threshold: 0 };
/** How many notices the status region keeps. */
export const NOTICE_HISTORY = 20;

/** Live mode: the camera's frames explained as they come (src/store/live.ts). */
export interface LiveSlice {
  /** The live view is open. */
  active: boolean;
  /** Frames are being sent (false while the camera starts, after an error, or once stopped). */
  running: boolean;
  cameras: { deviceId: string; label: string }[];
  deviceId: string | null;
  /** Frames explained per second, over the last second. */
  fps: number;
  /** From grabbing a frame to its overlay drawn, ms (last frame). */
  latencyMs: number;
  frames: number;
  last: { classLabel: string; probability: number; method: string; layerPath: string | null } | null;
  error: string | null;
}

export function initialLive(): LiveSlice {
  return { active: false, running: false, cameras: [], deviceId: null, fps: 0, latencyMs: 0, frames: 0, last: null, error: null };
}

export function initialState(): StudioState {
  return {
    model: { summary: null, ignored: [] },
    image: null,
    explanation: {
      last: null,
      selectedLayerPath: null,
      target: null,
      counterfactual: false,
      output: null,
      methods: [...CLASSIC_METHODS], // the app opens with Grad-CAM, guided backprop, guided Grad-CAM
      methodOptions: {},
      smoothing: { eigenSmooth: false, augSmooth: false },
      grid: 'methods',
      running: null,
      unfinished: null,
    },
    metrics: { steps: DEFAULT_FAITHFULNESS.steps, baseline: DEFAULT_FAITHFULNESS.baseline, sanityMode: 'cascading', faithfulness: null, sanity: null, running: null, progress: null },
    view: { ...DEFAULT_VIEW },
    live: initialLive(),
    preprocess: {},
    status: { started: false, pending: 0, outcome: 'ready', phase: null, progress: null, explainProgress: null, notices: [], resolvedUpTo: 0 },
    backend: { info: null, switching: false },
    canShare: false,
    demoSamples: [],
    committed: { version: 0, modelToken: null, imageToken: null },
  };
}

export const useStore = create<StudioState>()(() => initialState());

/** `data-state` on the app root: what e2e tests wait on. */
export function appState(s: StudioState): 'busy' | 'ready' | 'error' {
  if (!s.status.started || s.status.pending > 0) return 'busy';
  return s.status.outcome;
}

/** The newest notice, shown in the live region. */
export function latestNotice(s: StudioState): UiNotice | null {
  return s.status.notices.length ? s.status.notices[s.status.notices.length - 1] : null;
}

/** The output the page explains: the chosen one, else the model's default (for its labels and head). */
export function currentOutput(summary: ModelSummary, chosen: number | null): OutputSummary {
  return summary.outputs[chosen ?? summary.defaultOutput] ?? summary.outputs[summary.defaultOutput]!;
}
