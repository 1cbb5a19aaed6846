/**
 * Live mode: the camera's mirrored preview with the worker's overlay on top, the camera chooser, the
 * frame rate and latency, Pause (the frame goes to the single-image view) and Close. Escape closes.
 */
import { useEffect, useRef } from 'react';
import { chooseCamera, closeLive, freezeFrame, startCamera, stopCamera } from '../store/live';
import { useStore } from '../store/store';

export function LiveView() {
  const live = useStore((s) => s.live);
  const video = useRef<HTMLVideoElement>(null);
  const host = useRef<HTMLDivElement>(null);
  // The model sees the centre square of a centre-crop model's frame: the preview marks it, so the
  // overlay (that square) and the preview line up in the reader's eye (issue 23.8).
  const cropped = useStore((s) => (s.preprocess.resize ?? s.model.summary?.preprocess.resize) === 'center-crop');

  useEffect(() => {
    if (!video.current || !host.current) return;
    void startCamera(video.current, host.current);
    // Unmounting stops the camera (React's dev double-mount starts it again).
    return () => stopCamera();
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') closeLive();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="live-backdrop">
      <section className="live-view" role="dialog" aria-modal="true" aria-label="Live camera explanation" data-testid="live-view">
        <header className="live-header">
          <h2>Live</h2>
          {live.cameras.length > 1 && (
            <select aria-label="Camera" value={live.deviceId ?? ''} onChange={(e) => void chooseCamera(e.target.value)}>
              {live.cameras.map((c) => (
                <option key={c.deviceId} value={c.deviceId}>
                  {c.label}
                </option>
              ))}
            </select>
          )}
          <span className="live-readout" data-testid="live-readout" aria-live="off">
            {live.running ? `${live.fps} fps · ${Math.round(live.latencyMs)} ms` : 'starting the camera…'}
          </span>
          <button type="button" data-testid="live-pause" disabled={!live.running} onClick={() => void freezeFrame()}>
            Pause
          </button>
          <button type="button" data-testid="live-close" onClick={() => closeLive()}>
            Close
          </button>
        </header>
        {/* Mirrored like a mirror; the overlay is mirrored the same way so that the two line up. */}
        <div className="live-stage">
          <div className="live-video-box">
            <video ref={video} className="live-video" muted playsInline aria-hidden="true" />
            {cropped && <div className="live-crop" data-testid="live-crop" title="What the model sees: the centre square of the frame" />}
          </div>
          <div ref={host} className="live-canvas-host" data-live-canvas-host />
        </div>
        <p className="live-caption" data-testid="live-caption">
          {live.error ? (
            <span className="error-text" role="alert">
              {live.error}
            </span>
          ) : live.last ? (
            <>
              {cropped && 'The dashed square is what the model sees. '}
              <strong>{live.last.classLabel}</strong> {(live.last.probability * 100).toFixed(1)}% · {live.last.method} at {live.last.layerPath?.split('/').pop() ?? '—'} · {live.frames} frames. Frames stay in this
              browser and are never stored.
            </>
          ) : (
            'Frames stay in this browser and are never stored.'
          )}
        </p>
      </section>
    </div>
  );
}
