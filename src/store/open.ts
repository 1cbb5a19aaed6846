/**
 * Opening: what the worker committed is shown if it is newer than what the screen shows; each newly
 * shown model or image gets a status line, then its warnings. Opens are independent (see
 * src/worker/open-coordinator.ts): an image opened while a model loads arrives with that model; a
 * newer model cancels an older model load, which is said in the status history.
 */
import { studioError } from '../shared/errors';
import type { CommittedState, DroppedResult, TransferredFile } from '../protocol';
import { runExplain } from './explain';
import { leafLayers } from './layer-tree';
import { pushNotice, track, whenClient } from './session';
import { useStore } from './store';

/**
 * Show what the worker committed, if it is newer than what the screen shows. Each newly shown model
 * or image gets a fresh status line, then its warnings. Returns whether the model or image changed.
 */
function applyState(state: CommittedState, how: { restored?: boolean } = {}): boolean {
  const current = useStore.getState().committed;
  if (state.version <= current.version) return false;
  const committed = { ...current, version: state.version };
  let changed = false;
  const model = state.model;
  if (model && model.token !== current.modelToken) {
    const { summary, ignored } = model;
    const opened = how.restored ? "restored from this browser's cache" : 'opened';
    pushNotice({ code: null, message: `${summary.name}: ${opened} (${summary.format}, ${leafLayers(summary.tree).length} layers, input ${summary.imageSize.join('×')}).` }, 'info');
    for (const n of summary.warnings) pushNotice(n, 'warning');
    useStore.setState((s) => ({
      model: { summary, ignored },
      explanation: { ...s.explanation, selectedLayerPath: summary.defaultLayerPath, target: null, counterfactual: false, output: null },
      preprocess: {},
    }));
    committed.modelToken = model.token;
    changed = true;
  }
  const image = state.image;
  if (image && image.token !== current.imageToken) {
    if (!changed || image.token !== model?.token) pushNotice({ code: null, message: `Image ${image.info.name} (${image.info.width}×${image.info.height}) opened.` }, 'info');
    for (const n of image.info.notices) pushNotice(n, 'warning');
    useStore.setState({ image: image.info });
    committed.imageToken = image.token;
    changed = true;
  }
  useStore.setState({ committed });
  return changed;
}

/** An open's answer: its notices, what a newer open superseded, then the worker's state. */
export function applyOpened(result: DroppedResult, how: { restored?: boolean } = {}): boolean {
  for (const n of result.notices) pushNotice(n, 'warning');
  for (const c of result.cancelled ?? []) {
    const newer = c.part === 'model' ? 'a newer model was opened' : 'a newer image was opened';
    pushNotice({ code: null, message: `Opening ${c.name} was cancelled: ${newer}.` }, 'info');
  }
  return applyState(result.state, how);
}

/**
 * Anything dropped, picked or pasted: the worker tells models from images. Opens are independent
 * (see src/worker/open-coordinator.ts): an image opened while a model loads arrives with that model;
 * a newer model cancels an older model load, which is said in the status history.

/**
 * Open files (anything dropped, picked or pasted: the worker tells models from images) and show what
 * the worker committed. Returns the answer and whether the model or image on screen changed; null when
 * the open failed (its notice is shown). A gallery in the answer is the caller's (see drop.ts).
 */
export async function openFiles(files: TransferredFile[]): Promise<{ result: DroppedResult; changed: boolean } | null> {
  const c = await whenClient();
  const opened = await track('Opening files…', () => c.call('openFiles', [files]));
  if (!opened.ok) return null;
  const result = opened.value;
  const changed = applyOpened(result);
  if (!changed && !result.gallery && !result.cancelled?.length && !result.model && !result.image) {
    // Nothing usable: the notices (e.g. UNKNOWN_FILE) are the answer; make sure one is an error.
    if (!result.notices.length) pushNotice(studioError('NO_MODEL_FILE').toNotice(), 'error');
    useStore.setState((s) => ({ status: { ...s.status, outcome: s.status.pending === 0 ? 'error' : s.status.outcome } }));
  }
  return { result, changed };
}

/** Open one image (or model) in the single view and explain it when it changed what is shown. */
export async function openAndExplain(files: TransferredFile[]): Promise<void> {
  const opened = await openFiles(files);
  if (opened?.changed) await runExplain();
}

/** Reopen the built-in demo model, with one of its samples (by file name) or the first. */
export async function openDemo(sample?: string): Promise<void> {
  const c = await whenClient();
  const demo = await track('Opening the demo…', () => c.call('openDemo', [sample ? { sample } : {}]));
  if (demo.ok && applyOpened(demo.value)) await runExplain();
}
