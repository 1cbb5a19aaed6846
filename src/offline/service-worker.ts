/**
 * The service worker (built by vite-plugin-pwa's injectManifest into /service-worker.js): it precaches the app
 * shell, the WASM binaries and the demo, so that after one visit the app opens and explains with the
 * network off; and it serves every same-origin response with the cross-origin-isolation headers
 * (COOP/COEP/CORP), so that a static host that cannot set headers still gets an isolated page (the
 * threaded WASM backend needs SharedArrayBuffer). Nothing here sends anything anywhere: it only
 * answers the page's own requests, from the cache first.
 */
/// <reference lib="webworker" />
import { cleanupOutdatedCaches, matchPrecache, precache, type PrecacheEntry } from 'workbox-precaching';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<PrecacheEntry | string> };

precache(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// A new version takes over at once: the app is one page, and its assets are content-hashed.
self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

/** The same response with the isolation headers added. */
function withIsolation(response: Response): Response {
  if (response.status === 0 || response.type === 'opaqueredirect') return response;
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

async function answer(request: Request): Promise<Response> {
  // Every page address is the one-page app; other files by their own URL (query strings ignored for the shell).
  const key = request.mode === 'navigate' ? 'index.html' : request.url;
  const cached = await matchPrecache(key);
  if (cached) return withIsolation(cached);
  return withIsolation(await fetch(request));
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(answer(request));
});
