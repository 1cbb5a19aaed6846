/**
 * How the store gets its worker client. The port is the client bridge's own type
 * (src/client/studio-client.ts), every member required; a unit test hands the store any object of
 * that type through `setClientFactory`.
 */
import type { StudioClientPort } from '../client/studio-client';

export type { StudioClientPort } from '../client/studio-client';
export type { ClientEvent } from '../client/events';

let factory: (() => StudioClientPort) | null = null;

/** Replace how `boot()` makes its client (tests; a custom worker). */
export function setClientFactory(make: (() => StudioClientPort) | null): void {
  factory = make;
}

export async function createClient(): Promise<StudioClientPort> {
  if (factory) return factory();
  // Loaded lazily so the store (and its unit tests) do not pull in the worker client.
  const { StudioClient } = await import('../client/studio-client');
  return new StudioClient();
}
