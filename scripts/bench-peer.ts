/**
 * `npm run bench:peer` — the app against PyTorch on the same machine, in one run.
 *
 * Our side: the built app in headless Chromium (WASM, `?threads=N`), the bench models of
 * `npm run bench` (MobileNetV2, VGG16, ResNet50 shapes, 224×224), timed by the app's worker.
 * PyTorch's side: scripts/bench-peer.py — torchvision's same three architectures on the CPU with N
 * threads, Grad-CAM and guided backprop done the way pytorch-grad-cam does them (full backward).
 * The two are interleaved round by round (ours, then PyTorch's, per model and round), so both see the
 * same machine state; PyTorch runs with OMP_WAIT_POLICY=PASSIVE so that its idle threads do not spin
 * on the cores while the browser works.
 *
 * Needs Debian's python3-torch and python3-torchvision (`apt-get install -y python3-torch
 * python3-torchvision`: PyTorch 1.13 CPU); without them it says so and exits 0.
 *
 * Usage: npm run bench:peer [-- --models mobilenet_v2,vgg16,resnet50 --rounds 4 --runs 2 --threads 2
 *   --python /usr/bin/python3 --out bench-report-peer.json --dist dist]
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { chromium } from 'playwright-core';
import * as tf from '@tensorflow/tfjs';
import type { BenchCase } from '../src/protocol';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/helpers';
import { BENCH_MODELS, type BenchModelName } from './bench-models';
import { argument, benchImage, benchmarkIn, ensureModelFiles, MODEL_DIR, openBenchModel, ORIGIN, PORT, preparePage, startPreviewOf, type Studio } from './bench-page';
import { peerRows, peerMarkdown, peerTargetMisses, type PeerTimings } from './bench-peer-table';
import { stats } from './bench-stats';
import { startPreview, stopPreview, waitForServer } from './preview-server';

const PEER_CASES = ['forward', 'gradcam_last', 'guided_backprop'] as const;

/** The PyTorch process: one JSON request per line, one answer per line. */
class PythonPeer {
  private readonly lines: AsyncIterator<string>;
  private readonly reader: Interface;

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.reader = createInterface({ input: child.stdout });
    this.lines = this.reader[Symbol.asyncIterator]();
    child.stderr.on('data', (d: Buffer) => process.stderr.write(`  [python] ${d.toString()}`));
  }

  async ask<T>(request: Record<string, unknown>): Promise<T> {
    this.child.stdin.write(`${JSON.stringify(request)}\n`);
    const next = await this.lines.next();
    if (next.done) throw new Error('bench:peer: the Python process ended');
    const answer = JSON.parse(next.value) as T & { error?: string };
    if (answer.error) throw new Error(`bench:peer (python): ${answer.error}`);
    return answer;
  }

  close(): void {
    this.reader.close();
    this.child.stdin.end();
    this.child.kill();
  }
}

function torchMissing(python: string): string | null {
  const probe = spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (probe.error) return `${python} cannot be run (${probe.error.message})`;
  if (probe.status !== 0) return (probe.stderr.trim().split('\n').pop() ?? 'import failed').slice(0, 200);
  return null;
}

async function main(): Promise<void> {
  const python = argument('python', '/usr/bin/python3');
  const missing = torchMissing(python);
  if (missing) {
    console.log(`bench:peer skipped: PyTorch is not available to ${python} (${missing}).`);
    console.log('Install Debian\'s PyTorch 1.13 (CPU) and torchvision with: apt-get install -y python3-torch python3-torchvision');
    console.log('(or pass --python /path/to/python3 whose torch and torchvision import)');
    return;
  }
  const models = argument('models', BENCH_MODELS.join(',')).split(',') as BenchModelName[];
  for (const m of models) if (!BENCH_MODELS.includes(m)) throw new Error(`bench:peer: unknown model ${m}; choose from ${BENCH_MODELS.join(', ')}`);
  const rounds = Number(argument('rounds', '4'));
  const runs = Number(argument('runs', '2'));
  const threads = Number(argument('threads', '2'));
  const out = argument('out', 'bench-report-peer.json');

  await tf.setBackend('cpu'); // building and saving the bench models only
  mkdirSync(MODEL_DIR, { recursive: true });
  writeFileSync(join(MODEL_DIR, 'image.png'), benchImage());
  const files = new Map<BenchModelName, Awaited<ReturnType<typeof ensureModelFiles>>>();
  for (const m of models) files.set(m, await ensureModelFiles(m));

  const peer = new PythonPeer(spawn(python, [join(import.meta.dirname, 'bench-peer.py')], { env: { ...process.env, PEER_THREADS: String(threads), OMP_WAIT_POLICY: 'PASSIVE' } }));
  const dist = argument('dist', 'dist');
  const preview = dist === 'dist' ? startPreview(PORT) : startPreviewOf(dist, PORT);
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  const timings: PeerTimings[] = [];
  let ours = '';
  let theirs: string;
  try {
    const info = await peer.ask<{ torch: string; torchvision: string; threads: number; mkldnn: boolean }>({ cmd: 'info' });
    theirs = `PyTorch ${info.torch} (torchvision ${info.torchvision}), CPU, ${info.threads} threads${info.mkldnn ? ', oneDNN' : ''}`;
    await waitForServer(`${ORIGIN}/`, 60_000);
    for (const m of models) {
      const page = await browser.newPage({ serviceWorkers: 'block' });
      try {
        await preparePage(page, threads);
        const backend = await page.evaluate(() => (window as unknown as { __studio: Studio }).__studio.client.backend!);
        if (backend.name !== 'wasm') throw new Error(`bench:peer: the app started ${backend.name}, not wasm`);
        const threadCount = backend.threads ?? 1;
        ours = `Grad-CAM Studio, WASM (${threadCount} thread${threadCount === 1 ? '' : 's'}), ${browser.version()}`;
        const model = files.get(m)!;
        const paths = await openBenchModel(page, m, model.files);
        const last = paths[model.lastLayer];
        if (!last) throw new Error(`bench:peer: ${model.lastLayer} not in the tree`);
        await peer.ask({ cmd: 'load', model: m });
        const cases: BenchCase[] = [
          { label: 'forward', methods: 'forward' },
          { label: 'gradcam_last', methods: ['gradcam'], layerPath: last },
          { label: 'guided_backprop', methods: ['guided-backprop'] },
        ];
        const row: PeerTimings = { model: m, ours: {}, peer: {} };
        for (const c of PEER_CASES) {
          row.ours[c] = [];
          row.peer[c] = [];
        }
        for (let round = 0; round < rounds; round++) {
          const result = await benchmarkIn(page, { runs, cases });
          for (const c of result.cases) row.ours[c.label as (typeof PEER_CASES)[number]]!.push(...c.runs);
          for (const c of PEER_CASES) row.peer[c]!.push(...(await peer.ask<{ ms: number[] }>({ cmd: 'time', model: m, case: c, runs })).ms);
          console.log(`  ${m} round ${round + 1}/${rounds}: ` + PEER_CASES.map((c) => `${c} ${stats(row.ours[c]!).median} / ${stats(row.peer[c]!).median} ms`).join(', '));
        }
        timings.push(row);
      } finally {
        await page.close().catch(() => undefined);
      }
    }
  } finally {
    peer.close();
    await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 30_000))]);
    stopPreview(preview);
  }
  const rows = peerRows(timings);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, no GPU`;
  console.log(`\nmachine: ${machine}\nours: ${ours}\nPyTorch: ${theirs}\n${rounds} rounds × ${runs} runs each, interleaved; median ms (fastest)\n`);
  console.log(peerMarkdown(rows));
  const misses = peerTargetMisses(rows);
  console.log(misses.length ? `\nTargets MISSED:\n  ${misses.join('\n  ')}` : '\nTargets met: Grad-CAM at the last conv faster than PyTorch (ratio < 1) on every model, guided backprop within 1.5×.');
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine, ours, peer: theirs, rounds, runs, threads, rows, timings, targetsMissed: misses }, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

await main();
