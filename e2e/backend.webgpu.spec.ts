/**
 * WebGPU (SwiftShader) against WASM on a tiny model: the same Grad-CAM, and the automatic choice
 * prefers WASM over a software adapter.
 */
import { expect, test } from '@playwright/test';
import { setupHarness, TO_TRANSFERRED, type PageClient } from './helpers';
import { tinyImage, tinyModelFiles } from './tiny-model';

test('the automatic choice prefers WASM over SwiftShader WebGPU, and says why', async ({ page }) => {
  const backend = await setupHarness(page);
  expect(backend.name).toBe('wasm');
  expect(backend.reason.toLowerCase()).toContain('swiftshader');
});

test('a tiny model explained on WebGPU gives the same map as on WASM (max |diff| ≤ 1e-3)', async ({ page }) => {
  const { files } = await tinyModelFiles();
  const backend = await setupHarness(page, 'webgpu');
  expect(backend.name).toBe('webgpu');
  const maps = await page.evaluate(
    async ({ files, toTransferred }) => {
      type Client = PageClient;
      const client = (window as unknown as { client: Client }).client;
      const transferred = new Function('files', `return ${toTransferred}`)(files) as unknown[];
      await client.call('openFiles', [transferred as never]);
      const gpu = await client.call('explain', [{}]);
      const onGpu = Array.from(gpu.cam?.data ?? []);
      const switched = await client.init('wasm' as const); // a fresh worker, model and image reloaded
      const wasm = await client.call('explain', [{}]);
      const onWasm = Array.from(wasm.cam?.data ?? []);
      return { onGpu, onWasm, switched: switched.name, classes: [gpu.classIndex, wasm.classIndex] };
    },
    { files: [...files, tinyImage()], toTransferred: TO_TRANSFERRED },
  );
  expect(maps.switched).toBe('wasm');
  expect(maps.classes[0]).toBe(maps.classes[1]);
  expect(maps.onGpu.length).toBe(maps.onWasm.length);
  const maxDiff = Math.max(...maps.onGpu.map((v, i) => Math.abs(v - maps.onWasm[i])));
  expect(maxDiff).toBeLessThanOrEqual(1e-3);
  expect(Math.max(...maps.onGpu)).toBeCloseTo(1, 5);
});
