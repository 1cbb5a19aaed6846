/**
 * The camera's failures as codes: getUserMedia's DOMException names mapped to what the user can do,
 * and a running stream watched for its end — the track ending (camera unplugged, another app taking
 * it, the OS revoking it), the device disappearing from the list, the permission being revoked —
 * so that live mode stops with a message instead of freezing on its last frame.
 */
import { studioError, type StudioError } from '../shared/errors';

/** A getUserMedia failure as a coded error. */
export function cameraError(e: unknown): StudioError {
  const name = e instanceof Error || (typeof DOMException !== 'undefined' && e instanceof DOMException) ? (e as Error).name : '';
  const reason = e instanceof Error ? e.message || e.name : String(e);
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return studioError('CAMERA_PERMISSION_DENIED', { reason });
    case 'NotFoundError':
    case 'OverconstrainedError':
      return studioError('CAMERA_NOT_FOUND', { reason });
    case 'NotReadableError':
    case 'AbortError':
      return studioError('CAMERA_IN_USE', { reason });
    default:
      return studioError('CAMERA_UNAVAILABLE', { reason });
  }
}

/** `CODE: message`, as the live view shows errors. */
export function cameraErrorText(error: StudioError): string {
  return `${error.code}: ${error.message}`;
}

/**
 * Calls `onLost` once with the reason when the stream's video track ends, its device leaves the
 * device list, or the camera permission turns to denied. Returns the function that stops watching.
 */
export function watchCamera(stream: MediaStream, onLost: (error: StudioError) => void): () => void {
  let done = false;
  const lost = (error: StudioError) => {
    if (done) return;
    done = true;
    stop();
    onLost(error);
  };
  const track = stream.getVideoTracks()[0];
  const deviceId = track?.getSettings().deviceId;
  const onEnded = () => lost(studioError('CAMERA_ENDED', { reason: 'the camera stopped sending frames (unplugged, or taken by another app)' }));
  track?.addEventListener('ended', onEnded);
  const onDeviceChange = () => {
    void navigator.mediaDevices?.enumerateDevices().then((devices) => {
      if (deviceId && !devices.some((d) => d.kind === 'videoinput' && d.deviceId === deviceId)) lost(studioError('CAMERA_ENDED', { reason: 'the camera was disconnected' }));
    }, () => undefined);
  };
  navigator.mediaDevices?.addEventListener?.('devicechange', onDeviceChange);
  let permission: PermissionStatus | null = null;
  const onPermission = () => {
    if (permission?.state === 'denied') lost(studioError('CAMERA_PERMISSION_DENIED', { reason: 'camera access was revoked' }));
  };
  void navigator.permissions?.query({ name: 'camera' as PermissionName }).then((status) => {
    if (done) return;
    permission = status;
    status.addEventListener('change', onPermission);
  }, () => undefined);
  function stop() {
    done = true;
    track?.removeEventListener('ended', onEnded);
    navigator.mediaDevices?.removeEventListener?.('devicechange', onDeviceChange);
    permission?.removeEventListener('change', onPermission);
  }
  return stop;
}
