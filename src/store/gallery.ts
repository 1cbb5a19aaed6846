/**
 * The gallery's slice and actions: many images explained at the current layer / method / class mode,
 * shown as a filtered, sorted grid with a per-class summary. Its own Zustand store (plain data and
 * object URLs of small PNGs); the worker holds the images and does all the work. A change of layer,
 * method, class, preprocessing or model while the gallery is shown starts a new run (newest wins).
 */
import { create } from 'zustand';
import { studioError, toStudioError } from '../shared/errors';
import type { GalleryClassMode, GalleryOpened, GalleryProgress, GalleryRunOptions, ProgressEvent } from '../protocol';
import { getClient, isCancelled, pushNotice } from './session';
import { openAndExplain } from './open';
import { useStore, type StudioState } from './store';
import { confusionMatrix, visibleEntries, type GalleryEntryView, type GalleryFilter, type GallerySort } from './gallery-view';
import type { StudioClientPort } from './client-port';

export interface GalleryClassView {
  label: string;
  count: number;
  meanMapUrl: string;
  meanImageUrl: string;
}

export interface GalleryState {
  /** Which view the main column shows. */
  view: 'single' | 'gallery';
  count: number;
  trueLabels: string[];
  /** By image index; undefined until its batch is done. */
  entries: (GalleryEntryView | undefined)[];
  progress: Omit<GalleryProgress, 'items'> | null;
  running: boolean;
  /** How the last run ended (for the status line and tests). */
  outcome: 'none' | 'done' | 'cancelled' | 'failed';
  classMode: GalleryClassMode;
  sort: GallerySort;
  filter: GalleryFilter;
  /** The grid's scroll position, kept while the single view is shown ("back keeps the place"). */
  scrollTop: number;
  summary: GalleryClassView[];
  /** Runs started so far (tests wait for a new one to finish). */
  runs: number;
}

export function initialGalleryState(): GalleryState {
  return {
    view: 'single', count: 0, trueLabels: [], entries: [], progress: null, running: false, outcome: 'none',
    classMode: 'predicted', sort: 'misclassified', filter: { kind: 'all' }, scrollTop: 0, summary: [], runs: 0,
  };
}

export const useGallery = create<GalleryState>()(() => initialGalleryState());

export { confusionMatrix, visibleEntries };

// ---------------------------------------------------------------- object URLs

function revokeAll(s: GalleryState): void {
  const urls = s.summary.flatMap((c) => [c.meanMapUrl, c.meanImageUrl]);
  // Later: the <img>s showing them leave the page with the next render, not before.
  if (urls.length) setTimeout(() => urls.forEach((u) => URL.revokeObjectURL(u)), 5000);
}

// ---------------------------------------------------------------- actions

function client(): StudioClientPort {
  const c = getClient();
  if (!c) throw studioError('INTERNAL', { reason: 'the worker client is not started' });
  return c;
}

/** A drop filled the gallery: show it and explain it. */
export async function openGallery(opened: GalleryOpened): Promise<void> {
  revokeAll(useGallery.getState());
  useGallery.setState({
    view: 'gallery', count: opened.count, trueLabels: opened.trueLabels, entries: new Array(opened.count).fill(undefined), summary: [],
    filter: { kind: 'all' }, scrollTop: 0, progress: null, outcome: 'none',
    classMode: opened.trueLabels.length ? useGallery.getState().classMode : 'predicted',
  });
  pushNotice({ code: null, message: `Gallery: ${opened.count} images${opened.trueLabels.length ? ` in ${opened.trueLabels.length} classes (${opened.trueLabels.join(', ')})` : ''}.` }, 'info');
  await runGallery();
}

function runOptions(s: StudioState, g: GalleryState): GalleryRunOptions {
  const method = s.explanation.methods.find((m) => m) ?? 'gradcam';
  return {
    layerPath: s.explanation.selectedLayerPath,
    method,
    classMode: g.classMode,
    fixedClass: g.classMode === 'fixed' ? s.explanation.target : null,
    preprocess: { ...s.preprocess },
    view: { ...s.view },
  };
}

let runSeq = 0;
const PROGRESS_INTERVAL_MS = 250;
let runController: AbortController | null = null;

/** Explain every gallery image with the current choices; the newest call wins. Items appear as their batch finishes. */
export async function runGallery(): Promise<void> {
  const g = useGallery.getState();
  const s = useStore.getState();
  if (g.count === 0 || !s.model.summary) return;
  const c = client();
  const seq = ++runSeq;
  runController?.abort();
  const controller = new AbortController();
  runController = controller;
  revokeAll(g);
  useGallery.setState({ entries: new Array(g.count).fill(undefined), summary: [], running: true, outcome: 'none', runs: g.runs + 1, progress: { done: 0, total: g.count, imagesPerSecond: 0, secondsLeft: null, paused: false } });
  // Batches can arrive faster than the page needs to redraw: their items are gathered and shown at
  // most every PROGRESS_INTERVAL_MS (one render for several batches keeps every main-thread task short).
  let pending: GalleryEntryView[] = [];
  let latest: Omit<GalleryProgress, 'items'> | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    timer = null;
    if (seq !== runSeq) return;
    const [items, progress] = [pending, latest];
    pending = [];
    useGallery.setState((st) => {
      const entries = st.entries.slice();
      for (const item of items) entries[item.index] = item;
      return { entries, progress: progress ?? st.progress };
    });
  };
  const onProgress = (event: ProgressEvent) => {
    if (seq !== runSeq || !('gallery' in event)) return;
    const { items, ...progress } = event.gallery;
    for (const item of items) pending.push({ index: item.index, record: item.record, classIndex: item.classIndex, thumb: item.thumb });
    latest = progress;
    timer ??= setTimeout(flush, PROGRESS_INTERVAL_MS);
  };
  try {
    await c.call('galleryRun', [runOptions(s, g)], { signal: controller.signal, lane: 'gallery', onProgress });
    if (timer) clearTimeout(timer);
    flush();
    if (seq !== runSeq) return;
    const summary = await c.call('gallerySummary', [useStore.getState().view]);
    if (seq !== runSeq) return;
    const failed = useGallery.getState().entries.filter((e) => e?.record.error).length;
    useGallery.setState({
      running: false,
      outcome: 'done',
      summary: summary.map((c) => ({ label: c.label, count: c.count, meanMapUrl: URL.createObjectURL(c.meanMap), meanImageUrl: URL.createObjectURL(c.meanImage) })),
    });
    if (failed) pushNotice(studioError('IMAGE_DECODE_FAILED', { file: `${failed} gallery image${failed === 1 ? '' : 's'} (listed above the grid)` }).toNotice(), 'warning');
  } catch (e) {
    if (timer) clearTimeout(timer);
    flush(); // what was done before a cancel stays
    if (seq !== runSeq) return;
    const cancelled = isCancelled(e);
    useGallery.setState((st) => ({ running: false, outcome: cancelled ? 'cancelled' : 'failed', progress: st.progress ? { ...st.progress, paused: false } : null }));
    if (!cancelled) pushNotice(toStudioError(e).toNotice(), 'error');
  } finally {
    if (runController === controller) runController = null;
  }
}

export function cancelGallery(): void {
  runController?.abort();
}

export async function pauseGallery(paused: boolean): Promise<void> {
  await client().call('galleryPause', [paused]);
  useGallery.setState((st) => ({ progress: st.progress ? { ...st.progress, paused } : null }));
}

export function setGallerySort(sort: GallerySort): void {
  useGallery.setState({ sort, scrollTop: 0 });
}

export function setGalleryFilter(filter: GalleryFilter): void {
  useGallery.setState({ filter, scrollTop: 0 });
}

export async function setClassMode(classMode: GalleryClassMode): Promise<void> {
  useGallery.setState({ classMode });
  await runGallery();
}

export function rememberScroll(scrollTop: number): void {
  useGallery.setState({ scrollTop });
}

/** A thumbnail → the single view on that image (the gallery keeps its place). */
export async function openInSingleView(index: number, scrollTop = useGallery.getState().scrollTop): Promise<void> {
  const file = await client().call('galleryFile', [index]);
  // The grid's place as it was when the thumbnail was clicked (the grid leaves the page now).
  useGallery.setState({ view: 'single', scrollTop });
  await openAndExplain([file]);
}

export function showGallery(): void {
  if (useGallery.getState().count > 0) useGallery.setState({ view: 'gallery' });
}

function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function shownIndices(): number[] {
  const g = useGallery.getState();
  return visibleEntries(g.entries, g.filter, g.sort).map((e) => e.index);
}

function filterText(f: GalleryFilter): string {
  switch (f.kind) {
    case 'cell':
      return `true ${f.trueLabel}, predicted ${f.predicted}`;
    case 'true':
    case 'predicted':
      return `${f.kind} ${f.label}`;
    default:
      return f.kind;
  }
}

/** Contact sheet PNG of the grid as filtered and sorted, with captions. */
export async function exportContactSheet(): Promise<void> {
  const s = useStore.getState();
  const g = useGallery.getState();
  const indices = shownIndices();
  const opts = runOptions(s, g);
  const caption = [
    `${s.model.summary?.name ?? 'model'} · ${opts.method} · layer ${opts.layerPath ?? s.model.summary?.defaultLayerPath ?? ''} · class: ${g.classMode}`,
    `${indices.length} of ${g.count} images · filter: ${filterText(g.filter)} · sort: ${g.sort}`,
  ];
  try {
    download(await client().call('galleryContactSheet', [indices, caption, s.view]), 'gallery-contact-sheet.png');
  } catch (e) {
    pushNotice(toStudioError(e).toNotice(), 'error');
  }
}

/** Zip of results.csv and one overlay PNG per image of the grid as filtered and sorted. */
export async function exportGalleryZip(): Promise<void> {
  try {
    download(await client().call('galleryExportZip', [shownIndices(), useStore.getState().view]), 'gallery-results.zip');
  } catch (e) {
    if (!isCancelled(e)) pushNotice(toStudioError(e).toNotice(), 'error');
  }
}

// ---------------------------------------------------------------- follow the single view's choices

let following = false;

/** A new run when what the gallery explains changes (while it is shown; otherwise when it is shown again). */
export function followChoices(): void {
  if (following) return;
  following = true;
  exposeForTests();
  let stale = false;
  // The target matters only for the 'fixed' class mode.
  const choice = (s: StudioState) =>
    [s.committed.modelToken, s.explanation.selectedLayerPath, s.explanation.methods[0], useGallery.getState().classMode === 'fixed' ? s.explanation.target : null, s.preprocess, s.view] as const;
  let last = choice(useStore.getState());
  useStore.subscribe((s) => {
    const next = choice(s);
    if (next.every((v, i) => v === last[i])) return;
    last = next;
    if (useGallery.getState().count === 0) return;
    if (useGallery.getState().view === 'gallery') void runGallery();
    else stale = true;
  });
  useGallery.subscribe((g, before) => {
    if (g.view === 'gallery' && before.view !== 'gallery' && stale) {
      stale = false;
      void runGallery();
    }
  });
}

/** `window.__studio.gallery`: the gallery's state and actions, for the e2e tests. */
function exposeForTests(): void {
  if (typeof window === 'undefined') return;
  const w = window as unknown as { __studioGallery?: unknown };
  w.__studioGallery = {
    getState: useGallery.getState,
    subscribe: useGallery.subscribe,
    actions: { runGallery, cancelGallery, pauseGallery, setGallerySort, setGalleryFilter, setClassMode, openInSingleView, showGallery, exportContactSheet, exportGalleryZip },
  };
}
