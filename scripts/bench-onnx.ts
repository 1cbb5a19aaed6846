/**
 * `npm run bench:onnx` — PyTorch models as ONNX, in Node on WASM: full-size torchvision resnet18 and
 * mobilenet_v2 (random weights, 224×224) exported by scripts/bench-onnx.py, which also times them in
 * PyTorch on the CPU (forward; Grad-CAM the pytorch-grad-cam way). Here: the same files opened by the
 * app's engine — forward and Grad-CAM at the default module (a cold image cache each time, so each
 * Grad-CAM includes its forward pass) — and onnxruntime-node's forward (CPU, same threads). Prints
 * medians and the ratios the issue sets targets for (Grad-CAM faster than PyTorch's; forward within
 * 1.5× of an ONNX runtime). Needs Debian's python3-torch; without it, says so and exits 0.
 *
 * Usage: npm run bench:onnx [-- --runs 5 --threads 2 --dir .bench-onnx]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { registerFastWasmGradients } from '../src/engine/kernels/wasm-gradients';
import { loadModel } from '../src/engine/model';
import { fromBytes, type RawImage } from '../src/engine/files';
import { stats } from './bench-stats';
import { runForward } from '../src/engine/executor/forward';

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] ?? fallback : fallback;
}

const runs = Number(argument('runs', '5'));
const threads = Number(argument('threads', '2'));
const dir = argument('dir', '.bench-onnx');

function image(size: number): RawImage {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let i = 0; i < size * size; i++) data.set([(i * 7) % 255, (i * 13) % 255, (i * 29) % 255, 255], i * 4);
  return { width: size, height: size, data };
}

async function timeIt(fn: () => Promise<unknown>): Promise<number[]> {
  await fn();
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return ms;
}

async function main(): Promise<void> {
  const py = spawnSync('/usr/bin/python3', ['scripts/bench-onnx.py', dir, String(threads), String(runs)], { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } });
  if (py.status !== 0) {
    console.log(`bench:onnx: PyTorch side unavailable (${py.stderr.trim().split('\n').pop() ?? 'no python3-torch'}); nothing to compare.`);
    return;
  }
  const torchTimes = JSON.parse(py.stdout.trim().split('\n').pop() ?? '{}') as Record<string, { forward: number[]; gradcam: number[] }>;
  setThreadsCount(threads);
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastWasmGradients();
  const ort = await import('onnxruntime-node').catch(() => null);
  console.log(`bench:onnx — ${runs} runs, ${threads} threads, medians in ms (WASM in Node; PyTorch ${threads} CPU threads)`);
  console.log('model          ours fwd  ours Grad-CAM  PyTorch fwd  PyTorch Grad-CAM  ORT fwd  Grad-CAM ours/PyTorch  fwd ours/ORT');
  for (const [name, theirs] of Object.entries(torchTimes)) {
    const bytes = new Uint8Array(readFileSync(join(dir, `${name}.onnx`)));
    const lm = await loadModel([fromBytes(`${name}.onnx`, bytes, `${name}.onnx`)]);
    const photo = image(224);
    const input = tf.randomUniform([1, 224, 224, 3]);
    const forward = stats(await timeIt(async () => {
      const values = tf.tidy(() => runForward(lm.program, input.clone()));
      await values[lm.program.outputSlots[0] ?? -1]?.data();
      tf.dispose(values.filter((v): v is tf.Tensor => !!v));
    }));
    input.dispose();
    // A new image object each time: the engine's per-image cache must not serve the forward pass.
    const gradcam = stats(await timeIt(() => lm.explain({ ...photo, data: photo.data.slice() }, { methods: ['gradcam'] })));
    lm.dispose();
    let ortMedian = NaN;
    if (ort) {
      const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1 });
      const x = new ort.Tensor('float32', new Float32Array(3 * 224 * 224).fill(0.5), [1, 3, 224, 224]);
      ortMedian = stats(await timeIt(() => session.run({ input: x }))).median;
    }
    const torchForward = stats(theirs.forward).median;
    const torchGradcam = stats(theirs.gradcam).median;
    console.log(
      `${name.padEnd(14)} ${forward.median.toFixed(1).padStart(8)}  ${gradcam.median.toFixed(1).padStart(13)}  ${torchForward.toFixed(1).padStart(11)}  ${torchGradcam.toFixed(1).padStart(16)}  ${ortMedian.toFixed(1).padStart(7)}  ${(gradcam.median / torchGradcam).toFixed(2).padStart(21)}  ${(forward.median / ortMedian).toFixed(2).padStart(12)}`,
    );
  }
}

void main();
