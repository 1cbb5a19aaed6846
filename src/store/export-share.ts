/**
 * What leaves the page: the grid as a PNG (saved, copied, shared), the large view likewise, and the
 * model as TF.js files; with their captions and file names.
 */
import { zipSync, type Zippable } from 'fflate';
import { studioError, toStudioError } from '../shared/errors';
import { methodLabel, methodSettingsText } from '../shared/methods';
import type { ExplainSummary, ExportedModelFile, ExtraPanel, LargeViewImages, PanelName } from '../protocol';
import type { ViewFrame } from '../render/large-view';
import { isCancelled, pushNotice, track, whenClient } from './session';
import { exportSubject } from '../shared/export-names';
import { conceptCaption } from '../shared/concepts';
import { useStore, type StudioState } from './store';

/** What the shown plots add to the exported PNG (the faithfulness panel registers it while it is open). */
let exportExtras: (() => ExtraPanel[]) | null = null;

export function setExportExtras(provide: (() => ExtraPanel[]) | null): void {
  exportExtras = provide;
}

/** The caption's class line: label, index, counterfactual, score and probability. */
function classCaption(last: ExplainSummary): string {
  return (
    `Class: ${last.classLabel} (#${last.classIndex})${last.counterfactual ? ' — counterfactual' : ''}, ` +
    `score ${last.score.toFixed(3)}, p = ${(last.probability * 100).toFixed(1)}%`
  );
}

/** The caption strip under the exported panels. */
export function exportCaption(s: StudioState): string[] {
  const last = s.explanation.last;
  const lines = [`Model: ${s.model.summary?.name ?? '—'}`];
  if (last) {
    lines.push(`Layer: ${last.layerPath ?? s.model.summary?.defaultLayerPath ?? '(default)'}`);
    lines.push(classCaption(last));
    const methods = [...new Set(last.methods)].map((m) => {
      const panel = last.panels?.find((p) => p.method === m);
      return panel ? methodSettingsText(m, panel.settings) : methodLabel(m);
    });
    lines.push(`${methods.length > 1 ? 'Methods' : 'Method'}: ${methods.join('; ')}`);
    if (last.grid === 'layers') lines.push(`Layers: ${(last.panels ?? []).flatMap((p) => p.layerPaths).join(', ')}`);
    // The combined concept picture's colours mean nothing without their legend.
    const concepts = last.panels?.find((p) => p.concepts)?.concepts;
    if (concepts) lines.push(...conceptCaption(concepts));
  }
  return lines;
}


/** Longest part of an export file name taken from a model or layer name (file systems cap names at 255 bytes). */
const MAX_NAME_PART = 60;

/** A short stable hash, so that two long names cut to the same prefix still give different files. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

/** `text` made safe for a file name and at most MAX_NAME_PART long (cut ones end in a hash of the whole). */
export function fileNamePart(text: string): string {
  const safe = text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'x';
  if (safe.length <= MAX_NAME_PART) return safe;
  const hash = shortHash(text);
  return `${safe.slice(0, MAX_NAME_PART - hash.length - 1)}~${hash}`;
}

/** `<what is shown>-<model>-<layer>.png` (shared/export-names.ts), with anything unsafe for a file name replaced and each part bounded. */
export function exportFileName(s: StudioState): string {
  const subject = fileNamePart(exportSubject(s.explanation.grid, s.explanation.methods));
  const model = fileNamePart(s.model.summary?.name ?? 'model');
  // The layers grid shows several layers: the name carries none.
  if (s.explanation.grid === 'layers') return `${subject}-${model}.png`;
  const layer = s.explanation.last?.layerPath ?? s.model.summary?.defaultLayerPath ?? 'default';
  // The layer's own name is the informative end of a long nested path.
  const layerName = layer.length > MAX_NAME_PART ? layer.split('/').pop() || layer : layer;
  return `${subject}-${model}-${fileNamePart(layerName)}.png`;
}

async function makePng(): Promise<Blob | null> {
  const c = await whenClient();
  const made = await track('Making the PNG…', async () => {
    try {
      return await c.call('exportPng', [exportCaption(useStore.getState()), exportExtras?.() ?? []]);
    } catch (e) {
      const err = toStudioError(e);
      throw err.code === 'INTERNAL' ? studioError('EXPORT_FAILED', { reason: err.message }) : err;
    }
  });
  return made.ok ? made.value : null;
}

/** Save a blob through a temporary <a download>. */
function downloadBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Give the download a moment to start before the URL goes away.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function exportPng(): Promise<void> {
  const blob = await makePng();
  if (!blob) return;
  const name = exportFileName(useStore.getState());
  downloadBlob(blob, name);
  pushNotice({ code: null, message: `Saved ${name}.` }, 'info');
}

/** Whether this browser can put a PNG on the clipboard. */
export function canCopyImages(): boolean {
  return typeof ClipboardItem !== 'undefined' && typeof navigator !== 'undefined' && typeof navigator.clipboard?.write === 'function';
}

/**
 * How Share hands a picture over here: the Web Share API with the PNG file where the browser can
 * share files (phones, tablets), else a copy to the clipboard, else nothing (said when pressed).
 */
export type ShareRoute = 'share' | 'copy' | 'none';

export function shareRoute(s: StudioState = useStore.getState()): ShareRoute {
  if (s.canShare) return 'share';
  return canCopyImages() ? 'copy' : 'none';
}

async function copyBlob(blob: Blob): Promise<boolean> {
  try {
    await navigator.clipboard.write([new ClipboardItem({ 'image/png': blob })]);
    return true;
  } catch (e) {
    pushNotice(studioError('CLIPBOARD_FAILED', { reason: e instanceof Error ? e.message : String(e) }).toNotice(), 'error');
    return false;
  }
}

async function copyMadePng(make: () => Promise<Blob | null>): Promise<void> {
  if (!canCopyImages()) {
    pushNotice(studioError('CLIPBOARD_FAILED', { reason: 'this browser cannot put images on the clipboard' }).toNotice(), 'error');
    return;
  }
  const blob = await make();
  if (blob && (await copyBlob(blob))) pushNotice({ code: null, message: 'Copied the image to the clipboard.' }, 'info');
}

/** Share a PNG by the route this browser has (see ShareRoute); the caption goes along as text. */
async function shareMadePng(make: () => Promise<Blob | null>, name: string, caption: string[]): Promise<void> {
  const route = shareRoute();
  if (route === 'none') {
    pushNotice(
      studioError('SHARE_FAILED', { reason: 'this browser can neither share files nor copy images. Use Export PNG, then share the saved file' }).toNotice(),
      'error',
    );
    return;
  }
  const blob = await make();
  if (!blob) return;
  if (route === 'copy') {
    if (await copyBlob(blob)) pushNotice({ code: null, message: 'This browser cannot share files: the image was copied to the clipboard instead — paste it where you want to share it.' }, 'info');
    return;
  }
  const file = new File([blob], name, { type: 'image/png' });
  try {
    // Asked again with the real file: a browser may refuse a size or type that the probe passed.
    if (typeof navigator.canShare === 'function' && !navigator.canShare({ files: [file] })) throw new Error('this browser refused to share this PNG file');
    await navigator.share({ files: [file], title: 'Grad-CAM Studio', text: caption.join('\n') });
    pushNotice({ code: null, message: `Shared ${name}.` }, 'info');
  } catch (e) {
    // The person closed the share sheet: not an error.
    if (e instanceof Error && e.name === 'AbortError') return;
    pushNotice(studioError('SHARE_FAILED', { reason: e instanceof Error ? e.message : String(e) }).toNotice(), 'error');
  }
}

export async function copyImage(): Promise<void> {
  await copyMadePng(makePng);
}

export async function share(): Promise<void> {
  const s = useStore.getState();
  await shareMadePng(makePng, exportFileName(s), exportCaption(s));
}

// ---------------------------------------------------------------- the large view

/** The caption of one panel shown large: model, the panel's layer(s), class, and its method with its settings. */
export function largeViewCaption(s: StudioState, key: PanelName): string[] {
  const last = s.explanation.last;
  const lines = [`Model: ${s.model.summary?.name ?? '—'}`];
  const panel = last?.panels?.find((p) => p.key === key);
  if (!last || !panel) return [...lines, `Original: ${s.image?.name ?? 'the image'}, as the model sees it`];
  lines.push(`Layer: ${panel.layerPaths.length ? panel.layerPaths.join(' + ') : 'the input (an input-gradient method)'}`);
  lines.push(classCaption(last));
  lines.push(`Method: ${methodSettingsText(panel.method, panel.settings)}`);
  if (panel.concepts) lines.push(...conceptCaption(panel.concepts));
  return lines;
}

/** `<panel>-<model>-<layer>.png`: the one panel shown names the file. */
export function largeViewFileName(s: StudioState, key: PanelName): string {
  const single = exportFileName({ ...s, explanation: { ...s.explanation, grid: 'methods', methods: [] } });
  return single.replace(/^[^-]+/, fileNamePart(key.replace(':', '-')));
}

/** One panel's pixels for the large view; null (with the reason in the status region) when they cannot be had. */
export async function largeViewImages(key: PanelName, longSide: number, signal?: AbortSignal): Promise<LargeViewImages | null> {
  const c = await whenClient();
  try {
    return await c.call('largeView', [key, longSide], { signal });
  } catch (e) {
    if (!isCancelled(e)) pushNotice(toStudioError(e).toNotice(), 'error');
    return null;
  }
}

function makeLargeViewPng(key: PanelName, frame: ViewFrame, longSide: number): () => Promise<Blob | null> {
  return async () => {
    const c = await whenClient();
    const made = await track('Making the PNG…', async () => {
      try {
        return await c.call('exportLargeView', [key, frame, longSide, largeViewCaption(useStore.getState(), key)]);
      } catch (e) {
        const err = toStudioError(e);
        throw err.code === 'INTERNAL' ? studioError('EXPORT_FAILED', { reason: err.message }) : err;
      }
    });
    return made.ok ? made.value : null;
  };
}

/** Save the large view as shown (frame: its size, zoom, centre, wipe), with its caption. */
export async function exportLargeView(key: PanelName, frame: ViewFrame, longSide: number): Promise<void> {
  const blob = await makeLargeViewPng(key, frame, longSide)();
  if (!blob) return;
  const name = largeViewFileName(useStore.getState(), key);
  downloadBlob(blob, name);
  pushNotice({ code: null, message: `Saved ${name}.` }, 'info');
}

export async function copyLargeView(key: PanelName, frame: ViewFrame, longSide: number): Promise<void> {
  await copyMadePng(makeLargeViewPng(key, frame, longSide));
}

export async function shareLargeView(key: PanelName, frame: ViewFrame, longSide: number): Promise<void> {
  const s = useStore.getState();
  await shareMadePng(makeLargeViewPng(key, frame, longSide), largeViewFileName(s, key), largeViewCaption(s, key));
}

// ---------------------------------------------------------------- model export (the in-browser converter)

/** `<model>-tfjs.zip`, with anything unsafe for a file name replaced. */
export function tfjsZipName(s: StudioState): string {
  const base = (s.model.summary?.name ?? 'model').replace(/\.(h5|hdf5|keras|json|zip)$/i, '');
  return `${fileNamePart(base || 'model')}-tfjs.zip`;
}

/** The TF.js files in one zip; weights are stored as they are (floats barely compress). */
export function zipExportedFiles(files: ExportedModelFile[]): Uint8Array {
  const entries: Zippable = {};
  for (const f of files) entries[f.name] = f.name.endsWith('.json') ? f.data : [f.data, { level: 0 }];
  return zipSync(entries);
}

/** Download the current model (a Keras file included) as TF.js files: model.json, weights.bin, metadata.json in a .zip. */
export async function exportTfjs(): Promise<void> {
  const c = await whenClient();
  if (!useStore.getState().model.summary) {
    pushNotice(studioError('NO_MODEL').toNotice(), 'error');
    return;
  }
  const made = await track('Exporting as TF.js…', async () => {
    const files = await c.call('exportTfjs', []);
    try {
      return zipExportedFiles(files);
    } catch (e) {
      throw studioError('MODEL_EXPORT_FAILED', { reason: e instanceof Error ? e.message : String(e) });
    }
  });
  if (!made.ok) return;
  const name = tfjsZipName(useStore.getState());
  downloadBlob(new Blob([made.value as BlobPart], { type: 'application/zip' }), name);
  pushNotice({ code: null, message: `Saved ${name} (model.json, weights.bin, metadata.json).` }, 'info');
}
