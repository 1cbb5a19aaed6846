/**
 * One panel large: a modal dialog fitted to the window, with zoom (wheel, pinch, + / −), pan (drag,
 * arrow keys), a readout under the pointer (the map's value and the pixel in the model's input) and
 * an original ↔ overlay wipe. The worker redraws the panel at the view's size (largeView); the page
 * only places those pixels (render/large-view.ts), and Export / Share send the same frame back to
 * the worker, which draws the PNG as shown, with its caption. Escape closes it.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { canvasToImage, clampFrame, drawLargeView, gridPixel, initialFrame, MAX_ZOOM, panBy, zoomAt, type ViewFrame } from '../render/large-view';
import { LARGE_VIEW_BACKDROP } from '../render/large-view-export';
import { copyLargeView, exportLargeView, largeViewCaption, largeViewImages, shareLargeView, shareRoute } from '../store/actions';
import { useStore } from '../store/store';
import type { LargeViewImages, PanelName } from '../protocol';
import { CopyShareButtons } from './Header';

interface Shown {
  data: LargeViewImages;
  original: ImageBitmap;
  overlay: ImageBitmap | null;
  /** The longer side the worker drew at (the export asks for the same pixels). */
  longSide: number;
}

interface Readout {
  x: number;
  y: number;
  value: number | null;
}

/**
 * Longest side asked of the worker: about what the fitted picture needs on this stage (device
 * pixels; its shorter side, a quarter more for pictures wider than tall), doubled at each doubling
 * of the zoom so that a closer look gets more of the image's own pixels; 320 (the grid's) to 2048.
 */
function longSideFor(width: number, height: number, zoom: number): number {
  const dpr = window.devicePixelRatio || 1;
  const zoomStep = 2 ** Math.floor(Math.log2(Math.max(1, zoom)));
  return Math.max(320, Math.min(2048, Math.ceil(Math.min(width, height) * 1.25 * dpr * zoomStep)));
}

function toBitmap(p: { width: number; height: number; data: Uint8ClampedArray }): Promise<ImageBitmap> {
  return createImageBitmap(new ImageData(new Uint8ClampedArray(p.data), p.width, p.height));
}

const WHEEL_ZOOM_RATE = 0.0015;
const KEY_ZOOM = 1.25;
const KEY_PAN = 40;

export function LargeView({ panelKey, title, onClose }: { panelKey: PanelName; title: string; onClose: () => void }) {
  const dialogRef = useRef<HTMLDialogElement>(null);
  const stageRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState<{ width: number; height: number } | null>(null);
  const [shown, setShown] = useState<Shown | null>(null);
  const [frame, setFrame] = useState<ViewFrame | null>(null);
  const [readout, setReadout] = useState<Readout | null>(null);
  /** New pixels are on their way (tests wait for them to land before reading the canvas). */
  const [fetching, setFetching] = useState(false);
  const requestId = useStore((s) => s.explanation.last?.requestId ?? null);
  const view = useStore((s) => s.view);
  const caption = useStore((s) => largeViewCaption(s, panelKey).join('\n'));
  const route = useStore((s) => shareRoute(s));
  const frameRef = useRef<ViewFrame | null>(null);
  frameRef.current = frame;
  const shownRef = useRef<Shown | null>(null);
  shownRef.current = shown;

  useEffect(() => {
    const dialog = dialogRef.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);

  // The stage's size in CSS pixels: the frame follows it (zoom and centre kept).
  useLayoutEffect(() => {
    const stage = stageRef.current;
    if (!stage) return;
    const measure = () => setSize((old) => {
      const next = { width: Math.floor(stage.clientWidth), height: Math.floor(stage.clientHeight) };
      return old && old.width === next.width && old.height === next.height ? old : next;
    });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(stage);
    return () => observer.disconnect();
  }, []);

  const longSide = size ? longSideFor(size.width, size.height, frame?.zoom ?? 1) : null;

  // Pixels for this size and zoom step, redrawn after a new explanation or another colour map /
  // opacity / threshold. What is shown stays until the new pixels arrive.
  useEffect(() => {
    if (!longSide) return;
    const controller = new AbortController();
    setFetching(true);
    void largeViewImages(panelKey, longSide, controller.signal).then(async (data) => {
      if (controller.signal.aborted) return;
      if (!data) return setFetching(false);
      const [original, overlay] = await Promise.all([toBitmap(data.original), data.overlay ? toBitmap(data.overlay) : Promise.resolve(null)]);
      if (controller.signal.aborted) return;
      setShown({ data, original, overlay, longSide });
      setFetching(false);
    });
    return () => controller.abort();
  }, [panelKey, longSide, requestId, view]);

  useEffect(() => {
    if (!size || !shown) return;
    setFrame((old) => clampFrame(old ? { ...old, ...size } : initialFrame(size.width, size.height), shown.original.width, shown.original.height));
  }, [size, shown]);

  // Draw: device pixels for sharpness, the frame in CSS pixels.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !frame || !shown) return;
    const dpr = window.devicePixelRatio || 1;
    const width = Math.round(frame.width * dpr);
    const height = Math.round(frame.height * dpr);
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = LARGE_VIEW_BACKDROP;
    ctx.fillRect(0, 0, width, height);
    drawLargeView(ctx, shown.original, shown.overlay, { ...frame, width, height });
  }, [frame, shown]);

  /** The readout at a canvas point (CSS pixels): the input pixel and the map's value there. */
  const readAt = useCallback((x: number, y: number) => {
    const f = frameRef.current;
    const s = shownRef.current;
    if (!f || !s) return;
    const { u, v } = canvasToImage(f, s.original.width, s.original.height, x, y);
    const pixel = gridPixel(u, v, s.data.input.width, s.data.input.height);
    if (!pixel) return setReadout(null);
    const map = s.data.map;
    const at = map ? gridPixel(u, v, map.width, map.height) : null;
    setReadout({ ...pixel, value: map && at ? map.data[at.y * map.width + at.x]! : null });
  }, []);

  const update = useCallback((change: (f: ViewFrame, w: number, h: number) => ViewFrame) => {
    const s = shownRef.current;
    if (!s) return;
    setFrame((f) => (f ? change(f, s.original.width, s.original.height) : f));
  }, []);

  // The wheel zooms about the pointer (a native listener: React's wheel handlers cannot prevent scrolling).
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const r = canvas.getBoundingClientRect();
      const x = e.clientX - r.left;
      const y = e.clientY - r.top;
      const factor = Math.exp(-e.deltaY * WHEEL_ZOOM_RATE);
      const f = frameRef.current;
      const s = shownRef.current;
      if (!f || !s) return;
      const next = zoomAt(f, s.original.width, s.original.height, x, y, factor);
      frameRef.current = next;
      setFrame(next);
      readAt(x, y);
    };
    canvas.addEventListener('wheel', onWheel, { passive: false });
    return () => canvas.removeEventListener('wheel', onWheel);
  }, [readAt]);

  // Drag to pan; two fingers pinch-zoom about their midpoint.
  const pointers = useRef(new Map<number, { x: number; y: number }>());
  const local = (e: React.PointerEvent) => {
    const r = e.currentTarget.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  const onPointerDown = (e: React.PointerEvent<HTMLCanvasElement>) => {
    e.currentTarget.setPointerCapture(e.pointerId);
    pointers.current.set(e.pointerId, local(e));
  };
  const onPointerMove = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const p = local(e);
    const held = pointers.current;
    const before = held.get(e.pointerId);
    if (before && held.size === 1) {
      update((f, w, h) => panBy(f, w, h, p.x - before.x, p.y - before.y));
    } else if (before && held.size === 2) {
      const other = [...held.entries()].find(([id]) => id !== e.pointerId)![1];
      const d0 = Math.hypot(before.x - other.x, before.y - other.y);
      const d1 = Math.hypot(p.x - other.x, p.y - other.y);
      const mid = { x: (p.x + other.x) / 2, y: (p.y + other.y) / 2 };
      const midBefore = { x: (before.x + other.x) / 2, y: (before.y + other.y) / 2 };
      if (d0 > 0) update((f, w, h) => panBy(zoomAt(f, w, h, midBefore.x, midBefore.y, d1 / d0), w, h, mid.x - midBefore.x, mid.y - midBefore.y));
    }
    if (before) held.set(e.pointerId, p);
    readAt(p.x, p.y);
  };
  const onPointerUp = (e: React.PointerEvent<HTMLCanvasElement>) => {
    pointers.current.delete(e.pointerId);
  };

  const zoomCentre = (factor: number) => {
    update((f, w, h) => zoomAt(f, w, h, f.width / 2, f.height / 2, factor));
  };
  const onKeyDown = (e: React.KeyboardEvent<HTMLCanvasElement>) => {
    const pan: Record<string, [number, number]> = { ArrowLeft: [KEY_PAN, 0], ArrowRight: [-KEY_PAN, 0], ArrowUp: [0, KEY_PAN], ArrowDown: [0, -KEY_PAN] };
    if (e.key === '+' || e.key === '=') zoomCentre(KEY_ZOOM);
    else if (e.key === '-' || e.key === '_') zoomCentre(1 / KEY_ZOOM);
    else if (e.key === '0') update((f, w, h) => clampFrame({ ...f, zoom: 1, centerX: 0.5, centerY: 0.5 }, w, h));
    else if (pan[e.key]) update((f, w, h) => panBy(f, w, h, pan[e.key]![0], pan[e.key]![1]));
    else return;
    e.preventDefault();
    // Keyboard users read the centre of the view.
    const f = frameRef.current;
    if (f) requestAnimationFrame(() => readAt(f.width / 2, f.height / 2));
  };

  /** The frame as exported: the canvas's own pixels (CSS size × device pixel ratio). */
  const exportFrame = (): ViewFrame | null => {
    if (!frame) return null;
    const dpr = window.devicePixelRatio || 1;
    return { ...frame, width: Math.round(frame.width * dpr), height: Math.round(frame.height * dpr) };
  };
  const withFrame = (run: (key: PanelName, f: ViewFrame, longSide: number) => Promise<void>) => () => {
    const f = exportFrame();
    if (f && shown) void run(panelKey, f, shown.longSide);
  };

  const ready = Boolean(frame && shown);
  return (
    <dialog
      ref={dialogRef}
      className="large-view"
      aria-labelledby="large-view-title"
      data-testid="large-view"
      onClose={onClose}
    >
      <div className="large-view-bar">
        <h2 id="large-view-title">{title}</h2>
        <div className="large-view-zoom" role="group" aria-label="Zoom">
          <button type="button" onClick={() => zoomCentre(1 / KEY_ZOOM)} disabled={!ready || frame?.zoom === 1} aria-label="Zoom out">
            −
          </button>
          <output className="zoom-level" data-testid="large-zoom" aria-label="Zoom level">
            {frame ? `${Math.round(frame.zoom * 100)}%` : '—'}
          </output>
          <button type="button" onClick={() => zoomCentre(KEY_ZOOM)} disabled={!ready || frame?.zoom === MAX_ZOOM} aria-label="Zoom in">
            +
          </button>
          <button type="button" onClick={() => update((f, w, h) => clampFrame({ ...f, zoom: 1, centerX: 0.5, centerY: 0.5 }, w, h))} disabled={!ready}>
            Fit
          </button>
        </div>
        <div className="share-buttons" role="group" aria-label="Share this view">
          <button type="button" disabled={!ready} onClick={withFrame(exportLargeView)}>
            Export PNG
          </button>
          <CopyShareButtons disabled={!ready} route={route} onCopy={withFrame(copyLargeView)} onShare={withFrame(shareLargeView)} />
        </div>
        <button type="button" className="large-view-close" onClick={() => dialogRef.current?.close()}>
          Close <span className="muted">(Esc)</span>
        </button>
      </div>
      <div className="large-view-stage" ref={stageRef}>
        <canvas
          ref={canvasRef}
          tabIndex={0}
          role="img"
          aria-label={`${title}, large. Zoom with the wheel, a pinch or + and −; move with a drag or the arrow keys; 0 fits.`}
          data-testid="large-canvas"
          data-zoom={frame?.zoom}
          data-drawing={fetching || undefined}
          style={frame ? { width: frame.width, height: frame.height } : undefined}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={onPointerUp}
          onPointerLeave={() => pointers.current.size === 0 && setReadout(null)}
          onKeyDown={onKeyDown}
        />
        {!shown && <p className="large-view-loading muted">Drawing…</p>}
      </div>
      <div className="large-view-footer">
        <output
          className="large-readout"
          data-testid="large-readout"
          data-x={readout?.x}
          data-y={readout?.y}
          data-value={readout?.value ?? undefined}
        >
          {readout ? (
            <>
              input pixel x {readout.x}, y {readout.y}
              <span className="muted"> of {shown?.data.input.width}×{shown?.data.input.height}</span>
              {readout.value !== null && <> · map value {readout.value.toFixed(3)}</>}
            </>
          ) : (
            <span className="muted">Point at the picture for the map value and the input pixel.</span>
          )}
        </output>
        {shown?.overlay && frame && (
          <label className="wipe">
            <span>Original</span>
            <input
              type="range"
              min={0}
              max={100}
              step={1}
              value={Math.round(frame.wipe * 100)}
              aria-label="Wipe between the original (left) and the overlay (right)"
              aria-valuetext={`original on the left ${Math.round(frame.wipe * 100)}% of the view`}
              data-testid="large-wipe"
              onChange={(e) => {
                const wipe = Number(e.target.value) / 100;
                setFrame((f) => (f ? { ...f, wipe } : f));
              }}
            />
            <span>Overlay</span>
          </label>
        )}
        <p className="large-view-caption small" data-testid="large-caption">
          {caption}
        </p>
      </div>
    </dialog>
  );
}
