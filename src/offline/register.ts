import { showUpdatePrompt } from './update-prompt';

/**
 * Registers the service worker (production builds only) and, on a host that sent no isolation
 * headers, reloads once when the worker takes control, so that the page comes back isolated.
 */
export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  const wasIsolated = globalThis.crossOriginIsolated === true;
  // Once the page is controlled (at load, or by the first install's claim), a change of controller
  // is a new deployment taking over.
  let controlled = navigator.serviceWorker.controller !== null;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    const wasControlled = controlled;
    controlled = true;
    if (wasControlled) {
      // This tab keeps running its version (its chunks stay cached); the user reloads when it suits them.
      showUpdatePrompt();
      return;
    }
    // Only once per page, and only when the reload brings something (the headers).
    if (!wasIsolated && !sessionStorage.getItem('isolation-reload')) {
      sessionStorage.setItem('isolation-reload', '1');
      location.reload();
    }
  });
  navigator.serviceWorker.register('/service-worker.js', { scope: '/'}).catch((e: unknown) => {
    // Offline use is a bonus: the app works without it. Said in the console, not as an error.
    console.info(`Service worker not registered: ${e instanceof Error ? e.message : String(e)}`);
  });
}
