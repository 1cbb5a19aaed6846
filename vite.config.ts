import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';
import { wasmThreadsPlugin } from './build/wasm-threads-plugin.ts';

// Cross-origin isolation lets the WASM backend use its threaded build (SharedArrayBuffer).
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * BUILD_ID=x names every script chunk `name-x-hash.js` (e2e/deploy.spec.ts builds the app twice to
 * test a deployment: the two versions must not share a chunk name). Unset: the usual names.
 */
const buildId = process.env.BUILD_ID;
const chunkNames = buildId ? { entryFileNames: `assets/[name]-${buildId}-[hash].js`, chunkFileNames: `assets/[name]-${buildId}-[hash].js` } : undefined;

export default defineConfig({
  plugins: [
    react(),
    wasmThreadsPlugin(),
    // Offline and installable: our own service worker (src/offline/service-worker.ts) with the
    // precache list injected; the manifest with the app's icons. Registered by src/offline/register.ts.
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src/offline',
      filename: 'service-worker.ts',
      injectRegister: null,
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,wasm,json,bin,png,jpg,svg,webmanifest}'],
        // The worker bundle (tfjs) is ~2.7 MB; the demo weights are small.
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
        rollupFormat: 'iife',
      },
      manifest: {
        name: 'Grad-CAM Studio',
        short_name: 'Grad-CAM',
        description: 'See what an image classifier looks at — in your browser, with nothing uploaded.',
        theme_color: '#15171c',
        background_color: '#15171c',
        display: 'standalone',
        start_url: '/',
        scope: '/',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
    }),
  ],
  server: { headers: isolationHeaders },
  // `npm run dev` pre-bundles tfjs-backend-wasm: the plugin must run there too, or dev gets one thread.
  optimizeDeps: { rolldownOptions: { plugins: [wasmThreadsPlugin()] } },
  preview: { headers: isolationHeaders },
  // The worker bundle is built with its own plugin list: tfjs (and its threaded WASM factory) lives there.
  worker: { format: 'es', plugins: () => [wasmThreadsPlugin()], ...(chunkNames ? { rollupOptions: { output: chunkNames } } : {}) },
  ...(chunkNames ? { build: { rollupOptions: { output: chunkNames } } } : {}),
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'cli/**/*.test.ts', 'build/**/*.test.ts'],
    environment: 'node',
    // Hang detectors, not speed checks: beside two CPU hogs (issue 22) the heaviest tests take 2–3× their idle time.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
