/** The page/worker contract of pictures: panels read back, the large view, exports. */
import type { Heatmap } from '../shared/types';
import type { PanelName } from './explain';

/** RGBA pixels of a drawn panel (what `inspectPanels` returns; the page cannot read transferred canvases). */
export interface PanelImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/**
 * One panel redrawn for the large view, at the size the page asked for: the model's view of the
 * image, the method's picture over it (null for the original), and the map the readout reads (the
 * heatmap, or an RGB method's saliency, at the model's input size; null for the original).
 */
export interface LargeViewImages {
  key: PanelName;
  title: string;
  original: PanelImage;
  overlay: PanelImage | null;
  map: Heatmap | null;
  /** The model's input size: the readout gives pixel coordinates in it. */
  input: { width: number; height: number };
}

/** One file of a model exported as TF.js. */
export interface ExportedModelFile {
  name: string;
  data: Uint8Array;
}

/** A picture the page adds to the exported PNG (a plot shown beside the grid). */
export interface ExtraPanel {
  title: string;
  pixels: PanelImage;
}
