/**
 * Starting a tfjs backend for the engine: the backend itself, then — on WASM — the fast gradient
 * kernels (kernels/wasm-gradients.ts: tfjs-backend-wasm 4.22 lacks the conv backprop kernels or has
 * slow ones). Every caller (the worker, the CLI, the scripts) starts a backend through this, so no
 * WASM run ever goes without them.
 */
import * as tf from '@tensorflow/tfjs';
import { registerFastWasmGradients } from './kernels/wasm-gradients';

/** How a backend is started: tf.setBackend, or the worker's time-bounded threaded WASM start. */
export type BackendStart = (name: string) => Promise<boolean>;

/** Make `name` the active backend and register the engine's kernels for it; throws when it does not start. */
export async function useBackend(name: string, start: BackendStart = (n) => tf.setBackend(n)): Promise<void> {
  const started = await start(name);
  if (!started) throw new Error('tf.setBackend returned false');
  await tf.ready();
  if (name === 'wasm') registerFastWasmGradients();
}
