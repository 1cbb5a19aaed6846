/**
 * `npm run bench:profile` — where the time of one explanation goes, kernel by kernel, on WASM in
 * Node (with the fast gradient kernels). For finding the next slow kernel, not for figures to quote
 * (tf.profile adds its own overhead; `npm run bench` gives the figures).
 *
 * Usage: npm run bench:profile -- [mobilenet_v2|vgg16|resnet50] [gradcam|guided-backprop|guided-gradcam] [last|early] [--shapes] [--top 25]
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { useBackend, loadedModelFromLayersModel, flattenTree } from '../src/engine';
import type { MethodId } from '../src/shared/methods';
import { BENCH_MODELS, buildBenchModel, type BenchModelName } from './bench-models';

const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--top');
const name = (positional[0] ?? 'mobilenet_v2') as BenchModelName;
const method = (positional[1] ?? 'guided-backprop') as MethodId;
const where = positional[2] === 'early' ? 'early' : 'last';
const byShape = process.argv.includes('--shapes');
const topIndex = process.argv.indexOf('--top');
const top = topIndex >= 0 ? Number(process.argv[topIndex + 1]) : 25;
if (!BENCH_MODELS.includes(name)) throw new Error(`profile: unknown model ${name}; choose from ${BENCH_MODELS.join(', ')}`);

await useBackend('wasm');
const built = buildBenchModel(name);
const loaded = await loadedModelFromLayersModel(built.model, { name });
const size = 224;
const image = { width: size, height: size, data: new Uint8ClampedArray(size * size * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 7919) % 251)) };
const layerName = where === 'early' ? built.earlyLayer : built.lastLayer;
const layerPath = flattenTree(loaded.summary.tree).find((n) => n.name === layerName)?.path;

interface Row { ms: number; calls: number }
async function profile(label: string, run: () => Promise<void>): Promise<void> {
  await run(); // warm-up: XNNPACK operators, rearranged filters
  const t0 = performance.now();
  const info = await tf.profile(run);
  const wall = performance.now() - t0;
  const rows = new Map<string, Row>();
  let total = 0;
  for (const k of info.kernels) {
    const key = byShape ? `${k.name} ${JSON.stringify(k.inputShapes)}` : k.name;
    const row = rows.get(key) ?? { ms: 0, calls: 0 };
    const ms = Number(k.kernelTimeMs);
    row.ms += ms;
    row.calls++;
    total += ms;
    rows.set(key, row);
  }
  console.log(`\n${label}: ${total.toFixed(1)} ms in kernels, ${wall.toFixed(1)} ms wall (profiled)`);
  for (const [key, row] of [...rows].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    console.log(`  ${key.padEnd(byShape ? 60 : 40)} ${row.ms.toFixed(1).padStart(8)} ms ${String(row.calls).padStart(5)} calls`);
  }
}

await profile(`${name} forward`, async () => {
  loaded.clearCache();
  await loaded.predict(image);
});
await profile(`${name} ${method}${method === 'guided-backprop' ? '' : ` at ${layerName}`} (new image)`, async () => {
  loaded.clearCache();
  await loaded.explain(image, { methods: [method], layerPath, target: 0 });
});
loaded.dispose();
