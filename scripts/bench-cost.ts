/**
 * What the cost benches share (bench-perturbation.ts for the gradient-free methods, bench-methods.ts
 * for the other new ones): the arguments, the synthetic picture, the median, a bench model loaded on
 * WASM with its single-image and batched forward passes timed, and the interleaved timing of a method
 * against a pass timed right before each of its runs.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerFastWasmGradients } from '../src/engine/kernels/wasm-gradients';
import { loadedModelFromLayersModel, type LoadedModelMeta } from '../src/engine/model';
import { forwardScores, runForward } from '../src/engine/executor/forward';
import { rowsPerBatch } from '../src/engine/methods/batches';
import { preprocessImage } from '../src/engine/preprocess';
import { BENCH_MODELS, buildBenchModel, type BenchModelName } from './bench-models';

export function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

/** The bench models named by `--models` (every one by default, or `fallback`). */
export function benchModelsArgument(fallback: readonly BenchModelName[] = BENCH_MODELS): BenchModelName[] {
  return argument('models', fallback.join(',')).split(',').filter((m): m is BenchModelName => (BENCH_MODELS as readonly string[]).includes(m));
}

export type BenchImage = { width: number; height: number; data: Uint8ClampedArray };

export function benchImage(size: number): BenchImage {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const i = (y * size + x) * 4;
    data[i] = 128 + 100 * Math.sin(x / 17);
    data[i + 1] = 128 + 100 * Math.cos(y / 23);
    data[i + 2] = (x * y) % 256;
    data[i + 3] = 255;
  }
  return { width: size, height: size, data };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

export async function useWasm(): Promise<void> {
  await tf.setBackend('wasm');
  registerFastWasmGradients();
}

export type BenchLoadedModel = Awaited<ReturnType<typeof loadedModelFromLayersModel>>;

export interface BenchSetup {
  lm: BenchLoadedModel;
  picture: BenchImage;
  /** The preprocessed picture (1 × 224 × 224 × 3). */
  x: tf.Tensor4D;
  /** The rows a batch really has (the memory budget may lower the asked size). */
  batch: number;
  /** Medians of `runs` timed forward passes after a warm-up: one image, and `batch` images. */
  single: number;
  batched: number;
  /** One forward pass of `rows` (1 or `batch`) images, timed, ms. */
  timeForward: (rows: number) => Promise<number>;
  dispose: () => void;
}

/**
 * Builds a bench model, fills the picture's activation cache, and times one forward pass of one image
 * and of a batch — the methods lower the requested batch size to fit the memory budget (rowsPerBatch
 * over the image's cache; the full cache computed here holds every slot, so its bound is never looser
 * than the engine's), and the batched pass is measured at that size.
 */
export async function setUpBenchModel(name: BenchModelName, requested: number, runs: number, meta: LoadedModelMeta = {}): Promise<BenchSetup> {
  const built = buildBenchModel(name);
  const lm = await loadedModelFromLayersModel(built.model, meta);
  const picture = benchImage(224);
  await lm.explain(picture, { methods: ['gradcam'] }); // the image's activation cache
  const x = preprocessImage(picture, lm.summary.imageSize, { ...lm.summary.preprocess }) as tf.Tensor4D;
  const program = lm.program;
  const full = tf.tidy(() => runForward(program, x));
  const batch = rowsPerBatch({ values: full }, requested, false);
  tf.dispose(full.filter((v) => v && v !== x));
  const images = { 1: tf.tile(x, [1, 1, 1, 1]), [batch]: tf.tile(x, [batch, 1, 1, 1]) } as Record<number, tf.Tensor4D>;
  const timeForward = async (rows: number) => {
    const started = performance.now();
    const scores = forwardScores(program, program.steps, new Map([[program.inputSlot, images[rows]!]]), [], 0, 1, { fast: true });
    await scores.data();
    scores.dispose();
    return performance.now() - started;
  };
  const medianForward = async (rows: number) => {
    await timeForward(rows); // warms the batch's kernels
    const times: number[] = [];
    for (let r = 0; r < runs; r++) times.push(await timeForward(rows));
    return median(times);
  };
  const single = await medianForward(1);
  const batched = await medianForward(batch);
  return {
    lm, picture, x, batch, single, batched, timeForward,
    dispose: () => {
      tf.dispose(Object.values(images));
      x.dispose();
      lm.dispose();
    },
  };
}

/**
 * A method against a reference pass, interleaved: one untimed warm-up (`warmUp`), then each of `runs`
 * runs times the reference (`timeReference`) right before the method (`run`, resolving to its ms), so
 * that load from elsewhere on the machine moves both alike; the ratios are per run.
 */
export async function timeInterleaved(
  warmUp: () => Promise<unknown>,
  run: () => Promise<number>,
  timeReference: () => Promise<number>,
  runs: number,
): Promise<{ ms: number; referenceMs: number; ratios: number[]; times: number[] }> {
  await warmUp();
  const times: number[] = [];
  const references: number[] = [];
  for (let r = 0; r < runs; r++) {
    references.push(await timeReference());
    times.push(await run());
  }
  return { ms: median(times), referenceMs: median(references), ratios: times.map((t, r) => t / (references[r] ?? 1)), times };
}
