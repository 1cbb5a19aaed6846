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

/**
 * The assets of the version that was running before this one. A tab opened before a deploy keeps
 * its old JavaScript, whose lazy chunks (the Keras reader, the worker itself after a restart) have
 * names that the new version no longer lists; workbox's cleanup removes them from the precache, so
 * they are copied here first and served from here. Replaced at the next deploy: one version back is
 * kept, which covers every tab that has not been reloaded since.
 */
const PREVIOUS = 'gradcam-previous-version';

async function keepPreviousVersion(): Promise<void> {
  const names = (await caches.keys()).filter((n) => n.startsWith('workbox-precache'));
  if (names.length === 0) return; // first install: nothing ran before
  await caches.delete(PREVIOUS);
  const previous = await caches.open(PREVIOUS);
  for (const name of names) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      if (response) await previous.put(request, response);
    }
  }
}

// A new version takes over at once (the app is one page, its assets are content-hashed); open tabs
// keep working on the previous version's assets and are offered a reload (register.ts).
self.addEventListener('install', (event) => event.waitUntil(keepPreviousVersion().then(() => self.skipWaiting())));
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
  // A chunk of the version an older tab still runs (workbox keys carry a revision query: ignored).
  const previous = request.mode === 'navigate' ? undefined : await (await caches.open(PREVIOUS)).match(request, { ignoreSearch: true });
  if (previous) return withIsolation(previous);
  return withIsolation(await fetch(request));
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(answer(request));
});
