/**
 * Live mode's actions: the camera (getUserMedia, a chooser over the video inputs) and the frame loop.
 * The loop grabs a frame only when none is in flight — frames in between are dropped, never queued —
 * and hands it to the worker as a transferred ImageBitmap (the page keeps no copy). The worker
 * explains it with a single-pass method at the chosen layer and class and draws it on the live canvas.
 * The camera stops when live mode is left, paused, or the page is hidden. Pause freezes the current
 * frame into the single-image view (as a PNG opened like any image), where every method works.
 */
import { studioError, toStudioError } from '../shared/errors';
import { useStore, initialLive, type LiveSlice } from './store';
import { explainOptions } from './explain';
import { openAndExplain } from './open';
import { whenClient } from './session';

interface Running {
  stream: MediaStream;
  video: HTMLVideoElement;
  stop: () => void;
}

let running: Running | null = null;
/** Longer side of a grabbed frame, px (what the worker draws). */
const FRAME_SIDE = 320;
/** How often the fps / latency readout updates, ms. */
const READOUT_MS = 250;
/** Completion times of recent frames (the fps readout). */
let completed: number[] = [];

function setLive(patch: Partial<LiveSlice>): void {
  useStore.setState((s) => ({ live: { ...s.live, ...patch } }));
}

/** Open the live view (the camera starts when the view hands over its video element: startCamera). */
export function openLive(): void {
  setLive({ ...initialLive(), active: true });
}

/** Leave live mode: the camera stops, the view closes. */
export function closeLive(): void {
  stopCamera();
  setLive(initialLive());
}

export function stopCamera(): void {
  running?.stop();
  running = null;
  setLive({ running: false });
}

async function listCameras(): Promise<void> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const cameras = devices.filter((d) => d.kind === 'videoinput').map((d, i) => ({ deviceId: d.deviceId, label: d.label || `Camera ${i + 1}` }));
  setLive({ cameras });
}

/**
 * Start the camera `deviceId` (default: the first) into `video`, and explain its frames onto the
 * live canvas in `canvasHost`.
 */
export async function startCamera(video: HTMLVideoElement, canvasHost: HTMLElement, deviceId?: string | null): Promise<void> {
  stopCamera();
  if (!navigator.mediaDevices?.getUserMedia) {
    setLive({ error: studioError('CAMERA_UNAVAILABLE', { reason: 'this browser has no camera access (getUserMedia)' }).message });
    return;
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: deviceId ? { deviceId: { exact: deviceId } } : { facingMode: 'user' }, audio: false });
  } catch (e) {
    setLive({ error: studioError('CAMERA_UNAVAILABLE', { reason: e instanceof Error ? e.message : String(e) }).message });
    return;
  }
  const c = await whenClient();
  video.srcObject = stream;
  await video.play().catch(() => undefined);
  await c.mountLiveCanvas(canvasHost);
  await listCameras().catch(() => undefined);
  const track = stream.getVideoTracks()[0];
  setLive({ running: true, error: null, deviceId: track?.getSettings().deviceId ?? deviceId ?? null, frames: 0, fps: 0 });

  let stopped = false;
  let inFlight = false;
  let frames = 0;
  let shownAt = 0;
  const controller = new AbortController();
  const onHidden = () => {
    if (document.visibilityState === 'hidden') stopCamera();
  };
  document.addEventListener('visibilitychange', onHidden);
  const current: Running = {
    stream,
    video,
    stop: () => {
      stopped = true;
      controller.abort();
      document.removeEventListener('visibilitychange', onHidden);
      stream.getTracks().forEach((t) => t.stop());
      video.srcObject = null;
    },
  };
  running = current;
  completed = [];

  const next = () => {
    if (stopped) return;
    if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(() => void tick());
    else requestAnimationFrame(() => void tick());
  };
  const tick = async () => {
    if (stopped) return;
    // The newest frame wins: while one is in flight, the frames in between are dropped.
    if (inFlight || video.readyState < 2 || video.videoWidth === 0) return next();
    inFlight = true;
    const grabbed = performance.now();
    try {
      // Grabbed at the size the worker draws (longer side 320 px): the model sees ≤ 224 px anyway,
      // and a smaller copy is less work for the page.
      const scale = Math.min(1, FRAME_SIDE / Math.max(video.videoWidth, video.videoHeight));
      const frame = await createImageBitmap(video, { resizeWidth: Math.round(video.videoWidth * scale), resizeHeight: Math.round(video.videoHeight * scale), resizeQuality: 'medium' });
      const options = explainOptions(useStore.getState());
      const summary = await c.call('explainFrame', [frame, { ...options, expect: undefined }], { signal: controller.signal, transfer: [frame] });
      const now = performance.now();
      completed = [...completed.filter((t) => now - t < 1000), now];
      frames++;
      // The readout is for people: four updates a second are plenty (and keep React's work small).
      if (now - shownAt >= READOUT_MS) {
        shownAt = now;
        setLive({
          frames,
          fps: completed.length,
          latencyMs: now - grabbed,
          last: { classLabel: summary.classLabel, probability: summary.probability, method: summary.method, layerPath: summary.layerPath },
          error: null,
        });
      }
    } catch (e) {
      const err = toStudioError(e);
      if (err.code !== 'CANCELLED' && !stopped) setLive({ error: `${err.code}: ${err.message}` });
    } finally {
      inFlight = false;
      next();
    }
  };
  next();
}

/** Switch to another camera. */
export async function chooseCamera(deviceId: string): Promise<void> {
  const r = running;
  if (!r) return;
  const host = document.querySelector<HTMLElement>('[data-live-canvas-host]');
  if (host) await startCamera(r.video, host, deviceId);
}

/**
 * Pause: the frame on screen becomes the image of the single-image view (explained there with every
 * chosen method; export and share work), and live mode ends.
 */
export async function freezeFrame(): Promise<void> {
  const r = running;
  if (!r) return;
  const { video } = r;
  const canvas = new OffscreenCanvas(video.videoWidth, video.videoHeight);
  canvas.getContext('2d')?.drawImage(video, 0, 0);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  closeLive();
  await openAndExplain([{ file: new File([blob], 'camera-frame.png', { type: 'image/png' }) }]);
}
