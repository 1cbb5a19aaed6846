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
  | 'occlusion'
  | 'rise'
  | 'feature-ablation'
  | 'lime'
  | 'kernel-shap'
  | 'shapley-sampling'
  | 'sobol'
  | 'hsic'
  | 'smoothgrad-sq'
  | 'vargrad'
  | 'squaregrad'
  | 'gradient-shap'
  | 'kpca-cam'
  | 'finer-cam'
  | 'dff'
  | 'deeplift'
  | 'deeplift-shap'
  | 'deconvolution'
  | 'lrp-epsilon'
  | 'fullgrad'
  | 'shapley-cam'
  | 'lrp-alpha-beta'
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
 * - `forward-per-sample`: one forward pass of the whole model per perturbed copy of the image (a
 *   window, a mask, a coalition of superpixels), in batches; no gradient at all;
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
  | 'forward-per-sample'
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

/** What replaces the perturbed pixels (the perturbation methods), in the model's input space. */
const BASELINE_OPTION: MethodOptionSpec = {
  name: 'baseline', label: 'Baseline', hint: 'What replaces the removed pixels.', type: 'choice', default: 'black',
  choices: [
    { value: 'black', label: 'black image' },
    { value: 'zero', label: 'zeros (model input space)' },
    { value: 'blurred', label: 'blurred image' },
    { value: 'mean', label: 'mean colour' },
  ],
};
const SEGMENTS_OPTION = { name: 'segments', label: 'Superpixels', hint: 'About how many SLIC superpixels the image is cut into.', type: 'integer', default: 50, min: 2, max: 500 } as const;
const COMPACTNESS_OPTION = { name: 'compactness', label: 'Compactness', hint: 'SLIC\'s m: higher gives squarer superpixels, lower follows colour edges more.', type: 'number', default: 10, min: 0.1, max: 100 } as const;
const SAMPLES_OPTION = (n: number): MethodOptionSpec => ({ name: 'samples', label: 'Samples', hint: 'Noisy copies (a forward and a backward pass each).', type: 'integer', default: n, min: 1, max: 500 });
const NOISE_OPTION = (sigma: number): MethodOptionSpec & { type: 'number' } => ({ name: 'noise', label: 'Noise level', hint: 'Noise σ as a share of the input\'s range (max − min).', type: 'number', default: sigma, min: 0, max: 1, unit: 'percent' });
/** The superpixel settings (feature ablation, LIME, KernelSHAP, Shapley value sampling). */
const SUPERPIXEL_OPTIONS: readonly MethodOptionSpec[] = [SEGMENTS_OPTION, COMPACTNESS_OPTION];
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
    id: 'occlusion', label: 'Occlusion', hint: 'A window slides over the image, replaced by the baseline; each pixel gets the mean score drop of the windows covering it.',
    needs: 'input', gradients: false, output: 'heatmap', cost: 'forward-per-sample', counterfactual: true, classSpecific: true, camOptions: false,
    options: [
      { name: 'window', label: 'Window', hint: 'Side of the square window, in the model\'s input pixels.', type: 'integer', default: 16, min: 1, max: 512 },
      { name: 'stride', label: 'Stride', hint: 'Pixels between window positions (the last position also covers the far edge).', type: 'integer', default: 8, min: 1, max: 512 },
      BASELINE_OPTION,
      { name: 'batchSize', label: 'Batch size', hint: BATCH_HINT, type: 'integer', default: 32, min: 1, max: 512 },
    ],
    reference: 'Zeiler & Fergus, ECCV 2014, arXiv:1311.2901 (Captum Occlusion)',
  },
  {
    id: 'rise', label: 'RISE', hint: 'Random smooth masks; a pixel\'s score is the mean class score when it is kept, less the overall mean.',
    needs: 'input', gradients: false, output: 'heatmap', cost: 'forward-per-sample', counterfactual: true, classSpecific: true, camOptions: false,
    options: [
      { name: 'samples', label: 'Masks', hint: 'Random masks (one forward pass each).', type: 'integer', default: 2000, min: 10, max: 20000 },
      { name: 'grid', label: 'Grid', hint: 'Cells per side of each mask before upsampling.', type: 'integer', default: 7, min: 2, max: 32 },
      { name: 'keep', label: 'Keep probability', hint: 'Chance that a cell is kept.', type: 'number', default: 0.5, min: 0.05, max: 0.95, unit: 'percent' },
      BASELINE_OPTION,
      { name: 'batchSize', label: 'Batch size', hint: BATCH_HINT, type: 'integer', default: 32, min: 1, max: 512 },
    ],
    reference: 'Petsiuk et al., BMVC 2018, arXiv:1806.07421 (Xplique Rise)',
  },
  {
    id: 'feature-ablation', label: 'Feature ablation', hint: 'Each superpixel replaced by the baseline in turn; its score drop is its attribution.',
    needs: 'input', gradients: false, output: 'heatmap', cost: 'forward-per-sample', counterfactual: true, classSpecific: true, camOptions: false,
    options: [...SUPERPIXEL_OPTIONS, BASELINE_OPTION, { name: 'batchSize', label: 'Batch size', hint: BATCH_HINT, type: 'integer', default: 32, min: 1, max: 512 }],
    reference: 'Captum FeatureAblation over SLIC superpixels (Achanta et al., TPAMI 2012)',
  },
  {
    id: 'lime', label: 'LIME', hint: 'Random superpixel coalitions; a locally weighted ridge regression of the class score on them.',
    needs: 'input', gradients: false, output: 'heatmap', cost: 'forward-per-sample', counterfactual: true, classSpecific: true, camOptions: false,
    options: [
      ...SUPERPIXEL_OPTIONS,
      { name: 'samples', label: 'Samples', hint: 'Random coalitions (one forward pass each).', type: 'integer', default: 256, min: 8, max: 10000 },
      { name: 'kernelWidth', label: 'Kernel width', hint: 'Width σ of the exp(−d²/σ²) proximity kernel on the cosine distance.', type: 'number', default: 0.25, min: 0.01, max: 10 },
      BASELINE_OPTION,
      { name: 'batchSize', label: 'Batch size', hint: BATCH_HINT, type: 'integer', default: 32, min: 1, max: 512 },
    ],
    reference: 'Ribeiro et al., KDD 2016, arXiv:1602.04938',
  },
  {
    id: 'kernel-shap', label: 'KernelSHAP', hint: 'Shapley values of the superpixels by the Shapley-kernel weighted regression (exact when every coalition fits in the samples).',
    needs: 'input', gradients: false, output: 'heatmap', cost: 'forward-per-sample', counterfactual: true, classSpecific: true, camOptions: false,
    options: [
      ...SUPERPIXEL_OPTIONS,
      { name: 'samples', label: 'Samples', hint: 'Coalitions (one forward pass each); with 2^M − 2 or more, all are enumerated.', type: 'integer', default: 512, min: 8, max: 20000 },
      BASELINE_OPTION,
      { name: 'batchSize', label: 'Batch size', hint: BATCH_HINT, type: 'integer', default: 32, min: 1, max: 512 },
    ],
    reference: 'Lundberg & Lee, NeurIPS 2017, arXiv:1705.07874',
  },
  {
    id: 'shapley-sampling', label: 'Shapley value sampling', hint: 'Superpixels join in random orders; each is credited with the score change it causes.',
    needs: 'input', gradients: false, output: 'heatmap', cost: 'forward-per-sample', counterfactual: true, classSpecific: true, camOptions: false,
    options: [
      { ...SEGMENTS_OPTION, default: 25 },
      COMPACTNESS_OPTION,
      { name: 'permutations', label: 'Orders', hint: 'Random orders (segments − 1 forward passes each).', type: 'integer', default: 25, min: 1, max: 2000 },
      BASELINE_OPTION,
      { name: 'batchSize', label: 'Batch size', hint: BATCH_HINT, type: 'integer', default: 32, min: 1, max: 512 },
    ],
    reference: 'Castro et al., Computers & OR 2009 (Captum ShapleyValueSampling)',
  },
  {
    id: 'sobol', label: 'Sobol attribution', hint: 'Total-order Sobol indices of a grid of real-valued mask cells: the share of the score\'s variance each cell is part of.',
    needs: 'input', gradients: false, output: 'heatmap', cost: 'forward-per-sample', counterfactual: false, classSpecific: true, camOptions: false,
    options: [
      { name: 'grid', label: 'Grid', hint: 'Cells per side (g² cells).', type: 'integer', default: 8, min: 2, max: 16 },
      { name: 'designs', label: 'Designs', hint: 'N: N·(g² + 2) forward passes.', type: 'integer', default: 32, min: 2, max: 512 },
      BASELINE_OPTION,
      { name: 'batchSize', label: 'Batch size', hint: BATCH_HINT, type: 'integer', default: 32, min: 1, max: 512 },
    ],
    reference: 'Fel et al., NeurIPS 2021, arXiv:2111.04138 (Xplique SobolAttributionMethod)',
  },
  {
    id: 'hsic', label: 'HSIC attribution', hint: 'Dependence (Hilbert–Schmidt independence criterion) between each grid cell being kept and the class score.',
    needs: 'input', gradients: false, output: 'heatmap', cost: 'forward-per-sample', counterfactual: false, classSpecific: true, camOptions: false,
    options: [
      { name: 'grid', label: 'Grid', hint: 'Cells per side (g² cells).', type: 'integer', default: 8, min: 2, max: 16 },
      { name: 'samples', label: 'Masks', hint: 'Binary masks (one forward pass each).', type: 'integer', default: 1500, min: 8, max: 5000 },
      BASELINE_OPTION,
      { name: 'batchSize', label: 'Batch size', hint: BATCH_HINT, type: 'integer', default: 32, min: 1, max: 512 },
    ],
    reference: 'Novello et al., NeurIPS 2022, arXiv:2206.06219 (Xplique HsicAttributionMethod)',
  },
  {
    id: 'smoothgrad-sq', label: 'SmoothGrad²', hint: 'The squared input gradient averaged over noisy copies of the image.',
    needs: 'input', gradients: true, output: 'heatmap', cost: 'pass-per-sample', counterfactual: false, classSpecific: true, camOptions: false,
    options: [SAMPLES_OPTION(25), NOISE_OPTION(0.15), { name: 'batchSize', label: 'Batch size', hint: BATCH_HINT, type: 'integer', default: 8, min: 1, max: 128 }],
    reference: 'Hooker et al., NeurIPS 2019, arXiv:1806.10758 (Captum NoiseTunnel smoothgrad_sq)',
  },
  {
    id: 'vargrad', label: 'VarGrad', hint: 'The variance of the input gradient over noisy copies of the image.',
    needs: 'input', gradients: true, output: 'heatmap', cost: 'pass-per-sample', counterfactual: false, classSpecific: true, camOptions: false,
    options: [SAMPLES_OPTION(25), NOISE_OPTION(0.15), { name: 'batchSize', label: 'Batch size', hint: BATCH_HINT, type: 'integer', default: 8, min: 1, max: 128 }],
    reference: 'Adebayo et al., 2018, arXiv:1810.03307 (Captum NoiseTunnel vargrad)',
  },
  {
    id: 'squaregrad', label: 'SquareGrad', hint: 'Xplique\'s SquareGrad: the mean squared gradient over noisy copies (SmoothGrad² with Xplique\'s defaults).',
    needs: 'input', gradients: true, output: 'heatmap', cost: 'pass-per-sample', counterfactual: false, classSpecific: true, camOptions: false,
    options: [SAMPLES_OPTION(50), NOISE_OPTION(0.2), { name: 'batchSize', label: 'Batch size', hint: BATCH_HINT, type: 'integer', default: 8, min: 1, max: 128 }],
    reference: 'Hooker et al., NeurIPS 2019, arXiv:1806.10758 (Xplique SquareGrad)',
  },
  {
    id: 'gradient-shap', label: 'GradientSHAP', hint: '(input − baseline) × the gradient at random points between the baseline and (noisy) input.',
    needs: 'input', gradients: true, output: 'heatmap', cost: 'pass-per-sample', counterfactual: true, classSpecific: true, camOptions: false,
    options: [
      SAMPLES_OPTION(25),
      { ...NOISE_OPTION(0), hint: 'Noise σ added to the input, as a share of its range (Captum\'s stdevs).' },
      BASELINE_OPTION,
      { name: 'batchSize', label: 'Batch size', hint: BATCH_HINT, type: 'integer', default: 8, min: 1, max: 128 },
    ],
    reference: 'Lundberg & Lee, NeurIPS 2017, arXiv:1705.07874 (Captum GradientShap)',
  },
  {
    id: 'kpca-cam', label: 'KPCA-CAM', hint: 'First kernel principal component of the activations: Eigen-CAM with kernel PCA. No gradient.',
    needs: 'layer', gradients: false, output: 'heatmap', cost: 'activations', counterfactual: false, classSpecific: false, camOptions: false,
    options: [{
      name: 'kernel', label: 'Kernel', hint: 'The kernel between positions (γ = 1/channels).', type: 'choice', default: 'sigmoid',
      choices: [{ value: 'sigmoid', label: 'sigmoid' }, { value: 'rbf', label: 'RBF' }, { value: 'poly', label: 'polynomial (3)' }],
    }],
    reference: 'Karmani et al., 2024, arXiv:2410.00267 (pytorch-grad-cam KPCA_CAM)',
  },
  {
    id: 'finer-cam', label: 'Finer-CAM', hint: 'Grad-CAM of the class score minus those of the most similar classes: what tells them apart.',
    needs: 'layer', gradients: true, output: 'heatmap', cost: 'backward-to-layer', counterfactual: true, classSpecific: true, camOptions: true,
    options: [
      { name: 'compared', label: 'Compared classes', hint: 'How many classes with the nearest logits are contrasted.', type: 'integer', default: 3, min: 1, max: 20 },
      { name: 'alpha', label: 'Alpha', hint: 'Weight of the compared classes\' scores.', type: 'number', default: 1, min: 0, max: 2 },
    ],
    reference: 'Zhang et al., CVPR 2025, arXiv:2501.11309 (pytorch-grad-cam FinerCAM)',
  },
  {
    id: 'dff', label: 'Deep Feature Factorization', hint: 'NMF of the layer\'s activations into k concepts; shows the concept the head links most with the class. No gradient.',
    needs: 'layer', gradients: false, output: 'heatmap', cost: 'activations', counterfactual: false, classSpecific: true, camOptions: false,
    options: [
      { name: 'concepts', label: 'Concepts', hint: 'k: how many concepts the activations are factorised into.', type: 'integer', default: 4, min: 1, max: 16 },
      { name: 'iterations', label: 'Iterations', hint: 'NMF multiplicative-update rounds.', type: 'integer', default: 200, min: 10, max: 2000 },
      {
        name: 'show', label: 'Show', hint: 'The concept the head links with the class, or all concepts: one picture in distinct colours, then a cell per concept titled with its classes.', type: 'choice', default: 'class',
        choices: [{ value: 'class', label: "the class's concept" }, { value: 'combined', label: 'all concepts' }],
      },
    ],
    reference: 'Collins et al., ECCV 2018, arXiv:1806.10206 (pytorch-grad-cam DeepFeatureFactorization)',
  },
  {
    id: 'deeplift', label: 'DeepLIFT', hint: '(input − baseline) × the gradient with each nonlinearity\'s slope replaced by its secant between input and baseline (rescale rule).',
    needs: 'input', gradients: true, output: 'heatmap', cost: 'backward-to-input', counterfactual: true, classSpecific: true, camOptions: false,
    options: [BASELINE_OPTION],
    reference: 'Shrikumar et al., ICML 2017, arXiv:1704.02685 (Captum DeepLift, rescale rule)',
  },
  {
    id: 'deeplift-shap', label: 'DeepLIFT-SHAP', hint: 'DeepLIFT averaged over several baselines (black, zeros, blurred, mean colour and noise images).',
    needs: 'input', gradients: true, output: 'heatmap', cost: 'pass-per-sample', counterfactual: true, classSpecific: true, camOptions: false,
    options: [{ name: 'samples', label: 'Noise baselines', hint: 'Uniform-noise baselines besides the four standard ones.', type: 'integer', default: 4, min: 0, max: 100 }],
    reference: 'Lundberg & Lee, NeurIPS 2017, arXiv:1705.07874 (Captum DeepLiftShap)',
  },
  {
    id: 'deconvolution', label: 'Deconvolution', hint: 'Input gradient where each ReLU passes the positive part of the incoming gradient, whatever its input.',
    needs: 'input', gradients: true, output: 'rgb', cost: 'backward-to-input', counterfactual: true, classSpecific: true, camOptions: false,
    options: [], reference: 'Zeiler & Fergus, ECCV 2014, arXiv:1311.2901 (Captum Deconvolution)',
  },
  {
    id: 'lrp-epsilon', label: 'LRP-ε', hint: 'Layer-wise relevance propagation, ε rule: the score redistributed layer by layer in proportion to each input\'s contribution.',
    needs: 'input', gradients: true, output: 'heatmap', cost: 'backward-to-input', counterfactual: true, classSpecific: true, camOptions: false,
    options: [{ name: 'epsilon', label: 'ε', hint: 'Stabiliser added to each unit\'s pre-activation (0: gradient × input).', type: 'number', default: 0.01, min: 0, max: 10 }],
    reference: 'Bach et al., PLOS ONE 2015; Montavon et al. 2019 (Captum LRP, EpsilonRule)',
  },
  {
    id: 'fullgrad', label: 'FullGrad', hint: 'The input gradient × input plus every layer\'s bias × its gradient, each channel scaled to [0, 1], summed.',
    needs: 'input', gradients: true, output: 'heatmap', cost: 'backward-to-input', counterfactual: true, classSpecific: true, camOptions: false,
    options: [], reference: 'Srinivas & Fleuret, NeurIPS 2019, arXiv:1905.00780 (pytorch-grad-cam FullGrad)',
  },
  {
    id: 'shapley-cam', label: 'ShapleyCAM', hint: 'Channel weights from the gradient minus half the Hessian–vector product (a Shapley-value estimate), on the residual softmax target.',
    needs: 'layer', gradients: true, output: 'heatmap', cost: 'backward-to-layer', counterfactual: true, classSpecific: true, camOptions: true,
    options: [], reference: 'Cai, 2025, arXiv:2501.06261 (pytorch-grad-cam ShapleyCAM, ReST target)',
  },
  {
    id: 'lrp-alpha-beta', label: 'LRP-αβ', hint: 'Layer-wise relevance propagation, αβ rule: positive and negative contributions redistributed apart (α − β = 1).',
    needs: 'input', gradients: true, output: 'heatmap', cost: 'backward-to-input', counterfactual: true, classSpecific: true, camOptions: false,
    options: [{
      name: 'rule', label: 'Rule', hint: 'α and β: α₁β₀ keeps only positive contributions, α₂β₁ also subtracts the negative ones.', type: 'choice', default: 'a1b0',
      choices: [{ value: 'a1b0', label: 'α = 1, β = 0' }, { value: 'a2b1', label: 'α = 2, β = 1' }],
    }],
    reference: 'Bach et al., PLOS ONE 2015; Montavon et al. 2019 (Captum LRP, Alpha1_Beta0 / Alpha2_Beta1)',
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

/** The method picker's groups (about forty methods stay findable): by what a method reads and whether it needs a gradient. */
export type MethodFamily = 'cam-gradient' | 'cam-free' | 'input-gradient' | 'perturbation' | 'attention';

export const METHOD_FAMILIES: ReadonlyArray<{ family: MethodFamily; title: string; hint: string }> = [
  { family: 'cam-gradient', title: 'At a layer, from gradients', hint: 'CAM methods: the layer\'s channels weighted by the class score\'s gradient.' },
  { family: 'cam-free', title: 'At a layer, no gradient', hint: 'CAM methods from activations and forward passes only.' },
  { family: 'input-gradient', title: 'On the input, from gradients', hint: 'Saliency and attribution methods from input gradients.' },
  { family: 'perturbation', title: 'On the input, by perturbation', hint: 'Forward passes of perturbed copies only: they explain any model, also one without a gradient.' },
  { family: 'attention', title: 'Attention (transformers)', hint: 'From a vision transformer\'s attention matrices: only on a model that has them.' },
];

export function methodFamily(info: MethodInfo): MethodFamily {
  if (info.requires === 'attention') return 'attention';
  if (info.needs === 'layer' && info.output === 'heatmap') return info.gradients ? 'cam-gradient' : 'cam-free';
  return info.gradients ? 'input-gradient' : 'perturbation';
}

/** Whether the method, or one it is built from, needs the gradient of the score. */
export function methodNeedsGradient(id: MethodId): boolean {
  const info = methodInfo(id);
  return info.gradients || (info.uses ?? []).some(methodNeedsGradient);
}

/**
 * The chosen methods a model can run: all of them, or — a model with an op that has no gradient
 * (`gradientsSupported` false) — the gradient-free ones, Occlusion when none is left.
 */
export function methodsForModel(chosen: readonly MethodId[], gradientsSupported: boolean): MethodId[] {
  if (gradientsSupported) return [...chosen];
  const free = chosen.filter((id) => !methodNeedsGradient(id));
  return free.length > 0 ? free : ['occlusion'];
}

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
