/**
 * The batch command line against what goes wrong on real disks (child processes, as a user runs it):
 * a last row torn by a kill, hostile file names across restarts, two runs on one CSV, a Hugging
 * Face-style snapshot where every file is a symbolic link, and an --out-dir that is a file.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildTestModel, writeModelFiles } from '../src/test-support/test-models';
import { encodePng } from '../src/engine/node/image';
import { csvFiles } from '../src/shared/batch-results';
import { listImages } from './batch';

const ROOT = resolve(__dirname, '..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');
// Hostile names: a newline, a quote and a comma, a spreadsheet formula, a leading apostrophe.
const NAMES = ['plain.png', 'new\nline.png', 'quote "and", comma.png', '=HYPERLINK("x","y").png', "'apostrophe.png", '-minus.png'];

let dir: string;
let images: string;

function picture(seed: number) {
  const [w, h] = [20, 16];
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set([(i * 7 + seed * 40) % 256, (i * 3) % 256, seed * 30, 255], i * 4);
  return encodePng({ width: w, height: h, data });
}

interface RunResult { code: number | null; signal: string | null; stdout: string; stderr: string }

function run(args: string[], options: { model?: string; onStderr?: (text: string, pid: number) => void } = {}): Promise<RunResult> {
  return new Promise((done) => {
    const child = spawn(TSX, ['cli/explain.ts', '--model', options.model ?? join(dir, 'model', 'model.json'), '--backend', 'cpu', ...args], { cwd: ROOT, detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (child.pid) options.onStderr?.(stderr, child.pid);
    });
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

const progressLines = (r: RunResult) => (r.stderr.match(/^\[\d+\/\d+\]/gm) ?? []).length;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'gradcam-batch-rel-'));
  mkdirSync(join(dir, 'model'));
  const { model } = buildTestModel('e');
  await writeModelFiles(model, join(dir, 'model'));
  model.dispose();
  images = join(dir, 'images');
  mkdirSync(images, { recursive: true });
  // At the folder's top, so that each name is the whole first cell (a formula name is not behind a folder).
  NAMES.forEach((name, i) => writeFileSync(join(images, name), picture(i)));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('batch command line on real disks', () => {
  it('hostile names: each once across three restarts; a torn last row is redone, every image exactly once', async () => {
    const out = join(dir, 'out-names');
    const csv = join(out, 'results.csv');
    const expected = (await listImages(images)).sort();
    expect(expected).toHaveLength(NAMES.length);
    for (let restart = 0; restart < 3; restart++) {
      const r = await run(['--images', images, '--out-dir', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(progressLines(r)).toBe(restart === 0 ? NAMES.length : 0);
      expect(csvFiles(readFileSync(csv, 'utf8')).sort()).toEqual(expected);
    }
    // A kill mid-append leaves half a row (here: cut inside the last row).
    const whole = readFileSync(csv, 'utf8');
    const lastFile = csvFiles(whole).at(-1);
    writeFileSync(csv, whole.slice(0, whole.length - 12));
    const resumed = await run(['--images', images, '--out-dir', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/last row .* cut short/);
    expect(progressLines(resumed)).toBe(1);
    expect(resumed.stderr).toContain(`${lastFile?.split('\n')[0]}`);
    const files = csvFiles(readFileSync(csv, 'utf8'));
    expect(files.sort()).toEqual(expected); // each exactly once: nothing lost, nothing glued, nothing twice
    // The formula name lands as text: no cell of the file column starts with =.
    const text = readFileSync(csv, 'utf8');
    expect(text).toContain(`\n"'=HYPERLINK(""x"",""y"").png",`);
    expect(text).toContain("\n''apostrophe.png,");
  }, 300_000);

  it('a second run on the same CSV refuses with BATCH_LOCKED while the first holds it', async () => {
    const out = join(dir, 'out-lock');
    let second: RunResult | null = null;
    // The first run is stopped (SIGSTOP) after its first image, so it certainly still holds the lock
    // whatever the machine's speed; the second runs against it, then the first is resumed.
    const first = run(['--images', images, '--out-dir', out], {
      onStderr: (text, pid) => {
        if (second === null && /^\[1\//m.test(text)) {
          second = { code: -1, signal: null, stdout: '', stderr: '' };
          process.kill(-pid, 'SIGSTOP');
          void run(['--images', images, '--out-dir', out]).then((r) => {
            second = r;
            process.kill(-pid, 'SIGCONT');
          });
        }
      },
    });
    const firstResult = await first;
    expect(firstResult.code, firstResult.stderr).toBe(0);
    const refused = second as RunResult | null;
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toMatch(/error \[BATCH_LOCKED\]: .*results\.csv is being written by another run \(process \d+\)/);
    expect(csvFiles(readFileSync(join(out, 'results.csv'), 'utf8'))).toHaveLength(NAMES.length);
    expect(existsSync(join(out, 'results.csv.lock'))).toBe(false); // released at the end
  }, 300_000);

  it('a Hugging Face-style snapshot (every file a link into blobs/) explains; linked images and class folders count', async () => {
    const snap = join(dir, 'hub');
    mkdirSync(join(snap, 'blobs'), { recursive: true });
    mkdirSync(join(snap, 'snapshots', 'rev1'), { recursive: true });
    for (const [name, hash] of [['model.json', 'b1'], ['weights.bin', 'b2']] as const) {
      renameSync(join(dir, 'model', name), join(snap, 'blobs', hash));
      symlinkSync(`../../blobs/${hash}`, join(snap, 'snapshots', 'rev1', name));
    }
    const linked = join(dir, 'linked-images');
    mkdirSync(join(linked, 'dogs'), { recursive: true });
    symlinkSync(images, join(linked, 'cats')); // a linked class folder
    symlinkSync(join(images, 'plain.png'), join(linked, 'dogs', 'linked.png')); // a linked image
    symlinkSync('..', join(linked, 'dogs', 'loop')); // a loop: walked once
    const r = await run(['--images', linked, '--out-dir', join(dir, 'out-hub')], { model: join(snap, 'snapshots', 'rev1', 'model.json') });
    expect(r.code, r.stderr).toBe(0);
    const files = csvFiles(readFileSync(join(dir, 'out-hub', 'results.csv'), 'utf8'));
    expect(files).toHaveLength(NAMES.length + 1);
    expect(files).toContain('dogs/linked.png');
    expect(readFileSync(join(dir, 'out-hub', 'results.csv'), 'utf8')).not.toMatch(/INTERNAL|NO_MODEL_FILE|FILE_NOT_FOUND/);
    // Put the model back for any later test.
    for (const [name, hash] of [['model.json', 'b1'], ['weights.bin', 'b2']] as const) {
      rmSync(join(snap, 'snapshots', 'rev1', name));
      renameSync(join(snap, 'blobs', hash), join(dir, 'model', name));
    }
  }, 300_000);

  it('--out-dir naming a file: a coded error before any row or CSV is written', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = await run(['--images', images, '--out-dir', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error \[NOT_A_FOLDER\]: .*a-file exists and is not a folder/m);
    expect(r.stderr).not.toMatch(/INTERNAL|^\[\d/m);
    const below = await run(['--images', images, '--out-dir', join(file, 'sub')]);
    expect(below.stderr).toMatch(/^error \[(NOT_A_FOLDER|FILE_NOT_FOUND)\]/m);
    const missing = await run(['--images', join(dir, 'no-such-folder'), '--out-dir', join(dir, 'out-missing')]);
    expect(missing.stderr).toMatch(/^error \[FILE_NOT_FOUND\]: .*no-such-folder/m);
  }, 300_000);
});
