/** Live mode: camera frames explained with a single-pass method and drawn on the live canvas (live.ts). */
import { studioError } from '../../shared/errors';
import type { ExplainOptions } from '../../shared/types';
import type { LiveFrameSummary } from '../../protocol/live';
import { guard } from '../guard';
import type { Lanes } from '../lane';
import type { WorkerSession } from '../session';

export function makeLiveApi(session: WorkerSession, lanes: Lanes) {
  return {
    /** Hand over the live view's canvas (again when live mode reopens). */
    attachLiveCanvas(_requestId: number, canvas: OffscreenCanvas): Promise<void> {
      return guard(async () => session.live.attach(canvas));
    },

    /**
     * Explain one camera frame (transferred, closed after use) at the chosen layer and class, and draw
     * it on the live canvas. A newer frame supersedes one in flight (frames are dropped, never queued).
     */
    explainFrame(requestId: number, frame: ImageBitmap, options: ExplainOptions): Promise<LiveFrameSummary> {
      return guard(() =>
        session.requests.run(requestId, (requestSignal) =>
          lanes.live
            .run(
              async (signal) => {
                const model = session.model;
                if (!model) throw studioError('NO_MODEL');
                return { requestId, ...(await session.live.explainFrame(model, frame, options, session.view, signal)) };
              },
              { signal: requestSignal, kind: 'frame', supersedes: ['frame'] },
            )
            .catch((e: unknown) => {
              frame.close(); // a frame that never ran is not kept either (closing twice is harmless)
              throw e;
            }),
        ),
      );
    },
  };
}

