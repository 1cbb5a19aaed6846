/**
 * Starting the app: the client made, the backend chosen (the saved or asked-for one, else the best),
 * the panels mounted, the cached model or the demo opened and explained; the client's events (restarts,
 * backend changes, load progress) shown; and the backend switch.
 */
import { studioError, toStudioError } from '../shared/errors';
import type { BackendInfo, BackendName } from '../shared/types';
import type { PanelName } from '../protocol';
import type { ClientEvent } from '../client/events';
import { createClient } from './client-port';
import { dropFiles } from './drop';
import { cancelExplain, explainsInFlight, runExplain, selectLayer, setCounterfactual, setGrid, setMethodOption, setMethods, setPreprocess, setSmoothing, setTarget, setView, toggleMethod } from './explain';
import { copyImage, exportPng, exportTfjs, share } from './export-share';
import { applyOpened, openDemo } from './open';
import { getClient, isCancelled, pushNotice, requireClient, setClient, track, whenClient } from './session';
import { useStore } from './store';

const BACKEND_STORAGE_KEY = 'gradcam-studio.backend';
const BACKEND_NAMES: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

let booted = false;
let unsubscribeClient: (() => void) | null = null;
let panelContainers: Partial<Record<PanelName, HTMLElement>> | null = null;
let panelsMounted = false;

function preferredBackend(): BackendName | null {
  const fromUrl = typeof location !== 'undefined' ? new URLSearchParams(location.search).get('backend') : null;
  if (fromUrl && (BACKEND_NAMES as string[]).includes(fromUrl)) return fromUrl as BackendName;
  try {
    const saved = typeof localStorage !== 'undefined' ? localStorage.getItem(BACKEND_STORAGE_KEY) : null;
    if (saved && (BACKEND_NAMES as string[]).includes(saved)) return saved as BackendName;
  } catch {
    // Storage can be blocked (privacy settings); the automatic choice is fine then.
  }
  return null;
}

function detectShare(): boolean {
  if (typeof navigator === 'undefined' || typeof navigator.canShare !== 'function' || typeof File === 'undefined') return false;
  try {
    return navigator.canShare({ files: [new File([new Uint8Array([0])], 'gradcam.png', { type: 'image/png' })] });
  } catch {
    return false;
  }
}

function onClientEvent(e: ClientEvent): void {
  switch (e.type) {
    case 'progress':
      useStore.setState((s) => ({ status: { ...s.status, progress: e.progress, phase: e.progress.message } }));
      if (e.progress.notice) pushNotice(e.progress.notice, 'warning');
      break;
    case 'backend':
      useStore.setState((s) => ({ backend: { ...s.backend, info: e.info } }));
      break;
    case 'restarted': {
      useStore.setState((s) => ({ backend: { ...s.backend, info: e.backend } }));
      // A death the failed call reports itself (a trap, a hang) is said once, by that call.
      if (!e.reported) {
        const code = e.code ?? (/device/i.test(e.reason) ? 'DEVICE_LOST' : 'WORKER_CRASHED');
        pushNotice(studioError(code, { reason: e.reason }).toNotice(), 'warning');
      }
      // The new worker drew nothing yet: explain again unless a retried explanation is on its way.
      if (explainsInFlight() === 0 && !e.retrying) void runExplain();
      break;
    }
  }
}

function mountPanelsIfReady(): void {
  const client = getClient();
  if (!client || !panelContainers || panelsMounted) return;
  panelsMounted = true;
  client.mountPanels(panelContainers);
}

/**
 * The grid hands its panel containers here: once at start, and again whenever its panels change
 * (other methods, the layers grid). Given to the client when it exists; unchanged sets are ignored.
 */
export function attachPanels(containers: Partial<Record<PanelName, HTMLElement>>): void {
  const same =
    panelContainers !== null &&
    Object.keys(containers).length === Object.keys(panelContainers).length &&
    Object.entries(containers).every(([k, el]) => panelContainers?.[k] === el);
  if (same) return;
  panelContainers = containers;
  panelsMounted = false;
  mountPanelsIfReady();
}

/** Start the app: make the client, pick the backend, mount the panels, open the demo, explain. */
export async function boot(): Promise<void> {
  if (booted) return;
  booted = true;
  const started = await track('Starting…', async () => {
    const made = await createClient();
    setClient(made);
    unsubscribeClient = made.on(onClientEvent);
    exposeForTests();
    // The client keeps the containers and attaches canvases to every worker it starts.
    mountPanelsIfReady();
    useStore.setState({ canShare: detectShare() });
    const preferred = preferredBackend();
    let info: BackendInfo;
    try {
      info = await made.init(preferred);
    } catch (e) {
      if (!preferred) throw e;
      // The asked-for backend failed: say so and let the client choose.
      pushNotice(toStudioError(e).toNotice(), 'warning');
      info = await made.init(null);
    }
    useStore.setState((s) => ({ backend: { ...s.backend, info } }));
  });
  useStore.setState((s) => ({ status: { ...s.status, started: true } }));
  if (!started.ok) return;
  // The model dropped last time comes back from this browser's cache; otherwise the demo opens.
  if (await restoreCachedModel()) {
    void listDemoSamples();
    return;
  }
  const demo = await track('Opening the demo…', () => requireClient().call('openDemo', [{}]));
  if (demo.ok && applyOpened(demo.value)) await runExplain();
  void listDemoSamples();
}

/** True when a cached model was restored (and explained, if its image came back too). */
async function restoreCachedModel(): Promise<boolean> {
  const c = requireClient();
  const restored = await track('Restoring the last model…', () => c.call('restoreCached', []));
  if (!restored.ok || !restored.value?.model) return false;
  const changed = applyOpened(restored.value, { restored: true });
  if (changed && useStore.getState().image) await runExplain();
  return true;
}

/** Empty this browser's model cache; the model on screen stays. */
export async function forgetCachedModels(): Promise<void> {
  const c = await whenClient();
  const forgot = await track('Forgetting cached models…', () => c.call('forgetCachedModels', []));
  if (forgot.ok) pushNotice({ code: null, message: 'Forgot the models cached in this browser.' }, 'info');
}

async function listDemoSamples(): Promise<void> {
  const c = getClient();
  if (!c) return;
  try {
    useStore.setState({ demoSamples: await c.call('demoSamples', []) });
  } catch (e) {
    // Only the sample menu is missing; the app works without it.
    if (!isCancelled(e)) pushNotice(toStudioError(e).toNotice(), 'warning');
  }
}

function exposeForTests(): void {
  if (typeof window === 'undefined') return;
  (window as unknown as { __studio: unknown }).__studio = {
    getState: useStore.getState,
    client: getClient(),
    actions: {
      forgetCachedModels, dropFiles, openDemo, selectLayer, setTarget, setCounterfactual, setView, setPreprocess, switchBackend, exportPng, exportTfjs, runExplain,
      setMethods, toggleMethod, setMethodOption, setSmoothing, setGrid, cancelExplain, share, copyImage,
    },
  };
}

export async function switchBackend(name: BackendName): Promise<void> {
  const c = await whenClient();
  useStore.setState((s) => ({ backend: { ...s.backend, switching: true } }));
  const switched = await track(`Switching to ${name}…`, () => c.init(name));
  useStore.setState((s) => ({
    backend: { info: switched.ok ? switched.value : s.backend.info, switching: false },
  }));
  if (!switched.ok) return;
  try {
    localStorage.setItem(BACKEND_STORAGE_KEY, switched.value.name);
  } catch {
    // Not remembered across visits when storage is blocked; the switch itself worked.
  }
  await runExplain();
}

/** Forget the boot state (unit tests). */
export function resetBootForTest(): void {
  unsubscribeClient?.();
  booted = false;
  unsubscribeClient = null;
  panelContainers = null;
  panelsMounted = false;
}
