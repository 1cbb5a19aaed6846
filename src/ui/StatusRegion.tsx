/** Status bar: the latest message (live region), a busy/progress line, recent notices; the backend. */
import { cancelExplain, dismissNotices, switchBackend } from '../store/actions';
import { latestNotice, useStore, type UiNotice } from '../store/store';
import type { BackendName } from '../shared/types';
import { formatBytes } from '../shared/format';

const BACKEND_LABELS: Record<BackendName, string> = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'WASM', cpu: 'CPU' };

function NoticeLine({ notice }: { notice: UiNotice }) {
  return (
    <>
      {notice.code && (
        <>
          <code className="notice-code">{notice.code}</code>
          <span className="notice-sep">: </span>
        </>
      )}
      <span className="notice-message" title={notice.message.length > 200 ? notice.message : undefined}>
        {notice.message}
      </span>
    </>
  );
}

export function StatusRegion() {
  const latest = useStore(latestNotice);
  const notices = useStore((s) => s.status.notices);
  const pending = useStore((s) => s.status.pending);
  const phase = useStore((s) => s.status.phase);
  const progress = useStore((s) => s.status.progress);
  const explainProgress = useStore((s) => s.status.explainProgress);
  const resolvedUpTo = useStore((s) => s.status.resolvedUpTo);
  const busy = pending > 0;
  // An error that a later success superseded stays readable but loses its alarm colours.
  const level = latest ? (latest.level === 'error' && latest.id <= resolvedUpTo ? 'resolved' : latest.level) : null;
  const fraction =
    progress && progress.bytesTotal && progress.bytesRead !== undefined ? Math.min(1, progress.bytesRead / progress.bytesTotal) : null;

  return (
    <div className="status-area">
      <div className="busy-line" aria-hidden={!busy}>
        {busy ? (
          <>
            <span className="spinner" aria-hidden="true" />
            <span className="phase">{phase ?? 'Working…'}</span>
            {progress &&
              (fraction !== null ? (
                <progress max={1} value={fraction} aria-label="Loading progress">
                  {Math.round(fraction * 100)}%
                </progress>
              ) : (
                // Weights, building, warm-up: no byte count, so an indeterminate bar.
                progress.phase !== 'done' && <progress aria-label="Loading progress" />
              ))}
            {progress && progress.bytesTotal ? (
              <span className="muted small">
                {formatBytes(progress.bytesRead ?? 0)} / {formatBytes(progress.bytesTotal)}
              </span>
            ) : null}
            {explainProgress && (
              <>
                <progress max={1} value={explainProgress.fraction} aria-label="Explanation progress" data-testid="explain-progress">
                  {Math.round(explainProgress.fraction * 100)}%
                </progress>
                {/* A costly method (Score-CAM, SmoothGrad…) can be stopped; what was on screen stays. */}
                <button type="button" className="link-button" data-testid="cancel-explain" onClick={cancelExplain}>
                  Cancel
                </button>
              </>
            )}
          </>
        ) : (
          <span className="muted">Ready</span>
        )}
      </div>
      <div role="status" aria-live="polite" className={`status-message ${level ? `level-${level}` : ''}`} data-testid="status">
        {latest ? <NoticeLine notice={latest} /> : <span className="muted">Drop a model, a folder, a .zip or an image anywhere.</span>}
      </div>
      {notices.length > 1 && (
        <details className="notice-history">
          {/* A button inside <summary> is a control inside a control (axe: nested-interactive): it sits below. */}
          <summary>Recent messages ({notices.length})</summary>
          <button type="button" className="link-button small" onClick={dismissNotices}>
            Clear messages
          </button>
          <ul>
            {[...notices].reverse().map((n) => (
              <li key={n.id} className={`level-${n.level}`}>
                <time className="muted small">{new Date(n.time).toLocaleTimeString()}</time> <NoticeLine notice={n} />
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}


export function BackendIndicator() {
  const info = useStore((s) => s.backend.info);
  const switching = useStore((s) => s.backend.switching);
  if (!info) return <span className="backend muted">Backend: starting…</span>;
  const choices: BackendName[] = info.available.includes(info.name) ? info.available : [info.name, ...info.available];
  return (
    <label className="backend" title={`${info.reason}${info.adapter ? `\nAdapter: ${info.adapter}` : ''}`}>
      <span className="muted">Backend</span>
      <select
        value={info.name}
        disabled={switching}
        aria-label="Computation backend"
        data-backend={info.name}
        onChange={(e) => void switchBackend(e.target.value as BackendName)}
      >
        {choices.map((name) => (
          <option key={name} value={name}>
            {BACKEND_LABELS[name]}
          </option>
        ))}
      </select>
      <span className="backend-reason small muted">{info.reason}</span>
    </label>
  );
}
