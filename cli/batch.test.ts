/**
 * The batch command line as a user runs it (child processes): a folder of 200 images in three class
 * folders plus a damaged file → the CSV and one overlay per image; killed halfway and restarted, it
 * finishes without redoing what was done; `--shard 1/2` and `--shard 2/2` cover every image once.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildTestModel, writeModelFiles } from '../src/test-support/test-models';
import { encodePng } from '../src/engine/node';
import { csvFiles } from '../src/shared/batch-results';
import { listImages, overlayPath, shardOf } from './batch';

const ROOT = resolve(__dirname, '..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');
const CLASSES = ['circles', 'squares', 'stripes'];
const PER_CLASS = 67; // 201 images, one of them damaged

let dir: string;
let images: string;

function image(kind: number, seed: number) {
  const [w, h] = [32, 24];
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      const v = kind === 0 ? Math.hypot(x - 10 - (seed % 7), y - 12) < 6 : kind === 1 ? Math.abs(x - 16) < 5 && Math.abs(y - 8 - (seed % 5)) < 5 : (x + seed) % 6 < 3;
      data.set([v ? 240 : 20, (x * 8 + seed) % 256, (y * 10) % 256, 255], i);
    }
  }
  return { width: w, height: h, data };
}

function run(args: string[], onStderr?: (text: string, kill: () => void) => void): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    // Its own process group: tsx runs node as a child, and a kill must reach both (as a scheduler's would).
    const child = spawn(TSX, ['cli/explain.ts', '--model', join(dir, 'model.json'), '--backend', 'cpu', ...args], { cwd: ROOT, detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      onStderr?.(stderr, () => process.kill(-child.pid!, 'SIGKILL'));
    });
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

function rows(csv: string): string[] {
  return csvFiles(readFileSync(csv, 'utf8'));
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'gradcam-batch-'));
  const { model } = buildTestModel('e');
  await writeModelFiles(model, dir);
  model.dispose();
  images = join(dir, 'images');
  CLASSES.forEach((c, k) => {
    mkdirSync(join(images, c), { recursive: true });
    for (let i = 0; i < PER_CLASS; i++) writeFileSync(join(images, c, `${c}-${String(i).padStart(3, '0')}.png`), encodePng(image(k, i)));
  });
  // A damaged file: its row says why, the rest go on.
  writeFileSync(join(images, 'squares', 'squares-066.png'), encodePng(image(1, 66)).subarray(0, 60));
  writeFileSync(join(images, 'notes.txt'), 'not an image');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run explain -- --images', () => {
  it('lists images under class folders; shards split them exactly', async () => {
    const all = await listImages(images);
    expect(all).toHaveLength(3 * PER_CLASS);
    expect(all[0]).toBe('circles/circles-000.png');
    const a = all.filter((f) => shardOf(f, 2) === 0);
    const b = all.filter((f) => shardOf(f, 2) === 1);
    expect(a.length + b.length).toBe(all.length);
    expect(Math.min(a.length, b.length)).toBeGreaterThan(all.length / 4); // the hash spreads them
  });

  it('killed halfway and restarted, finishes without redoing the done ones; CSV and overlays for all', async () => {
    const out = join(dir, 'out');
    const csv = join(out, 'results.csv');
    let killedAt = 0;
    const first = await run(['--images', images, '--out-dir', out], (stderr, kill) => {
      const done = (stderr.match(/^\[\d+\/\d+\]/gm) ?? []).length;
      if (done >= 60 && !killedAt) {
        killedAt = done;
        kill();
      }
    });
    expect(first.signal, `the first run was killed at ${killedAt} images`).toBe('SIGKILL');
    const afterKill = rows(csv);
    expect(afterKill.length).toBeGreaterThanOrEqual(60);
    expect(afterKill.length).toBeLessThan(3 * PER_CLASS);

    const second = await run(['--images', images, '--out-dir', out]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`${afterKill.length} already in`);
    // The restart explained only the rest: its progress lines count them.
    expect((second.stderr.match(/^\[\d+\/\d+\]/gm) ?? []).length).toBe(3 * PER_CLASS - afterKill.length);
    const all = rows(csv);
    expect(all).toHaveLength(3 * PER_CLASS);
    expect(new Set(all).size).toBe(all.length);
    expect(new Set(all)).toEqual(new Set(await listImages(images)));

    const text = readFileSync(csv, 'utf8').trim().split('\n');
    expect(text[0]).toBe('file,true,predicted,probability,correct,top5,map_mean,map_outside_centre,map_border,error');
    const damaged = text.find((l) => l.startsWith('squares/squares-066.png,'))!;
    expect(damaged).toMatch(/^squares\/squares-066\.png,squares,,,,,,,,"?IMAGE_\w+: /);
    const good = text.find((l) => l.startsWith('circles/circles-000.png,'))!.split(',');
    expect(good[1]).toBe('circles');
    expect(good[2]).toMatch(/^class \d$/);
    expect(Number(good[3])).toBeGreaterThan(0);
    for (const file of all.filter((f) => f !== 'squares/squares-066.png')) expect(existsSync(overlayPath(out, file)), file).toBe(true);
    expect(existsSync(overlayPath(out, 'squares/squares-066.png'))).toBe(false);
    const png = readFileSync(overlayPath(out, 'circles/circles-000.png'));
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([32, 24]); // at the photo's size
  }, 240_000);

  it('--shard 1/2 and --shard 2/2 together cover every image exactly once', async () => {
    const out = join(dir, 'shards');
    const [one, two] = await Promise.all([run(['--images', images, '--out-dir', out, '--shard', '1/2']), run(['--images', images, '--out-dir', out, '--shard', '2/2'])]);
    expect([one.code, two.code]).toEqual([0, 0]);
    const a = rows(join(out, 'results-1-of-2.csv'));
    const b = rows(join(out, 'results-2-of-2.csv'));
    expect(a.filter((f) => b.includes(f))).toEqual([]);
    expect(new Set([...a, ...b])).toEqual(new Set(await listImages(images)));
  }, 240_000);

  it('refuses bad batch arguments with one coded line', async () => {
    const r = await run(['--images', images, '--shard', '3/2', '--out-dir', join(dir, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error \[BAD_ARGUMENT\]: .*--shard takes K\/N/);
    const both = await run(['--images', images, '--image', 'a.png', '--csv', join(dir, 'x.csv')]);
    expect(both.stderr).toMatch(/give --image \(one photo\) or --images/);
  }, 120_000);
});
