/** A missing kernel is GRADIENT_UNSUPPORTED, in tfjs's wording and in ours (wasm-gradients.ts). */
import { describe, expect, it } from 'vitest';
import { StudioError } from '../../shared/errors';
import { gradientError } from './gradient';

describe('gradientError', () => {
  it.each([
    ["Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'", 'Conv2DBackpropFilter'],
    ["Kernel 'StudioReluGrad' is not registered for backend 'wasm'.", 'StudioReluGrad'],
  ])('%s → GRADIENT_UNSUPPORTED naming the op and the backend', (message, op) => {
    const e = gradientError(new Error(message));
    expect(e).toBeInstanceOf(StudioError);
    expect((e as StudioError).code).toBe('GRADIENT_UNSUPPORTED');
    expect((e as StudioError).message).toBe(`The wasm backend cannot differentiate ${op}.`);
  });

  it("tfjs's tape without a gradient function → GRADIENT_UNSUPPORTED naming the op", () => {
    const e = gradientError(new Error('Cannot compute gradient: gradient function not found for DepthToSpace.'));
    expect((e as StudioError).code).toBe('GRADIENT_UNSUPPORTED');
    expect((e as StudioError).message).toContain('DepthToSpace');
  });

  it('anything else passes through unchanged', () => {
    const other = new Error('something else');
    expect(gradientError(other)).toBe(other);
  });
});
