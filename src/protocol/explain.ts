/** The page/worker contract of explaining: the grid, its panels and the summary the page gets back. */
import type { MethodId, MethodSettings } from '../shared/methods';
import type { ExplainResult, Heatmap } from '../shared/types';
import type { ConceptLegendEntry } from '../shared/concepts';

/**
 * The canvases the page transfers (`transferControlToOffscreen`), one per panel of the grid; the
 * worker draws into them. Keys: `original`; in the methods grid, the method's id (`gradcam`,
 * `guided-backprop`, …) and `dff:concept:<j>` for Deep Feature Factorization's j-th concept when it
 * shows all concepts; in the layers grid, `layer:<i>` for the i-th layer.
 */
export type PanelName = string;

/** What the comparison grid shows: one panel per chosen method, or one method at several layers. */
export type GridSpec = { mode: 'methods' } | { mode: 'layers'; layers: string[] };


/** One drawn panel of the grid (besides the original): what it shows, for its title and the export. */
export interface PanelInfo {
  key: PanelName;
  method: MethodId;
  /** The layer(s) explained; [] for input methods. */
  layerPaths: string[];
  output: 'heatmap' | 'rgb';
  /** Largest value before normalisation (heatmaps). */
  rawMax?: number;
  /** The method's resolved settings (methodSettingsText captions them). */
  settings: MethodSettings;
  /** Deep Feature Factorization drawing all its concepts: each colour's concept and its classes (the panel's legend). */
  concepts?: ConceptLegendEntry[];
  /** One concept's own cell (after the combined picture): which concept, its colour and classes (the title). */
  concept?: { index: number; entry: ConceptLegendEntry };
}

/** What the page needs of an explanation: no pixel arrays (the worker already drew them). */
export type ExplainSummary = Pick<
  ExplainResult,
  'output' | 'layerPath' | 'classIndex' | 'classLabel' | 'score' | 'probability' | 'counterfactual' | 'predictions' | 'warnings' | 'timings'
> & {
  requestId: number;
  /** The methods drawn, in grid order. */
  methods: MethodId[];
  /** The grid's panels in order (the original excluded). */
  panels: PanelInfo[];
  grid: GridSpec['mode'];
  /** The methods this request computed; the others came from the worker's result cache. */
  computed: MethodId[];
  /** Grad-CAM's map at the layer's own resolution, [0,1], when Grad-CAM was drawn — small; tests read it. */
  cam?: Heatmap;
  /** Grad-CAM's largest value before normalisation. */
  camRawMax?: number;
};
