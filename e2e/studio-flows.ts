/**
 * What a person does in the app, for the e2e specs: drop files on the window (a synthetic drop with
 * a DataTransfer built in the page), wait for the next model or explanation, read the store.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, type Download, type Page } from '@playwright/test';
import { waitForReady, type PageFile, type PageClient } from './helpers';

/** The parts of the store's state the specs read (see src/store/store.ts). */
export interface AppState {
  model: {
    summary: {
      name: string;
      format: string;
      labels: string[];
      labelsFromFile: boolean;
      imageSize: [number, number, number];
      inputShape: (number | null)[];
      defaultLayerPath: string | null;
      preprocess: { normalization: string; resize: string };
      tree: TreeNode;
    } | null;
  };
  image: { name: string; width: number; height: number } | null;
  explanation: {
    last: {
      requestId: number;
      layerPath: string | null;
      classIndex: number;
      classLabel: string;
      methods: string[];
      predictions: { index: number; label: string; probability: number; logit: number }[];
      cam?: { width: number; height: number };
    } | null;
  };
  status: { pending: number; outcome: 'ready' | 'error'; notices: { code: string | null; message: string; level?: string }[] };
  backend: { info: { name: string; reason: string; threads?: number } | null; switching: boolean };
}

export interface TreeNode {
  path: string;
  name: string;
  className: string;
  explainable: boolean;
  children?: TreeNode[];
}

type StudioWindow = { __studio: { getState(): AppState } };

export function appState(page: Page): Promise<AppState> {
  return page.evaluate(() => (window as unknown as StudioWindow).__studio.getState());
}

/** Leaf layers of a tree, in order (nested models are walked, not counted). */
export function leafLayers(node: TreeNode): TreeNode[] {
  return node.children ? node.children.flatMap(leafLayers) : [node];
}

/**
 * Drop files on the window as a person would drag them from a file manager: a DataTransfer built in
 * the page, then dragenter, dragover and drop events (the app listens on window).
 */
export async function dropOnWindow(page: Page, files: PageFile[]): Promise<void> {
  await page.evaluate(async (list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bytes = await (await fetch(`data:application/octet-stream;base64,${f.base64}`)).arrayBuffer();
      dt.items.add(new File([bytes], f.name));
    }
    const target = document.querySelector('main') ?? document.body;
    for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files);
}

/** The id of the explanation on screen (null before the first). */
export async function explanationId(page: Page): Promise<number | null> {
  return (await appState(page)).explanation.last?.requestId ?? null;
}

/**
 * Wait until a newer explanation than `previous` is on screen and the app is idle; fails at once
 * with the status notices when the app ends in its error state instead.
 */
export async function waitForNewExplanation(page: Page, previous: number | null, timeout = 180_000): Promise<AppState> {
  await page.waitForFunction(
    (prev) => {
      const s = (window as unknown as StudioWindow).__studio.getState();
      if (s.status.pending > 0) return false;
      return s.status.outcome === 'error' || (s.explanation.last !== null && s.explanation.last.requestId !== prev);
    },
    previous,
    { timeout },
  );
  await waitForReady(page);
  return appState(page);
}

/** Wait until another model than the one on screen when `run` began is loaded and explained. */
export async function afterNewModel(page: Page, run: () => Promise<void>, timeout = 180_000): Promise<AppState> {
  await page.evaluate(() => {
    const w = window as unknown as StudioWindow & { __summaryBefore?: unknown };
    w.__summaryBefore = w.__studio.getState().model.summary;
  });
  const before = await explanationId(page);
  await run();
  await page.waitForFunction(
    () => {
      const w = window as unknown as StudioWindow & { __summaryBefore?: unknown };
      const s = w.__studio.getState();
      return s.model.summary !== w.__summaryBefore || (s.status.pending === 0 && s.status.outcome === 'error');
    },
    undefined,
    { timeout },
  );
  return waitForNewExplanation(page, before, timeout);
}

/** The tree is the model's own, and a click on another explainable layer explains it. */
export async function clickAnotherLayer(page: Page, state: AppState): Promise<void> {
  const summary = state.model.summary!;
  const rootRow = page.locator(`[role=treeitem][data-path="${summary.tree.path}"]`);
  await expect(rootRow).toHaveCount(1);
  const other = leafLayers(summary.tree).filter((n) => n.explainable && n.path !== summary.defaultLayerPath).pop();
  expect(other, 'another explainable layer').toBeTruthy();
  const row = page.locator(`[role=treeitem][data-path="${other!.path}"]`);
  await row.scrollIntoViewIfNeeded();
  const before = state.explanation.last?.requestId ?? null;
  await row.click();
  const after = await waitForNewExplanation(page, before);
  expect(after.explanation.last?.layerPath).toBe(other!.path);
  const errors = after.status.notices.filter((n) => n.code === 'LAYER_NOT_FOUND');
  expect(errors).toEqual([]);
}

/** The bytes of a finished download. */
export async function downloadBytes(download: Download): Promise<Buffer> {
  const path = await download.path();
  expect(path, `the download ${download.suggestedFilename()} finished`).toBeTruthy();
  return readFileSync(path as string);
}

/** Grad-CAM panel pixels (RGB), read through the worker: the canvases are transferred, the page cannot read them. */
export async function gradcamPixels(page: Page): Promise<{ width: number; height: number; rgb: number[] }> {
  return page.evaluate(async () => {
    type Inspectable = PageClient;
    const panels = await (window as unknown as { __studio: { client: Inspectable } }).__studio.client.call('inspectPanels', []);
    const p = panels.gradcam;
    const rgb: number[] = [];
    for (let i = 0; i < p.data.length; i += 4) rgb.push(p.data[i], p.data[i + 1], p.data[i + 2]);
    return { width: p.width, height: p.height, rgb };
  });
}

/** Mean absolute difference per channel value between two same-size panels. */
export function meanAbsDiff(a: { rgb: number[] }, b: { rgb: number[] }): number {
  expect(a.rgb.length).toBe(b.rgb.length);
  let sum = 0;
  for (let i = 0; i < a.rgb.length; i++) sum += Math.abs(a.rgb[i] - b.rgb[i]);
  return sum / a.rgb.length;
}

/** A box in [0,1] coordinates of the picture it lies on. */
export interface UnitBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DemoSampleInfo {
  file: string;
  width: number;
  height: number;
  shapes: { label: string; box: UnitBox }[];
}

/**
 * The demo's samples as listed in public/demo/samples/index.json, boxes scaled to [0,1] of the image.
 * Boxes are `[x, y, w, h]` or `{x, y, width, height}` in the sample's pixels.
 */
export function demoSamples(): DemoSampleInfo[] {
  const index = JSON.parse(readFileSync(resolve(process.cwd(), 'public/demo/samples/index.json'), 'utf8')) as
    | { imageSize?: number; samples: unknown[] }
    | unknown[];
  const list = Array.isArray(index) ? index : index.samples;
  const fallbackSize = Array.isArray(index) ? undefined : index.imageSize;
  return list.map((raw) => {
    const entry = raw as { file: string; width?: number; height?: number; shapes?: { label: string; bbox: unknown }[] };
    const width = entry.width ?? fallbackSize;
    const height = entry.height ?? fallbackSize;
    if (!width || !height) throw new Error(`index.json: no size for ${entry.file}`);
    const shapes = (entry.shapes ?? []).map((s) => {
      const b = s.bbox as number[] | { x: number; y: number; width: number; height: number };
      const [x, y, w, h] = Array.isArray(b) ? b : [b.x, b.y, b.width, b.height];
      return { label: s.label, box: { x: x / width, y: y / height, width: w / width, height: h / height } };
    });
    return { file: entry.file, width, height, shapes };
  });
}

/**
 * A box in [0,1] image coordinates → [0,1] panel coordinates. The panels show what the model saw:
 * the whole image ('stretch') or the centred region with the model's aspect ('center-crop'; the same
 * rule as cropBox in src/engine/preprocess.ts).
 */
export function imageBoxToPanel(box: UnitBox, image: { width: number; height: number }, model: [number, number], resize: string): UnitBox {
  if (resize === 'stretch') return box;
  const aspect = model[1] / model[0];
  let w = image.width;
  let h = image.height;
  if (image.width / image.height > aspect) w = Math.round(image.height * aspect);
  else h = Math.round(image.width / aspect);
  const x0 = Math.floor((image.width - w) / 2);
  const y0 = Math.floor((image.height - h) / 2);
  return { x: (box.x * image.width - x0) / w, y: (box.y * image.height - y0) / h, width: (box.width * image.width) / w, height: (box.height * image.height) / h };
}

export function boxCentre(b: UnitBox): { x: number; y: number } {
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

export function grow(b: UnitBox, margin: number): UnitBox {
  return { x: b.x - margin, y: b.y - margin, width: b.width + 2 * margin, height: b.height + 2 * margin };
}

export function inside(p: { x: number; y: number }, b: UnitBox): boolean {
  return p.x >= b.x && p.x <= b.x + b.width && p.y >= b.y && p.y <= b.y + b.height;
}

export function distance(a: { x: number; y: number }, b: { x: number; y: number }): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}
