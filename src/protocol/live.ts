/** The page/worker contract of live mode. */
import type { MethodId } from '../shared/methods';

/** What the page gets back for one live frame: a few numbers (the worker drew the overlay). */
export interface LiveFrameSummary {
  requestId: number;
  method: MethodId;
  layerPath: string | null;
  classIndex: number;
  classLabel: string;
  probability: number;
  /** Worker time for the frame: pixels read, explained, drawn. */
  explainMs: number;
}
