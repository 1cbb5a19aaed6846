/**
 * Fast gradient kernels for the WASM backend.
 *
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter nor depthwise backprop kernels, and its
 * Conv2DBackpropInput is ~12× slower than a forward conv of the same size. Every gradient path in
 * tfjs (plain ops, the inline customGrad of fused ops used by tfjs-layers, conv2dTranspose) ends in
 * these four kernels, so we replace them for 'wasm' with compositions of the backend's fast
 * forward kernels (XNNPACK convolutions):
 *  - input gradient, stride 1 = a forward conv of dy with the kernel flipped spatially (and in/out
 *    channels swapped), padded so the output has the input's size;
 *  - input gradient, stride s > 1 = one stride-1 conv that computes all s×s output phases at once
 *    (sub-pixel form: each phase sees only the kernel taps ≡ phase mod s, stacked as output channels),
 *    then the phases interleaved back into rows and columns. Zero-insertion upsampling would do the
 *    same with s² times the work, 3/4 of it on zeros (measured: ResNet50's 7×7 stride-2 stem took
 *    17× its forward time that way);
 *  - filter gradient = a forward conv of the input (batch moved to channels) with dy as the kernel,
 *    where the original stride becomes the kernel's dilation, cropped to the kernel size.
 *
 * Intermediates are made by calling the backend's own kernel functions and freed with
 * `backend.disposeData`; no tensors are created, so nothing reaches the engine's tensor tracking.
 */
import * as tf from '@tensorflow/tfjs';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs';

const BACKEND = 'wasm';

type Shape4 = [number, number, number, number];
type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];
type Pad = 'valid' | 'same' | number | ExplicitPad;
type Pair = [number, number];

/** Runs the backend's own kernels and remembers every intermediate so it can be freed at once. */
class KernelScope {
  private readonly intermediates: TensorInfo[] = [];
  constructor(private readonly backend: KernelBackend) {}

  run(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = tf.getKernel(kernelName, BACKEND);
    if (kernel == null) throw new Error(`Kernel '${kernelName}' is not registered for backend '${BACKEND}'.`);
    const out = kernel.kernelFunc({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) throw new Error(`Kernel '${kernelName}' returned several outputs.`);
    this.intermediates.push(out);
    return out;
  }

  /** Track a TensorInfo made outside `run` so it is freed with the rest. */
  keep(x: TensorInfo): TensorInfo {
    this.intermediates.push(x);
    return x;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }
  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }
  reverse(x: TensorInfo, dims: number[]): TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }
  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    const unchanged = begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i]);
    return unchanged ? x : this.run('Slice', { x }, { begin, size });
  }
  sum(x: TensorInfo, axis: number[]): TensorInfo {
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  /** Crop where a requested spatial padding is negative; return the non-negative rest for the conv. */
  cropNegativePads(x: TensorInfo, [top, bottom]: Pair, [left, right]: Pair): { x: TensorInfo; pad: ExplicitPad } {
    const [n, h, w, c] = x.shape as Shape4;
    const cropTop = Math.max(0, -top);
    const cropLeft = Math.max(0, -left);
    const cropped = this.slice(
      x,
      [0, cropTop, cropLeft, 0],
      [n, h - cropTop - Math.max(0, -bottom), w - cropLeft - Math.max(0, -right), c],
    );
    const pad: ExplicitPad = [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]];
    return { x: cropped, pad };
  }

  /** Free every intermediate except `keep` (the kernel's output, which the engine takes over). */
  disposeAllBut(keep: TensorInfo): void {
    for (const t of this.intermediates) {
      if (t !== keep) this.backend.disposeData(t.dataId);
    }
  }
}

/**
 * Rearranged filters (flipped, channels swapped) by the source filter's dataId. The WASM Conv2D
 * builds and caches an XNNPACK operator (packing the weights) per filter id and drops it when that
 * filter is freed: a fresh flipped filter per call rebuilt it on every backward pass (measured: the
 * input gradients of MobileNetV2's 35 convs took 10× their forward time). A model's weights keep
 * their dataId for life, so each layer's rearranged filter is made once; entries whose source was
 * freed are released on the next sweep.
 */
const rearrangedFilters = new Map<object, { kind: string; source: TensorInfo; filter: TensorInfo }>();
let callsSinceSweep = 0;
const SWEEP_EVERY = 64;

interface DataStorageLike {
  has(dataId: object): boolean;
}

function sweepRearrangedFilters(backend: KernelBackend): void {
  const storage = (backend as unknown as { dataIdMap?: DataStorageLike }).dataIdMap;
  if (!storage) return;
  for (const [dataId, entry] of rearrangedFilters) {
    if (!storage.has(dataId)) {
      backend.disposeData(entry.filter.dataId);
      rearrangedFilters.delete(dataId);
    }
  }
}

/** `make(scope)` applied to `filter`, computed once per (filter data, kind) and kept while the filter lives. */
function rearrangedFilter(backend: KernelBackend, filter: TensorInfo, kind: string, make: (scope: KernelScope, f: TensorInfo) => TensorInfo): TensorInfo {
  if (++callsSinceSweep >= SWEEP_EVERY) {
    callsSinceSweep = 0;
    sweepRearrangedFilters(backend);
  }
  const key = filter.dataId as object;
  const hit = rearrangedFilters.get(key);
  if (hit && hit.kind === kind) return hit.filter;
  if (hit) backend.disposeData(hit.filter.dataId);
  const scope = new KernelScope(backend);
  const made = make(scope, filter);
  scope.disposeAllBut(made);
  rearrangedFilters.set(key, { kind, source: filter, filter: made });
  return made;
}

/** Release the rearranged filters whose source weights are gone (after a model is disposed). */
export function releaseFreedRearrangedFilters(): void {
  // Check the map first: findBackend would START initialising WASM where it never ran (e.g. in a
  // WebGPU worker), and the active backend then throws "has not yet been initialized".
  if (rearrangedFilters.size === 0) return;
  const backend = tf.findBackend(BACKEND);
  if (backend) sweepRearrangedFilters(backend);
}

/** Free every cached rearranged filter (tests; a backend switch). */
export function clearRearrangedFilters(): void {
  if (rearrangedFilters.size === 0) return; // see releaseFreedRearrangedFilters
  const backend = tf.findBackend(BACKEND);
  for (const entry of rearrangedFilters.values()) backend?.disposeData(entry.filter.dataId);
  rearrangedFilters.clear();
}

/** How many rearranged filters are cached (tests). */
export function rearrangedFilterCount(): number {
  return rearrangedFilters.size;
}

function pair(value: number | number[] | undefined, fallback = 1): Pair {
  if (value == null) return [fallback, fallback];
  if (typeof value === 'number') return [value, value];
  return [value[0] ?? fallback, value[1] ?? value[0] ?? fallback];
}

function requireNhwc(dataFormat: string | undefined, kernel: string): void {
  if (dataFormat != null && dataFormat !== 'NHWC') {
    throw new Error(`${kernel} on the WASM backend supports only NHWC, got ${dataFormat}.`);
  }
}

/**
 * The padding that makes a stride-1 input gradient a forward conv of dy with the flipped kernel: dy
 * is padded by (effective kernel − 1 − padTop) before and (inputSize − outputSize + padTop) after.
 */
function inputGradientPads(
  inputShape: Shape4,
  filterShape: Shape4,
  dilations: Pair,
  pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
): { rows: Pair; cols: Pair; outShape: Shape4 } {
  const info = tf.backend_util.computeConv2DInfo(inputShape, filterShape, 1, dilations, pad, dimRoundingMode, depthwise);
  return {
    rows: [info.effectiveFilterHeight - 1 - info.padInfo.top, info.inHeight - info.outHeight + info.padInfo.top],
    cols: [info.effectiveFilterWidth - 1 - info.padInfo.left, info.inWidth - info.outWidth + info.padInfo.left],
    outShape: info.outShape as Shape4,
  };
}

/**
 * Sub-pixel geometry of a strided input gradient along one axis. With u = y + padBefore = q·s + ρ,
 * dx[y] = Σ_t dy[q − t] · W[ρ + s·t]: for each phase ρ a stride-1 correlation of dy (padded by
 * taps − 1 before) with that phase's taps in reverse order. Phases ρ ≥ k have no taps (all zero).
 */
interface PhaseAxis {
  stride: number;
  /** Taps per phase: ceil(k / s) (phases with fewer are padded with zero taps). */
  taps: number;
  /** Phases that have taps: min(k, s). */
  phases: number;
  /** Rows of the phase-stacked result (q = 0 … steps − 1), enough to cover u < padBefore + inSize. */
  steps: number;
  /** Zero rows of dy before / after (negative = crop). */
  padBefore: number;
  padAfter: number;
  /** Where the input starts in the interleaved u axis. */
  offset: number;
  inSize: number;
}

/** The filter rearrangement depends only on taps and phases per axis (and the strides in the key). */
function planKey(plan: StridedGradientPlan): string {
  return `${plan.rows.taps}x${plan.cols.taps}/${plan.rows.phases}x${plan.cols.phases}`;
}

function phaseAxis(kernel: number, stride: number, padBefore: number, inSize: number, outSize: number): PhaseAxis {
  const taps = Math.ceil(kernel / stride);
  const steps = Math.ceil((padBefore + inSize) / stride);
  return { stride, taps, phases: Math.min(kernel, stride), steps, padBefore: taps - 1, padAfter: steps - outSize, offset: padBefore, inSize };
}

interface StridedGradientPlan {
  rows: PhaseAxis;
  cols: PhaseAxis;
}

function stridedGradientPlan(
  inputShape: Shape4,
  filterShape: Shape4,
  strides: Pair,
  dilations: Pair,
  pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
): StridedGradientPlan | null {
  if (strides[0] === 1 && strides[1] === 1) return null;
  if (dilations[0] !== 1 || dilations[1] !== 1) {
    // tfjs's conv gradients assert dilation 1 whenever the stride is above 1: this never comes.
    throw new Error(`Input gradient with strides ${strides} and dilations ${dilations}: one of them must be 1.`);
  }
  const info = tf.backend_util.computeConv2DInfo(inputShape, filterShape, strides, 1, pad, dimRoundingMode, depthwise);
  return {
    rows: phaseAxis(info.filterHeight, info.strideHeight, info.padInfo.top, info.inHeight, info.outHeight),
    cols: phaseAxis(info.filterWidth, info.strideWidth, info.padInfo.left, info.inWidth, info.outWidth),
  };
}

/** Kernel tap of phase `phase` at position `j` of its reversed tap list, or -1 past the kernel's end. */
function phaseTap(axis: PhaseAxis, kernel: number, phase: number, j: number): number {
  const tap = phase + axis.stride * (axis.taps - 1 - j);
  return tap < kernel ? tap : -1;
}

/** Reads a filter off the backend, rearranges it in JS and stores the result (once per layer). */
function rearrangeOnHost(scope: KernelScope, backend: KernelBackend, filter: TensorInfo, shape: number[], fill: (source: Float32Array, target: Float32Array) => void): TensorInfo {
  const wasm = backend as WasmHeapBackend;
  const made = scope.keep(wasm.makeOutput(shape, 'float32'));
  // Views are taken after makeOutput: allocating may grow (and detach) the heap.
  const target = wasm.typedArrayFromHeap(made);
  target.fill(0);
  fill(wasm.typedArrayFromHeap(filter), target);
  return made;
}

/** Calls `visit` for every (tap jh/jw, phase ρh/ρw) pair that holds a kernel tap (ph, pw). */
function forEachPhaseTap(plan: StridedGradientPlan, kh: number, kw: number, visit: (jh: number, jw: number, rh: number, rw: number, ph: number, pw: number) => void): void {
  const { rows, cols } = plan;
  for (let jh = 0; jh < rows.taps; jh++) {
    for (let jw = 0; jw < cols.taps; jw++) {
      for (let rh = 0; rh < rows.phases; rh++) {
        const ph = phaseTap(rows, kh, rh, jh);
        if (ph < 0) continue;
        for (let rw = 0; rw < cols.phases; rw++) {
          const pw = phaseTap(cols, kw, rw, jw);
          if (pw >= 0) visit(jh, jw, rh, rw, ph, pw);
        }
      }
    }
  }
}

/**
 * Conv filter [kh,kw,Ci,Co] → phase-stacked [Th,Tw,Co,Ph·Pw·Ci]: output channel (ρh·Pw + ρw)·Ci + ci
 * holds W[ρh + sh·(Th−1−jh), ρw + sw·(Tw−1−jw), ci, co] at tap (jh, jw), zero past the kernel.
 */
function phaseStackedConvFilter(scope: KernelScope, backend: KernelBackend, filter: TensorInfo, plan: StridedGradientPlan): TensorInfo {
  const [kh, kw, ci, co] = filter.shape as Shape4;
  const { rows, cols } = plan;
  const outChannels = rows.phases * cols.phases * ci;
  return rearrangeOnHost(scope, backend, filter, [rows.taps, cols.taps, co, outChannels], (w, k) =>
    forEachPhaseTap(plan, kh, kw, (jh, jw, rh, rw, ph, pw) => {
      for (let c = 0; c < ci; c++) {
        const from = ((ph * kw + pw) * ci + c) * co;
        const to = ((jh * cols.taps + jw) * co) * outChannels + (rh * cols.phases + rw) * ci + c;
        for (let o = 0; o < co; o++) k[to + o * outChannels] = w[from + o]!;
      }
    }),
  );
}

/**
 * Depthwise filter [kh,kw,C,M] → phase-stacked depthwise filter [Th,Tw,C·M,Ph·Pw]: multiplier
 * φ = ρh·Pw + ρw of channel c·M + m holds W[ρh + sh·(Th−1−jh), ρw + sw·(Tw−1−jw), c, m].
 */
function phaseStackedDepthwiseFilter(scope: KernelScope, backend: KernelBackend, filter: TensorInfo, plan: StridedGradientPlan): TensorInfo {
  const [kh, kw, channels, multiplier] = filter.shape as Shape4;
  const { rows, cols } = plan;
  const phases = rows.phases * cols.phases;
  const cm = channels * multiplier;
  return rearrangeOnHost(scope, backend, filter, [rows.taps, cols.taps, cm, phases], (w, k) =>
    forEachPhaseTap(plan, kh, kw, (jh, jw, rh, rw, ph, pw) => {
      for (let c = 0; c < cm; c++) k[((jh * cols.taps + jw) * cm + c) * phases + rh * cols.phases + rw] = w[(ph * kw + pw) * cm + c]!;
    }),
  );
}

/** dy padded (or cropped) so that a valid stride-1 conv with Th×Tw taps yields steps×steps rows. */
function phaseInput(scope: KernelScope, dy: TensorInfo, plan: StridedGradientPlan): { x: TensorInfo; pad: ExplicitPad } {
  const { rows, cols } = plan;
  return scope.cropNegativePads(dy, [rows.padBefore, rows.padAfter], [cols.padBefore, cols.padAfter]);
}

/**
 * Interleaves phase-stacked results back into rows and columns and crops the input's extent.
 * `stacked` is [N·Qh, Qw, Ph, Pw, C] in `channelsLast` order or [N·Qh, Qw, C, Ph, Pw] otherwise.
 */
function interleavePhases(scope: KernelScope, stacked: TensorInfo, plan: StridedGradientPlan, n: number, channels: number, phasesFirst: boolean): TensorInfo {
  const { rows, cols } = plan;
  const [sh, sw] = [rows.stride, cols.stride];
  const phaseAxes = phasesFirst ? [2, 3] : [3, 4];
  let full = stacked;
  if (rows.phases < sh || cols.phases < sw) {
    const paddings: Array<[number, number]> = [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]];
    paddings[phaseAxes[0]!] = [0, sh - rows.phases];
    paddings[phaseAxes[1]!] = [0, sw - cols.phases];
    full = scope.run('PadV2', { x: stacked }, { paddings, constantValue: 0 });
  }
  // [N·Qh, Qw, ρh, ρw, C] → [N·Qh, ρh, Qw, ρw, C] (or from [N·Qh, Qw, C, ρh, ρw]).
  const perm = phasesFirst ? [0, 2, 1, 3, 4] : [0, 3, 1, 4, 2];
  const interleaved = sh === 1 && phasesFirst ? full : scope.transpose(full, perm);
  const image = scope.reshape(interleaved, [n, rows.steps * sh, cols.steps * sw, channels]);
  return scope.slice(image, [0, rows.offset, cols.offset, 0], [n, rows.inSize, cols.inSize, channels]);
}

function conv2DBackpropInput({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as Conv2DBackpropInputAttrs & { dilations?: number | Pair };
  requireNhwc(a.dataFormat, 'Conv2DBackpropInput');
  const strides = pair(a.strides);
  const dilations = pair(a.dilations);
  const filterShape = filter.shape as Shape4;
  const scope = new KernelScope(backend as KernelBackend);
  const plan = stridedGradientPlan(a.inputShape, filterShape, strides, dilations, a.pad, a.dimRoundingMode, false);
  if (plan) {
    const [n] = dy.shape as Shape4;
    const [, , ci] = filterShape;
    const stackedFilter = rearrangedFilter(backend as KernelBackend, filter, `conv-input-grad-phases:${strides}:${planKey(plan)}`, (s, f) => phaseStackedConvFilter(s, backend as KernelBackend, f, plan));
    const { x, pad } = phaseInput(scope, dy, plan);
    const stacked = scope.run('Conv2D', { x, filter: stackedFilter }, {
      strides: [1, 1], pad, dilations: [1, 1], dataFormat: 'NHWC', dimRoundingMode: undefined,
    } as unknown as NamedAttrMap);
    const five = scope.reshape(stacked, [n * plan.rows.steps, plan.cols.steps, plan.rows.phases, plan.cols.phases, ci]);
    const dx = interleavePhases(scope, five, plan, n, ci, true);
    scope.disposeAllBut(dx);
    return dx;
  }
  // Stride 1: a forward conv of dy with the flipped kernel.
  const { rows, cols } = inputGradientPads(a.inputShape, filterShape, dilations, a.pad, a.dimRoundingMode, false);
  const { x, pad } = scope.cropNegativePads(dy, rows, cols);
  // Flip spatially and swap in/out channels: [kh,kw,Ci,Co] → [kh,kw,Co,Ci] (once per filter).
  const flipped = rearrangedFilter(backend as KernelBackend, filter, 'conv-input-grad', (s, f) => s.transpose(s.reverse(f, [0, 1]), [0, 1, 3, 2]));
  const dx = scope.run('Conv2D', { x, filter: flipped }, {
    strides: [1, 1], pad, dilations, dataFormat: 'NHWC', dimRoundingMode: undefined,
  } as unknown as NamedAttrMap);
  scope.disposeAllBut(dx);
  return dx;
}

function conv2DBackpropFilter({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as Conv2DBackpropFilterAttrs & { dilations?: number | Pair };
  requireNhwc(a.dataFormat, 'Conv2DBackpropFilter');
  const strides = pair(a.strides);
  const dilations = pair(a.dilations);
  const [kh, kw, ci, co] = a.filterShape;
  const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, a.filterShape, strides, dilations, a.pad, a.dimRoundingMode, false);
  const scope = new KernelScope(backend as KernelBackend);

  // dW[p,q,ci,co] = Σ_{n,i,j} x[n, i·sh + p·dh − top, j·sw + q·dw − left, ci] · dy[n,i,j,co]:
  // a conv of x as [Ci,H,W,N] with dy as an [oh,ow,N,Co] kernel dilated by the stride.
  const xT = scope.transpose(x, [3, 1, 2, 0]);
  const dyKernel = scope.transpose(dy, [1, 2, 0, 3]);
  const { xPadded, pad } = filterGradientInput(scope, xT, info, kh, kw);
  const raw = scope.run('Conv2D', { x: xPadded, filter: dyKernel }, {
    strides: dilations, pad, dilations: strides, dataFormat: 'NHWC', dimRoundingMode: undefined,
  } as unknown as NamedAttrMap);
  const cropped = scope.slice(raw, [0, 0, 0, 0], [ci, kh, kw, co]);
  const dw = scope.transpose(cropped, [1, 2, 0, 3]);
  scope.disposeAllBut(dw);
  return dw;
}

/**
 * Padding for the filter-gradient conv: `top/left` as in the forward pass, and just enough at the
 * bottom/right for the output to cover the kernel (the extra forward padding only adds rows that
 * would be cropped anyway). Negative amounts crop the input.
 */
function filterGradientInput(
  scope: KernelScope,
  xT: TensorInfo,
  info: ReturnType<typeof tf.backend_util.computeConv2DInfo>,
  kh: number,
  kw: number,
): { xPadded: TensorInfo; pad: ExplicitPad } {
  const upH = (info.outHeight - 1) * info.strideHeight + 1;
  const upW = (info.outWidth - 1) * info.strideWidth + 1;
  const bottom = (kh - 1) * info.dilationHeight + upH - info.inHeight - info.padInfo.top;
  const right = (kw - 1) * info.dilationWidth + upW - info.inWidth - info.padInfo.left;
  const { x, pad } = scope.cropNegativePads(xT, [info.padInfo.top, bottom], [info.padInfo.left, right]);
  return { xPadded: x, pad };
}

function depthwiseBackpropInput({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const strides = pair(a.strides);
  const dilations = pair(a.dilations);
  const [kh, kw, channels, multiplier] = filter.shape as Shape4;
  const scope = new KernelScope(backend as KernelBackend);
  const plan = stridedGradientPlan(a.inputShape, filter.shape as Shape4, strides, dilations, a.pad, a.dimRoundingMode, true);
  if (plan) {
    const [n] = dy.shape as Shape4;
    const phases = plan.rows.phases * plan.cols.phases;
    const stackedFilter = rearrangedFilter(backend as KernelBackend, filter, `depthwise-input-grad-phases:${strides}:${planKey(plan)}`, (s, f) => phaseStackedDepthwiseFilter(s, backend as KernelBackend, f, plan));
    const { x, pad } = phaseInput(scope, dy, plan);
    const stacked = scope.run('DepthwiseConv2dNative', { x, filter: stackedFilter }, {
      strides: [1, 1], pad, dilations: [1, 1], dimRoundingMode: undefined,
    } as unknown as NamedAttrMap);
    const cells = n * plan.rows.steps * plan.cols.steps;
    // Channels come out as (c, m, phase): sum the multiplier away, then interleave the phases.
    const perChannel = multiplier > 1 ? scope.sum(scope.reshape(stacked, [cells, channels, multiplier, phases]), [2]) : stacked;
    const five = scope.reshape(perChannel, [n * plan.rows.steps, plan.cols.steps, channels, plan.rows.phases, plan.cols.phases]);
    const dx = interleavePhases(scope, five, plan, n, channels, false);
    scope.disposeAllBut(dx);
    return dx;
  }
  // Stride 1: a depthwise conv of dy with the flipped kernel.
  const { rows, cols } = inputGradientPads(a.inputShape, filter.shape as Shape4, dilations, a.pad, a.dimRoundingMode, true);
  const { x, pad } = scope.cropNegativePads(dy, rows, cols);
  // Each of the C·M output channels maps back to one input channel: a depthwise conv (multiplier 1)
  // over C·M channels with the flipped kernel, then a sum over the multiplier.
  const flipped = rearrangedFilter(backend as KernelBackend, filter, 'depthwise-input-grad', (s, f) => s.reshape(s.reverse(f, [0, 1]), [kh, kw, channels * multiplier, 1]));
  const perChannel = scope.run('DepthwiseConv2dNative', { x, filter: flipped }, {
    strides: [1, 1], pad, dilations, dimRoundingMode: undefined,
  } as unknown as NamedAttrMap);
  let dx = perChannel;
  if (multiplier > 1) {
    const [n, h, w] = perChannel.shape;
    dx = scope.sum(scope.reshape(perChannel, [n!, h!, w!, channels, multiplier]), [4]);
  }
  scope.disposeAllBut(dx);
  return dx;
}

function depthwiseBackpropFilter({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const strides = pair(a.strides);
  const dilations = pair(a.dilations);
  const [kh, kw, channels, multiplier] = a.filterShape;
  const [n, h, w] = x.shape as Shape4;
  const [, oh, ow] = dy.shape as Shape4;
  const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, a.filterShape, strides, dilations, a.pad, a.dimRoundingMode, true);
  const scope = new KernelScope(backend as KernelBackend);

  // dW[p,q,c,m] = Σ_{n,i,j} x[n, i·sh + p·dh − top, …, c] · dy[n,i,j,c·M+m]: batch and channels are
  // merged into N·C depthwise channels (x as [1,H,W,N·C], dy as an [oh,ow,N·C,M] kernel dilated by the
  // stride); the batch is summed afterwards.
  const xMerged = n === 1 ? scope.reshape(x, [1, h, w, channels]) : scope.reshape(scope.transpose(x, [1, 2, 0, 3]), [1, h, w, n * channels]);
  const dy5 = scope.reshape(dy, [n, oh, ow, channels, multiplier]);
  const dyKernel = n === 1
    ? scope.reshape(dy5, [oh, ow, channels, multiplier])
    : scope.reshape(scope.transpose(dy5, [1, 2, 0, 3, 4]), [oh, ow, n * channels, multiplier]);
  const { xPadded, pad } = filterGradientInput(scope, xMerged, info, kh, kw);
  const raw = scope.run('DepthwiseConv2dNative', { x: xPadded, filter: dyKernel }, {
    strides: dilations, pad, dilations: strides, dimRoundingMode: undefined,
  } as unknown as NamedAttrMap);
  const cropped = scope.slice(raw, [0, 0, 0, 0], [1, kh, kw, n * channels * multiplier]);
  const perImage = scope.reshape(cropped, [kh, kw, n, channels, multiplier]);
  const summed = n === 1 ? perImage : scope.sum(perImage, [2]);
  const dw = scope.reshape(summed, [kh, kw, channels, multiplier]);
  scope.disposeAllBut(dw);
  return dw;
}

/**
 * UnsortedSegmentSum is missing on WASM, and `tf.gather` (e.g. picking one class score) differentiates
 * through it. out[s, …] = Σ_i [ids[i] = s] · x[i, …] is a matmul with a one-hot matrix
 * (out-of-range ids give an all-zero row, which drops them as TensorFlow does).
 */
function unsortedSegmentSum({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const scope = new KernelScope(backend as KernelBackend);
  const idCount = segmentIds.shape.reduce((a, b) => a * b, 1);
  const rest = x.shape.slice(segmentIds.shape.length);
  const restSize = rest.reduce((a, b) => a * b, 1);
  const ids = segmentIds.dtype === 'int32' ? segmentIds : scope.run('Cast', { x: segmentIds }, { dtype: 'int32' });
  // The WASM OneHot kernel writes int32 whatever dtype is asked for, so cast afterwards.
  const oneHotInt = scope.run('OneHot', { indices: scope.reshape(ids, [idCount]) }, { depth: numSegments, onValue: 1, offValue: 0, dtype: 'int32' });
  const oneHot = scope.run('Cast', { x: oneHotInt }, { dtype: 'float32' });
  const values = x.dtype === 'float32' ? x : scope.run('Cast', { x }, { dtype: 'float32' });
  const product = scope.run('BatchMatMul', {
    a: scope.reshape(oneHot, [1, idCount, numSegments]),
    b: scope.reshape(values, [1, idCount, restSize]),
  }, { transposeA: true, transposeB: false });
  let out = scope.reshape(product, [numSegments, ...rest]);
  if (x.dtype !== 'float32') out = scope.run('Cast', { x: out }, { dtype: x.dtype });
  scope.disposeAllBut(out);
  return out;
}

/** What the WASM backend offers beyond KernelBackend: typed views into its heap. */
interface WasmHeapBackend extends KernelBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

/**
 * MaxPoolGrad on WASM 4.22 starts its running maximum at FLT_MIN (the smallest POSITIVE float), so a
 * window whose values are all ≤ 0 gets no gradient at all (measured: 1–20 % of positions wrong on
 * signed inputs). This is the CPU backend's algorithm on the WASM heap: the first maximum of each
 * window (clipped to the input) receives that window's dy.
 */
function maxPoolGrad({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const a = attrs as { filterSize: number | Pair; strides: number | Pair; pad: Pad; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  const wasm = backend as WasmHeapBackend;
  const info = tf.backend_util.computePool2DInfo(input.shape as Shape4, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { effectiveFilterHeight: fh, effectiveFilterWidth: fw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const dx = wasm.makeOutput(input.shape, 'float32');
  // Views are taken after makeOutput: allocating may grow (and detach) the heap.
  const x = wasm.typedArrayFromHeap(input);
  const g = wasm.typedArrayFromHeap(dy);
  const out = wasm.typedArrayFromHeap(dx);
  out.fill(0);
  const rowStride = inWidth * channels;
  const imageStride = inHeight * rowStride;
  for (let b = 0; b < batchSize; b++) {
    const base = b * imageStride;
    for (let oy = 0; oy < outHeight; oy++) {
      const yStart = oy * strideHeight - top;
      const yFrom = Math.max(0, yStart);
      const yTo = Math.min(inHeight, yStart + fh);
      for (let ox = 0; ox < outWidth; ox++) {
        const xStart = ox * strideWidth - left;
        const xFrom = Math.max(0, xStart);
        const xTo = Math.min(inWidth, xStart + fw);
        const dyBase = ((b * outHeight + oy) * outWidth + ox) * channels;
        for (let c = 0; c < channels; c++) {
          let best = Number.NEGATIVE_INFINITY;
          let bestIndex = -1;
          for (let y = yFrom; y < yTo; y += dh) {
            for (let xx = xFrom; xx < xTo; xx += dw) {
              const index = base + y * rowStride + xx * channels + c;
              const value = x[index]!;
              if (value > best || bestIndex < 0) {
                best = value;
                bestIndex = index;
              }
            }
          }
          if (bestIndex >= 0) out[bestIndex] = out[bestIndex]! + g[dyBase + c]!;
        }
      }
    }
  }
  return dx;
}

/** Our own kernel: the gradient of Relu / Relu6 / LeakyRelu in one pass, plain or guided. */
export const RELU_GRAD = 'StudioReluGrad';

export interface ReluGradAttrs {
  /** 6 for Relu6 (the gradient stops above it); null for Relu/LeakyRelu. */
  cap: number | null;
  /** Slope below zero (LeakyRelu); 0 for Relu/Relu6. */
  alpha: number;
  /** Guided backprop's rule (only positive dy passes); false = the plain derivative. Default true. */
  guided?: boolean;
}

/**
 * dx = dy · f'(x), f'(x) = 1 on (0, cap], alpha at or below 0 (0 for Relu/Relu6), 0 above cap; guided:
 * relu(dy) · f'(x). What guided.ts and backward.ts would compute with 2–6 kernels (LessEqual alone
 * measured 6 ms on 1.2 M values on WASM; this loop does the whole map in less than one Multiply).
 */
function reluGrad({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo {
  const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
  const { cap, alpha, guided = true } = attrs as unknown as ReluGradAttrs;
  if (dy.dtype !== 'float32' || x.dtype !== 'float32') throw new Error(`${RELU_GRAD} takes float32 tensors.`);
  const wasm = backend as WasmHeapBackend;
  const dx = wasm.makeOutput(x.shape, 'float32');
  const xs = wasm.typedArrayFromHeap(x);
  const gs = wasm.typedArrayFromHeap(dy);
  const out = wasm.typedArrayFromHeap(dx);
  const upper = cap ?? Number.POSITIVE_INFINITY;
  const n = out.length;
  if (alpha === 0 && upper > 0) {
    // On the float bits as int32: for IEEE floats, v > 0 ⇔ bits(v) > 0 and, for v > 0,
    // v ≤ cap ⇔ bits(v) ≤ bits(cap). So the mask is the sign bit of (−g & −v & (v − cap − 1)),
    // all integer ops, no branches and no float compares (measured ~2× the float version).
    // Edge cases: −0 as g gives −0 (= 0); −0 as v fails the cap term through wrap-around; NaN x
    // with sign clear passes only when below the cap's bits, which NaN's bits never are.
    const gi = new Int32Array(gs.buffer, gs.byteOffset, n);
    const vi = new Int32Array(xs.buffer, xs.byteOffset, n);
    const oi = new Int32Array(out.buffer, out.byteOffset, n);
    const capPlusOne = (floatBits(upper) + 1) | 0;
    // Plain: the same without the −g term (any dy passes where the unit is active).
    const dyMask = guided ? 0 : -1;
    for (let i = 0; i < n; i++) {
      const g = gi[i]!;
      const v = vi[i]!;
      oi[i] = g & (((-g | dyMask) & -v & (v - capPlusOne)) >> 31);
    }
  } else if (guided) {
    for (let i = 0; i < n; i++) {
      const g = gs[i]!;
      const v = xs[i]!;
      out[i] = g > 0 ? (v > 0 ? (v <= upper ? g : 0) : g * alpha) : 0;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const g = gs[i]!;
      const v = xs[i]!;
      out[i] = v > 0 ? (v <= upper ? g : 0) : g * alpha;
    }
  }
  return dx;
}

const bitsScratch = new Float32Array(1);
const bitsView = new Int32Array(bitsScratch.buffer);
function floatBits(value: number): number {
  bitsScratch[0] = value;
  return bitsView[0]!;
}

/** The WASM backend's own Identity (copies), kept for string tensors. */
let copyingIdentity: KernelFunc | null = null;

/**
 * Identity that shares the data (reference-counted, as Reshape on WASM and Identity on the CPU and
 * WebGL backends do) instead of copying it. Under a gradient tape tfjs clones every tensor a
 * gradient needs through Identity, so on WASM each taped op copied its inputs (853 copies per
 * MobileNetV2 guided backprop) — and the copied filters defeated the rearranged-filter cache.
 */
function sharedIdentity(args: Parameters<KernelFunc>[0]): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') {
    if (!copyingIdentity) throw new Error('Identity of a string tensor: the WASM kernel is missing.');
    return copyingIdentity(args) as TensorInfo;
  }
  (args.backend as KernelBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

const FAST_KERNELS: ReadonlyArray<Pick<KernelConfig, 'kernelName' | 'kernelFunc'>> = [
  { kernelName: 'Identity', kernelFunc: sharedIdentity as KernelFunc },
  { kernelName: RELU_GRAD, kernelFunc: reluGrad as KernelFunc },
  { kernelName: 'Conv2DBackpropInput', kernelFunc: conv2DBackpropInput as KernelFunc },
  { kernelName: 'Conv2DBackpropFilter', kernelFunc: conv2DBackpropFilter as KernelFunc },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', kernelFunc: depthwiseBackpropInput as KernelFunc },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', kernelFunc: depthwiseBackpropFilter as KernelFunc },
  { kernelName: 'UnsortedSegmentSum', kernelFunc: unsortedSegmentSum as KernelFunc },
  { kernelName: 'MaxPoolGrad', kernelFunc: maxPoolGrad as KernelFunc },
];

/** Names of the kernels this module provides for 'wasm' (for diagnostics and tests). */
export const FAST_WASM_GRADIENT_KERNELS: readonly string[] = FAST_KERNELS.map((k) => k.kernelName);

/**
 * Replace slow/missing WASM gradient kernels (conv and depthwise backprop, UnsortedSegmentSum for
 * gather's gradient, a correct MaxPoolGrad) with compositions of fast forward kernels. Idempotent.
 */
export function registerFastWasmGradients(): void {
  for (const { kernelName, kernelFunc } of FAST_KERNELS) {
    const current = tf.getKernel(kernelName, BACKEND);
    if (current?.kernelFunc === kernelFunc) continue;
    if (kernelName === 'Identity' && current) copyingIdentity = current.kernelFunc;
    if (current != null) tf.unregisterKernel(kernelName, BACKEND);
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
  }
}

/** True when the fast kernels are the ones registered for 'wasm' right now. */
export function fastWasmGradientsRegistered(): boolean {
  return FAST_KERNELS.every(({ kernelName, kernelFunc }) => tf.getKernel(kernelName, BACKEND)?.kernelFunc === kernelFunc);
}
