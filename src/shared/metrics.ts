/**
 * Faithfulness metrics and the randomisation sanity check: the data that crosses the worker
 * boundary and the CLI's JSON (plain numbers, no tensors), and the settings' defaults.
 */
import type { MethodId } from './methods';
import type { SanityRule, SanityVerdict } from './sanity-verdict';

/** What removed pixels become in the deletion / insertion curves (in the model's input space). */
export type FaithfulnessBaseline = 'blur' | 'mean';

export interface FaithfulnessOptions {
  /** Points per deletion / insertion curve, beyond the first (default 20: 0 %, 5 %, … 100 %). */
  steps?: number;
  baseline?: FaithfulnessBaseline;
  /** Images per forward pass (default 16). */
  batchSize?: number;
  /** Seed of the random reference map and of ROAD's imputation noise (default 1). */
  seed?: number;
  /** 'curves': deletion and insertion only (the benchmark's case; ROAD empty, confidence change NaN); 'all' (default) adds them. */
  measures?: 'all' | 'curves';
}

export const DEFAULT_FAITHFULNESS: Required<FaithfulnessOptions> = { steps: 20, baseline: 'blur', batchSize: 16, seed: 1, measures: 'all' };

/** ROAD's removal fractions (Rong et al. 2022): 10 % … 90 %. */
export const ROAD_PERCENTS = [10, 20, 30, 40, 50, 60, 70, 80, 90] as const;

export interface Curve {
  /** Fraction of pixels removed (deletion) or inserted (insertion), 0 … 1. */
  x: number[];
  /** The class probability at each fraction. */
  y: number[];
  /** Area under the curve (trapezoid rule over x ∈ [0, 1]). */
  auc: number;
}

export interface RoadScores {
  percents: number[];
  /** Class probability with the most relevant p % imputed (lower = more faithful). */
  morf: number[];
  /** Class probability with the least relevant p % imputed (higher = more faithful). */
  lerf: number[];
  /** mean over p of (LeRF − MoRF) / 2: pytorch-grad-cam's ROADCombined; higher = more faithful. */
  combined: number;
}

/** The scores of one map. */
export interface MapFaithfulness {
  deletion: Curve;
  insertion: Curve;
  /** Empty, combined NaN, when only the curves were measured (measures: 'curves'). */
  road: RoadScores;
  /** p(image ⊙ map) − p(image), the image in the model's input space (pytorch-grad-cam's CamMultImageConfidenceChange). */
  confidenceChange: number;
}

/** Reference maps scored beside the methods', so that a number means something. */
export type ReferenceMapId = 'random' | 'centre';

export const REFERENCE_LABELS: Record<ReferenceMapId, string> = { random: 'Random map', centre: 'Centre Gaussian' };

export interface FaithfulnessResult {
  classIndex: number;
  classLabel: string;
  /** p(image) for the class. */
  probability: number;
  settings: Required<Pick<FaithfulnessOptions, 'steps' | 'baseline'>>;
  methods: Partial<Record<MethodId, MapFaithfulness>>;
  references: Record<ReferenceMapId, MapFaithfulness>;
  /** Forward passes run (every curve point is one). */
  forwardPasses: number;
  /** Why some scores mean little: a constant map (a 1×1 layer) ranks no pixel above another. */
  caveats?: { code: 'FAITHFULNESS_CONSTANT_MAP'; message: string }[];
}

export type SanityMode = 'cascading' | 'independent';

export interface SanityOptions {
  mode?: SanityMode;
  /** Seed of the random weights (default 1). */
  seed?: number;
}

export interface SanityStep {
  /** 'original', then the layer randomised last (cascading: it and every layer above it). */
  label: string;
  /** Layers holding random weights at this step. */
  randomised: string[];
}

export interface SanityMethodResult {
  /** Spearman rank correlation with the original map, per step (step 0 = 1). */
  spearman: number[];
  /** SSIM of the normalised maps with the original's, per step. */
  ssim: number[];
  /** The verdict under the run's rule (see sanity-verdict.ts). */
  verdict: SanityVerdict;
  /** verdict === 'fail': the map survives randomisation, it does not depend on what the model learned. */
  flagged: boolean;
}

export interface SanityResult {
  mode: SanityMode;
  classIndex: number;
  classLabel: string;
  steps: SanityStep[];
  /** The rule the verdicts follow, shown beside them. */
  rule: SanityRule;
  methods: Partial<Record<MethodId, SanityMethodResult>>;
}

export { SANITY_RHO_THRESHOLD } from './sanity-verdict';
