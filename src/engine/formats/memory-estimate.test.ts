import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { fromBytes } from '../files';
import { exportLayersModelAsTfjs } from './export-tfjs';
import { checkModelSize, defaultMemoryBudgetMb, estimateModelBytes } from './memory-estimate';

async function denseModelFiles(units: number) {
  await tf.setBackend('cpu');
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [100], units })] });
  const files = await exportLayersModelAsTfjs(model);
  model.dispose();
  return files.map((f) => fromBytes(f.name, f.data));
}

describe('model memory estimate (MODEL_TOO_LARGE before loading)', () => {
  it('counts every weight of the manifest as float32, times two', async () => {
    const files = await denseModelFiles(1000); // 100×1000 + 1000 = 101 000 floats
    expect(await estimateModelBytes(files)).toBe(101_000 * 4 * 2);
  });

  it('warns with both numbers when the estimate exceeds the budget, and not otherwise', async () => {
    const files = await denseModelFiles(2000); // 202 000 floats → about 1.54 MB
    const warning = await checkModelSize(files, 1);
    expect(warning?.code).toBe('MODEL_TOO_LARGE');
    expect(warning?.message).toMatch(/about 2 MB, above the 1 MB memory budget/);
    expect(await checkModelSize(files, 1024)).toBeNull();
  });

  it('falls back to the weight files when model.json is not JSON, without throwing', async () => {
    const files = [fromBytes('model.json', new TextEncoder().encode('{ not json')), fromBytes('weights.bin', new Uint8Array(3000))];
    expect(await estimateModelBytes(files)).toBe(6000);
  });

  it('derives the budget from the device memory, clamped', () => {
    expect(defaultMemoryBudgetMb(undefined)).toBe(1024);
    expect(defaultMemoryBudgetMb(4)).toBe(1024);
    expect(defaultMemoryBudgetMb(0.25)).toBe(256);
    expect(defaultMemoryBudgetMb(32)).toBe(2048);
  });
});
