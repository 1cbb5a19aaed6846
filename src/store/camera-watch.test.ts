import { describe, expect, it } from 'vitest';
import { cameraError, cameraErrorText } from './camera-watch';

describe('camera errors', () => {
  it('getUserMedia failures get codes by their DOMException name', () => {
    const code = (name: string) => cameraError(new DOMException('x', name)).code;
    expect(code('NotAllowedError')).toBe('CAMERA_PERMISSION_DENIED');
    expect(code('SecurityError')).toBe('CAMERA_PERMISSION_DENIED');
    expect(code('NotFoundError')).toBe('CAMERA_NOT_FOUND');
    expect(code('OverconstrainedError')).toBe('CAMERA_NOT_FOUND');
    expect(code('NotReadableError')).toBe('CAMERA_IN_USE');
    expect(code('TypeError')).toBe('CAMERA_UNAVAILABLE');
    expect(cameraError('odd').code).toBe('CAMERA_UNAVAILABLE');
    expect(cameraErrorText(cameraError(new DOMException('Permission denied', 'NotAllowedError')))).toMatch(/^CAMERA_PERMISSION_DENIED: Camera access is not allowed \(Permission denied\)/);
  });
});
