/**
 * Releasing the WASM flipped-kernel cache must not touch WASM where it never ran: tfjs'
 * findBackend would start initialising it, and the ACTIVE backend then refuses every op
 * ("Backend '…' has not yet been initialized") — seen in a WebGPU worker disposing a model.
 */
import { expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { clearRearrangedFilters, releaseFreedRearrangedFilters } from './wasm-gradients';

it('releasing an empty cache leaves another active backend usable', async () => {
  await tf.setBackend('cpu');
  releaseFreedRearrangedFilters();
  clearRearrangedFilters();
  const sum = tf.add(tf.scalar(1), tf.scalar(2));
  expect(sum.dataSync()[0]).toBe(3);
  tf.dispose(sum);
});
