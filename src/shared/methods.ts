/**
 * The method registry: one entry per explanation method, read by the engine (which must implement
 * every entry: src/engine/methods/index.ts, checked by its test), the worker, the store, the UI, the
 * command line and the export caption. Plain data — no tfjs here, the page imports it.
 *
 * Adding a method: one entry in METHODS (and its id in MethodId), one engine file in
 * src/engine/methods/ and its line in that folder's index.ts. See the README, "Add a method".
 */

/** Every method's id. The first three are the original ones: their spelling is part of the CLI and tests. */
export type MethodId =
  | 'gradcam'
  | 'gradcam-plus-plus'
  | 'xgradcam'
  | 'hirescam'
  | 'gradcam-elementwise'
  | 'layercam'
  | 'eigencam'
  | 'eigengradcam'
  | 'scorecam'
  | 'ablationcam'
  | 'guided-backprop'
  | 'guided-gradcam'
  | 'vanilla-gradient'
  | 'smoothgrad'
  | 'integrated-gradients'
  | 'gradient-x-input'
  | 'attention-rollout'
  | 'gradient-rollout'
  | 'raw-attention';

/**
 * What one explanation with the method costs, after the image's forward pass (which is cached):
 * - `activations`: nothing but arithmetic on the cached activations (no gradient);
 * - `backward-to-layer`: one backward pass from the class score to the layer;
 * - `backward-to-input`: one backward pass from the score to the input;
 * - `backward-to-layer-and-input`: both (guided Grad-CAM);
 * - `forward-per-channel`: one forward pass of the whole model per channel of the layer, in batches;
 * - `downstream-per-channel`: the layers after the target once per channel of the layer, in batches;
 * - `pass-per-sample`: a forward and a backward pass per sample (SmoothGrad's noisy copies,
 *   Integrated Gradients' path points), in batches;
 * - `backward-per-block`: one backward pass per transformer block (to its attention matrix).
 */
export type MethodCost =
  | 'activations'
  | 'backward-to-layer'
  | 'backward-to-input'
  | 'backward-to-layer-and-input'
  | 'forward-per-channel'
  | 'downstream-per-channel'
  | 'pass-per-sample'
  | 'backward-per-block';

export type MethodOptionValue = number | string | boolean;

/** One setting of a method, as the UI shows it and the CLI reads it. */
export type MethodOptionSpec =
  | {
      name: string;
      label: string;
      hint: string;
      type: 'integer' | 'number';
      default: number;
      min: number;
      max: number;
      /** How a caption writes the value: `percent` for a fraction (0.15 → "15 %"). */
      unit?: 'percent';
    }
  | {
      name: string;
      label: string;
      hint: string;
      type: 'choice';
      default: string;
      choices: ReadonlyArray<{ value: string; label: string }>;
    };

export interface MethodInfo {
  id: MethodId;
  /** Name as people write it ("Grad-CAM++"). */
  label: string;
  /** One line for a tooltip. */
  hint: string;
  /** `layer`: explains a spatial layer (pick one in the tree); `input`: works on the input pixels. */
  needs: 'layer' | 'input';
  /** Uses gradients of the class score (false: Eigen-CAM, Score-CAM, Ablation-CAM). */
  gradients: boolean;
  /** `heatmap`: one value per pixel in [0, 1]; `rgb`: a gradient image (3 channels, visualised). */
  output: 'heatmap' | 'rgb';
  cost: MethodCost;
  /** Whether the counterfactual (the negated score) gives a different, meaningful map. */
  counterfactual: boolean;
  /** Whether the map depends on the class at all (Eigen-CAM's does not). */
  classSpecific: boolean;
  /** Eigen-smoothing, flip smoothing and multi-layer fusion apply (the CAM methods). */
  camOptions: boolean;
  options: readonly MethodOptionSpec[];
  /** Methods whose results this one is built from (computed alongside when requested). */
  uses?: readonly MethodId[];
  /**
   * What the model must have besides a layer or an input: `attention` — a vision transformer's
   * attention matrices (its Softmax over tokens); the picker disables the method on other models.
   */
  requires?: 'attention';
  /** The paper. */
  reference: string;
}

const BATCH_HINT = 'Images run through the model at once: more is faster until memory runs out.';

const HEAD_FUSION_OPTION: MethodOptionSpec = {
  name: 'fusion', label: 'Head fusion', hint: 'How the heads\' attention matrices become one: their mean, maximum or minimum.', type: 'choice', default: 'mean',
  choices: [{ value: 'mean', label: 'mean' }, { value: 'max', label: 'max' }, { value: 'min', label: 'min' }],
};

export const METHODS: readonly MethodInfo[] = [
  {
    id: 'gradcam', label: 'Grad-CAM', hint: 'Channels weighted by their mean gradient, summed, ReLU.',
    needs: 'layer', gradients: true, output: 'heatmap', cost: 'backward-to-layer', counterfactual: true, classSpecific: true, camOptions: true,
    options: [], reference: 'Selvaraju et al., ICCV 2017, arXiv:1610.02391',
  },
  {
    id: 'gradcam-plus-plus', label: 'Grad-CAM++', hint: 'Grad-CAM with per-pixel weights from second- and third-order gradient terms.',
    needs: 'layer', gradients: true, output: 'heatmap', cost: 'backward-to-layer', counterfactual: true, classSpecific: true, camOptions: true,
    options: [], reference: 'Chattopadhyay et al., WACV 2018, arXiv:1710.11063',
  },
  {
    id: 'xgradcam', label: 'XGrad-CAM', hint: 'Channels weighted by gradient × activation over the activation sum.',
    needs: 'layer', gradients: true, output: 'heatmap', cost: 'backward-to-layer', counterfactual: true, classSpecific: true, camOptions: true,
    options: [], reference: 'Fu et al., BMVC 2020, arXiv:2008.02312',
  },
  {
    id: 'hirescam', label: 'HiResCAM', hint: 'Gradient × activation summed over channels, without averaging the gradient.',
    needs: 'layer', gradients: true, output: 'heatmap', cost: 'backward-to-layer', counterfactual: true, classSpecific: true, camOptions: true,
    options: [], reference: 'Draelos & Carin, arXiv:2011.08891',
  },
  {
    id: 'gradcam-elementwise', label: 'Grad-CAM element-wise', hint: 'ReLU of gradient × activation per element, summed over channels.',
    needs: 'layer', gradients: true, output: 'heatmap', cost: 'backward-to-layer', counterfactual: true, classSpecific: true, camOptions: true,
    options: [], reference: 'pytorch-grad-cam (GradCAMElementWise)',
  },
  {
    id: 'layercam', label: 'LayerCAM', hint: 'Activations weighted by their positive gradient at each position.',
    needs: 'layer', gradients: true, output: 'heatmap', cost: 'backward-to-layer', counterfactual: true, classSpecific: true, camOptions: true,
    options: [], reference: 'Jiang et al., IEEE TIP 2021',
  },
  {
    id: 'eigencam', label: 'Eigen-CAM', hint: 'First principal component of the activations: no gradient, the same for every class.',
    needs: 'layer', gradients: false, output: 'heatmap', cost: 'activations', counterfactual: false, classSpecific: false, camOptions: true,
    options: [], reference: 'Muhammad & Yeasin, IJCNN 2020, arXiv:2008.00299',
  },
  {
    id: 'eigengradcam', label: 'EigenGrad-CAM', hint: 'First principal component of gradient × activation.',
    needs: 'layer', gradients: true, output: 'heatmap', cost: 'backward-to-layer', counterfactual: true, classSpecific: true, camOptions: true,
    options: [], reference: 'pytorch-grad-cam (EigenGradCAM)',
  },
  {
    id: 'scorecam', label: 'Score-CAM', hint: 'Each channel masks the image; the class scores of the masked images weight the channels. One forward pass per channel.',
    needs: 'layer', gradients: false, output: 'heatmap', cost: 'forward-per-channel', counterfactual: true, classSpecific: true, camOptions: true,
    options: [{ name: 'batchSize', label: 'Batch size', hint: BATCH_HINT, type: 'integer', default: 16, min: 1, max: 256 }],
    reference: 'Wang et al., CVPR Workshops 2020, arXiv:1910.01279',
  },
  {
    id: 'ablationcam', label: 'Ablation-CAM', hint: 'Each channel zeroed in turn; the drop of the class score weights it. Re-runs only the layers after the target.',
    needs: 'layer', gradients: false, output: 'heatmap', cost: 'downstream-per-channel', counterfactual: false, classSpecific: true, camOptions: true,
    options: [{ name: 'batchSize', label: 'Batch size', hint: BATCH_HINT, type: 'integer', default: 128, min: 1, max: 1024 }],
    reference: 'Desai & Ramaswamy, WACV 2020',
  },
  {
    id: 'guided-backprop', label: 'Guided backprop', hint: 'Input gradient where ReLUs pass only positive gradients.',
    needs: 'input', gradients: true, output: 'rgb', cost: 'backward-to-input', counterfactual: true, classSpecific: true, camOptions: false,
    options: [], reference: 'Springenberg et al., ICLR 2015 workshop, arXiv:1412.6806',
  },
  {
    id: 'guided-gradcam', label: 'Guided Grad-CAM', hint: 'Guided backprop × the upsampled Grad-CAM.',
    needs: 'layer', gradients: true, output: 'rgb', cost: 'backward-to-layer-and-input', counterfactual: true, classSpecific: true, camOptions: false,
    options: [], uses: ['gradcam', 'guided-backprop'], reference: 'Selvaraju et al., ICCV 2017, arXiv:1610.02391',
  },
  {
    id: 'vanilla-gradient', label: 'Vanilla gradient', hint: 'Magnitude of the input gradient, summed over colour channels.',
    needs: 'input', gradients: true, output: 'heatmap', cost: 'backward-to-input', counterfactual: false, classSpecific: true, camOptions: false,
    options: [], reference: 'Simonyan et al., ICLR 2014 workshop, arXiv:1312.6034',
  },
  {
    id: 'smoothgrad', label: 'SmoothGrad', hint: 'The input gradient averaged over noisy copies of the image.',
    needs: 'input', gradients: true, output: 'heatmap', cost: 'pass-per-sample', counterfactual: false, classSpecific: true, camOptions: false,
    options: [
      { name: 'samples', label: 'Samples', hint: 'Noisy copies averaged.', type: 'integer', default: 25, min: 1, max: 500 },
      { name: 'noise', label: 'Noise level', hint: 'Noise σ as a share of the input\'s range (max − min).', type: 'number', default: 0.15, min: 0, max: 1, unit: 'percent' },
      {
        name: 'base', label: 'Gradient', hint: 'What is averaged: the plain gradient or guided backprop.', type: 'choice', default: 'gradient',
        choices: [{ value: 'gradient', label: 'vanilla gradient' }, { value: 'guided-backprop', label: 'guided backprop' }],
      },
      { name: 'batchSize', label: 'Batch size', hint: BATCH_HINT, type: 'integer', default: 8, min: 1, max: 128 },
    ],
    reference: 'Smilkov et al., arXiv:1706.03825',
  },
  {
    id: 'integrated-gradients', label: 'Integrated Gradients', hint: '(input − baseline) × the gradient averaged along the straight path from the baseline.',
    needs: 'input', gradients: true, output: 'heatmap', cost: 'pass-per-sample', counterfactual: true, classSpecific: true, camOptions: false,
    options: [
      { name: 'steps', label: 'Steps', hint: 'Points on the path (midpoint rule).', type: 'integer', default: 64, min: 1, max: 1000 },
      {
        name: 'baseline', label: 'Baseline', hint: 'The image the path starts from.', type: 'choice', default: 'black',
        choices: [
          { value: 'black', label: 'black image' },
          { value: 'zero', label: 'zeros (model input space)' },
          { value: 'blurred', label: 'blurred image' },
          { value: 'mean', label: 'mean colour' },
        ],
      },
      { name: 'batchSize', label: 'Batch size', hint: BATCH_HINT, type: 'integer', default: 8, min: 1, max: 128 },
    ],
    reference: 'Sundararajan et al., ICML 2017, arXiv:1703.01365',
  },
  {
    id: 'gradient-x-input', label: 'Gradient × input', hint: 'Input gradient times the input, summed over colour channels (positive part).',
    needs: 'input', gradients: true, output: 'heatmap', cost: 'backward-to-input', counterfactual: true, classSpecific: true, camOptions: false,
    options: [], reference: 'Shrikumar et al., arXiv:1605.01713',
  },
  {
    id: 'attention-rollout', label: 'Attention rollout', hint: 'The class token\'s attention to the patches, multiplied through the blocks (with the residual identity). The same for every class.',
    needs: 'input', requires: 'attention', gradients: false, output: 'heatmap', cost: 'activations', counterfactual: false, classSpecific: false, camOptions: false,
    options: [HEAD_FUSION_OPTION, {
      name: 'discard', label: 'Discard ratio', hint: 'Share of the lowest fused attentions set to 0 in every block (the class token\'s own stays).', type: 'number', default: 0.9, min: 0, max: 0.99, unit: 'percent',
    }],
    reference: 'Abnar & Zuidema, ACL 2020, arXiv:2005.00928',
  },
  {
    id: 'gradient-rollout', label: 'Gradient rollout', hint: 'Each block\'s attention weighted by the ReLU of its gradient for the class, averaged over heads, accumulated with the identity.',
    needs: 'input', requires: 'attention', gradients: true, output: 'heatmap', cost: 'backward-per-block', counterfactual: true, classSpecific: true, camOptions: false,
    options: [], reference: 'Chefer et al., ICCV 2021, arXiv:2103.15679',
  },
  {
    id: 'raw-attention', label: 'Raw attention', hint: 'The last block\'s attention of the class token to the patches, heads fused (a baseline).',
    needs: 'input', requires: 'attention', gradients: false, output: 'heatmap', cost: 'activations', counterfactual: false, classSpecific: false, camOptions: false,
    options: [HEAD_FUSION_OPTION], reference: 'Abnar & Zuidema, ACL 2020, arXiv:2005.00928 (raw attention baseline)',
  },
];

export const METHOD_IDS: readonly MethodId[] = METHODS.map((m) => m.id);

/** The three methods the app computed before the registry (its default set). */
export const CLASSIC_METHODS: readonly MethodId[] = ['gradcam', 'guided-backprop', 'guided-gradcam'];

const BY_ID = new Map<string, MethodInfo>(METHODS.map((m) => [m.id, m]));

export function isMethodId(value: unknown): value is MethodId {
  return typeof value === 'string' && BY_ID.has(value);
}

export function methodInfo(id: MethodId): MethodInfo {
  const info = BY_ID.get(id);
  if (!info) throw new Error(`unknown method ${String(id)}`);
  return info;
}

/** "Grad-CAM++" for 'gradcam-plus-plus'; an unknown id comes back as it is. */
export function methodLabel(id: string): string {
  return BY_ID.get(id)?.label ?? id;
}

/** Settings shared by the CAM methods (camOptions: true), after pytorch-grad-cam. */
export interface CamSmoothing {
  /** Replace the channel sum by the first principal component of the weighted activations. */
  eigenSmooth?: boolean;
  /** Average with the map of the horizontally flipped image (flipped back). */
  augSmooth?: boolean;
}

/** A method's resolved settings, as a result reports them (its options, plus the CAM smoothing and fused layers). */
export type MethodSettings = Readonly<Record<string, MethodOptionValue>>;

/**
 * A method's options with defaults filled in, numbers clamped to [min, max] (integers rounded) and
 * unknown choices replaced by the default. Unknown names are dropped.
 */
export function resolveMethodOptions(id: MethodId, given: Readonly<Record<string, MethodOptionValue | undefined>> = {}): Record<string, MethodOptionValue> {
  const out: Record<string, MethodOptionValue> = {};
  for (const spec of methodInfo(id).options) {
    const value = given[spec.name];
    if (spec.type === 'choice') {
      out[spec.name] = typeof value === 'string' && spec.choices.some((c) => c.value === value) ? value : spec.default;
    } else {
      let n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(n)) n = spec.default;
      if (spec.type === 'integer') n = Math.round(n);
      out[spec.name] = Math.min(spec.max, Math.max(spec.min, n));
    }
  }
  return out;
}

/** What is wrong with the given options (unknown names, values out of range or not a choice); [] when nothing. */
export function methodOptionProblems(id: MethodId, given: Readonly<Record<string, MethodOptionValue | undefined>>): string[] {
  const specs = methodInfo(id).options;
  const problems: string[] = [];
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined) continue;
    const spec = specs.find((s) => s.name === name);
    if (!spec) {
      problems.push(`${methodLabel(id)} has no option "${name}"${specs.length ? ` (it has ${specs.map((s) => s.name).join(', ')})` : ''}`);
    } else if (spec.type === 'choice') {
      if (!spec.choices.some((c) => c.value === value)) problems.push(`${name} must be one of ${spec.choices.map((c) => c.value).join(', ')}`);
    } else {
      const n = typeof value === 'number' ? value : Number(value);
      if (!Number.isFinite(n) || n < spec.min || n > spec.max || (spec.type === 'integer' && !Number.isInteger(n))) {
        problems.push(`${name} must be ${spec.type === 'integer' ? 'an integer' : 'a number'} from ${spec.min} to ${spec.max}`);
      }
    }
  }
  return problems;
}

function optionText(spec: MethodOptionSpec, value: MethodOptionValue): string | null {
  if (spec.name === 'batchSize') return null; // changes the speed, not the map
  if (spec.type === 'choice') {
    const choice = spec.choices.find((c) => c.value === value)?.label ?? String(value);
    return spec.name === 'base' ? `over ${choice}` : `${spec.label.toLowerCase()} ${choice}`;
  }
  const n = Number(value);
  if (spec.unit === 'percent') return `${spec.label.toLowerCase()} ${Math.round(n * 1000) / 10} %`;
  return `${n} ${spec.label.toLowerCase()}`;
}

/**
 * The method with the settings that shape its map, for captions: "SmoothGrad (25 samples, noise
 * level 15 %, over vanilla gradient)", "Grad-CAM (eigen-smoothed, flip-averaged, 3 layers fused)".
 * Defaults are filled in first, so `{}` describes the default settings.
 */
export function methodSettingsText(id: MethodId, settings: Readonly<Record<string, MethodOptionValue | undefined>> = {}): string {
  const info = methodInfo(id);
  const resolved = resolveMethodOptions(id, settings);
  const parts = info.options.map((spec) => optionText(spec, resolved[spec.name]!)).filter((p): p is string => p !== null);
  if (info.camOptions) {
    if (settings.eigenSmooth === true) parts.push('eigen-smoothed');
    if (settings.augSmooth === true) parts.push('flip-averaged');
    const fused = Number(settings.fusedLayers ?? 1);
    if (fused > 1) parts.push(`${fused} layers fused`);
  }
  return parts.length > 0 ? `${info.label} (${parts.join(', ')})` : info.label;
}
