/** The page/worker contract of the in-worker benchmark (`npm run bench`). */
import type { MethodId } from '../shared/methods';

/** One thing the in-worker benchmark times (`npm run bench`). */
export interface BenchCase {
  label: string;
  /**
   * 'forward' = one prediction; 'live-frame' = one live-mode frame (a 320-px bitmap explained with
   * Grad-CAM at `layerPath` and its overlay rendered: the worker's share of a live frame); otherwise
   * one explanation with these methods.
   */
  methods: MethodId[] | 'forward' | 'live-frame';
  layerPath?: string;
  /**
   * cold (default): the per-image activation cache is cleared before every run, so the figure
   * includes the full forward pass (one explanation of a new image). warm: the cache is kept and each
   * run asks for another class, so only the backward pass re-runs.
   */
  warm?: boolean;
  /**
   * Time the faithfulness curves instead: the case's explanation runs untimed, then the deletion and
   * insertion curves of its first map at this many steps are timed (no references, no ROAD).
   */
  metricsSteps?: number;
  /** After the timed rounds, run the case once more under tf.profile and report its kernels. */
  profile?: boolean;
}

export interface BenchSpec {
  runs: number;
  cases: BenchCase[];
}

export interface BenchCaseResult {
  label: string;
  /** Milliseconds per timed run (one untimed warm-up run comes first). */
  runs: number[];
  /** With `profile`: one more run under tf.profile, kernel by kernel (time inside each kernel call). */
  profile?: KernelProfile;
}

export interface KernelProfile {
  /** The profiled run's wall time (tf.profile's bookkeeping included) and the time inside kernels. */
  wallMs: number;
  kernelMs: number;
  /** Per kernel name, slowest first. */
  kernels: { name: string; ms: number; calls: number }[];
}

export interface BenchResult {
  backend: string;
  cases: BenchCaseResult[];
}
