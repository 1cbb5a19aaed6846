/** The page/worker contract of the trust measurements (faithfulness, the sanity check). */
import type { MethodId } from '../shared/methods';
import type { SanityResult } from '../shared/metrics';
import type { PanelImage } from './view';

/** Progress of a faithfulness measurement or a sanity check (every curve point / step is counted). */
export interface MetricsProgress {
  kind: 'faithfulness' | 'sanity';
  fraction: number;
}

/** The sanity check with its strip: each method's map at each step, small, drawn by the worker. */
export interface SanitySummary extends SanityResult {
  strip: Partial<Record<MethodId, PanelImage[]>>;
}
