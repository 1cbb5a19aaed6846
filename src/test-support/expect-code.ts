/** Test helper: the promise rejects with a StudioError of `code`; returns it for further checks. */
import { expect } from 'vitest';
import { StudioError } from '../shared/errors';

export async function expectCode(promise: Promise<unknown>, code: string): Promise<StudioError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${code}, but it succeeded`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StudioError);
  expect((error as StudioError).code).toBe(code);
  return error as StudioError;
}
