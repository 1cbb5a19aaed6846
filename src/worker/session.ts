/**
 * What one worker holds: the model, the image, the view, the panels on screen and the tokens that name
 * them for the page. One object instead of module globals, so each feature module gets it as an
 * argument and a unit test can build one.
 */
import type { LoadedModel } from '../engine/model';
import type { InputFile } from '../engine/files';
import { cropBox } from '../engine/preprocess';
import { defaultMemoryBudgetMb } from '../engine/formats/memory-estimate';
import type { BackendInfo, ExplainOptions, MethodMap, ResizeMode, ViewOptions } from '../shared/types';
import { blankPanel, displaySize, type PanelPixels } from '../render/pixels';
import type { CommittedState, ImageInfo, OpenOptions } from '../protocol/open';
import type { GridSpec, PanelInfo, PanelName } from '../protocol/explain';
import type { ProgressEvent } from '../protocol/session';
import type { Region } from '../render/pixels';
import type { DecodedImage } from './image-decode';
import { Requests } from './requests';
import { ResultCache } from './result-cache';
import { Gallery } from './gallery';
import { LiveSession } from './live';
import { canvasPainter, type Painter } from './painter';

/** One drawn cell of the grid: its map (kept to recolour without recomputing), pixels and title. */
export interface Cell {
  info: PanelInfo;
  map: MethodMap;
  title: string;
  pixels: PanelPixels;
}

/** What the panels show: the original (the model's view of the image) and the last explanation's cells. */
export interface Panels {
  original: PanelPixels;
  cells: Cell[];
}

/** What the cells on screen explain (the class and the options they were made with): the metrics measure them. */
export interface Explained {
  classIndex: number;
  options: ExplainOptions;
  grid: GridSpec['mode'];
}

export function imageInfo(decoded: DecodedImage): ImageInfo {
  return { name: decoded.name, width: decoded.raw.width, height: decoded.raw.height, notices: decoded.notices };
}

export class WorkerSession {
  backend: BackendInfo | null = null;
  model: LoadedModel | null = null;
  image: DecodedImage | null = null;
  /** Tokens of the committed model and image (see CommittedState) and what came with them. */
  modelToken: string | null = null;
  imageToken: string | null = null;
  modelIgnored: string[] = [];
  imageFile: InputFile | null = null;
  /** The committed model is the built-in demo's. */
  demoLoaded = false;
  /** Grows with every commit (across worker restarts too: the page hands the first value). */
  version = 0;
  view: ViewOptions = { colormap: 'turbo', opacity: 0.5, threshold: 0 };
  /** The grid's canvases, by panel key (the page hands over a new set when the grid changes). */
  canvases = new Map<PanelName, OffscreenCanvas>();
  panels: Panels | null = null;
  explained: Explained | null = null;
  /** The crop the panels were drawn with (the large view draws the same region, larger). */
  panelsResize: ResizeMode = 'stretch';
  /** Above this estimate a dropped model is announced as MODEL_TOO_LARGE before its weights are read. */
  memoryBudgetMb = defaultMemoryBudgetMb((globalThis.navigator as (Navigator & { deviceMemory?: number }) | undefined)?.deviceMemory);
  /** Tests only (?testLoadDelayMs=): a model load waits this long first, so a test can act while it is in flight. */
  testLoadDelayMs = 0;
  /** The last cache write in flight (the bench waits for it: hashing and storing a big model takes time). */
  remembering: Promise<void> = Promise.resolve();
  /** Tests only (?testExplainHoldMs=): a costly method waits this long at 0 % first, so a test can watch its panel. */
  testExplainHoldMs = 0;
  readonly requests = new Requests();
  /** Explanations already made, for this model and image (emptied when either changes). */
  readonly results = new ResultCache();
  readonly gallery = new Gallery();
  readonly live = new LiveSession();
  private progressListener: ((event: ProgressEvent) => void) | null = null;

  constructor(readonly painter: Painter = canvasPainter) {}

  /** The session's progress channel (the `listen` operation): one listener for every request. */
  listen(listener: (event: ProgressEvent) => void): void {
    this.progressListener = listener;
  }

  sendProgress(event: ProgressEvent): void {
    const listener = this.progressListener;
    if (!listener) return;
    // A Comlink proxy returns a promise; progress is best effort and must never fail the request.
    void Promise.resolve()
      .then(() => listener(event))
      .catch(() => undefined);
  }

  committedState(): CommittedState {
    return {
      version: this.version,
      model: this.model && this.modelToken !== null ? { token: this.modelToken, summary: this.model.summary, ignored: this.modelIgnored } : null,
      image: this.image && this.imageToken !== null ? { token: this.imageToken, info: imageInfo(this.image) } : null,
    };
  }

  /** The token naming an open: the page's own, else one made from the request id. */
  static token(requestId: number, options?: OpenOptions): string {
    return options?.token ?? `worker-${requestId}`;
  }

  currentResize(options?: ExplainOptions): ResizeMode {
    return options?.preprocess?.resize ?? this.model?.summary.preprocess.resize ?? 'stretch';
  }

  /** The region of the current image the model sees (the whole image, or the centred crop). */
  modelRegion(resize: ResizeMode): Region | null {
    const image = this.image;
    if (!image) return null;
    const [modelHeight, modelWidth] = this.model ? this.model.summary.imageSize : [image.raw.height, image.raw.width];
    return cropBox(image.raw, [modelHeight, modelWidth], resize);
  }

  /**
   * The model's view of the current image at display size (longer side `longSide`, default 320 px).
   * Every panel shows this region, so the maps line up with what the model saw.
   */
  originalPanel(resize: ResizeMode, longSide?: number): PanelPixels | null {
    const region = this.modelRegion(resize);
    if (!this.image || !region) return null;
    const size = displaySize(region.width, region.height, longSide);
    return this.painter.region(this.image, region, size.width, size.height);
  }

  /** Pixels for a panel key: the original, an explained cell, or a blank panel the size of the original. */
  panelPixels(key: PanelName): PanelPixels | null {
    const panels = this.panels;
    if (!panels) return null;
    if (key === 'original') return panels.original;
    return panels.cells.find((c) => c.info.key === key)?.pixels ?? blankPanel(panels.original.width, panels.original.height);
  }

  drawAll(which: Iterable<PanelName> = this.canvases.keys()): void {
    for (const key of which) {
      const canvas = this.canvases.get(key);
      const pixels = this.panelPixels(key);
      if (canvas && pixels) this.painter.paint(canvas, pixels);
    }
  }

  /** After a new model or image: the old maps no longer apply; show the new original, blank the rest. */
  resetPanels(): void {
    this.panelsResize = this.currentResize();
    const original = this.originalPanel(this.panelsResize);
    this.panels = original ? { original, cells: [] } : null;
    this.explained = null;
    this.drawAll();
  }
}
