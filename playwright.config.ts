import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH, WEBGPU_SWIFTSHADER_ARGS } from './e2e/helpers';

/**
 * e2e in Debian's Chromium. `npm run test:e2e` builds first; the app is served by `vite preview`
 * (cross-origin isolated, as in production).
 * Timeouts are generous: on 2 cores a WASM explanation of a real model takes seconds.
 */
/** E2E_PORT lets several checkouts of the project run their e2e at once without sharing a server. */
const PORT = Number(process.env.E2E_PORT ?? 4173);

export default defineConfig({
  testDir: 'e2e',
  workers: 1,
  fullyParallel: false,
  reporter: 'list',
  timeout: 240_000,
  expect: { timeout: 60_000 },
  use: {
    baseURL: `http://localhost:${PORT}`,
    headless: true,
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
    actionTimeout: 60_000,
    // The service worker (offline mode) is tested on its own (e2e/offline.spec.ts, which allows it);
    // elsewhere it would answer requests from its cache and hide them from page.route.
    serviceWorkers: 'block',
    navigationTimeout: 120_000,
  },
  projects: [
    { name: 'chromium', testIgnore: /\.webgpu\.spec\.ts$/ },
    {
      // Specs named *.webgpu.spec.ts run with WebGPU on SwiftShader.
      name: 'webgpu-swiftshader',
      testMatch: /\.webgpu\.spec\.ts$/,
      use: { launchOptions: { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...WEBGPU_SWIFTSHADER_ARGS] } },
    },
  ],
  webServer: { command: `npx vite preview --port ${PORT} --strictPort`, url: `http://localhost:${PORT}/`, reuseExistingServer: !process.env.CI, timeout: 120_000 },
});
