/**
 * `npm run explain -- --model x.onnx`: the CLI on a PyTorch export (test-fixtures/onnx), as a user
 * runs it (a child process). Skips when the fixture is absent.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testImage } from '../src/test-support/test-models';
import { encodePng } from '../src/engine/node/image';

const ROOT = process.cwd();
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');
const MODEL = resolve(ROOT, 'test-fixtures/onnx/resnet18-op17.onnx');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gradcam-cli-onnx-'));
  writeFileSync(join(dir, 'photo.png'), encodePng(testImage(80, 60)));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!existsSync(MODEL))('npm run explain -- --model x.onnx', () => {
  it('explains the PyTorch export at layer4.1 with torchvision preprocessing and writes the overlay', async () => {
    const json = join(dir, 'result.json');
    const out = join(dir, 'overlay.png');
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(TSX, ['cli/explain.ts', '--model', MODEL, '--image', join(dir, 'photo.png'), '--json', json, '--out', out, '--backend', 'cpu'], { cwd: ROOT, timeout: 110_000 }, (error, stdout, stderr) => {
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(onnx), input 112×112×3');
    expect(r.stdout).toContain('preprocessing imagenet + center-crop');
    expect(r.stdout).toContain('layer: resnet18-op17/layer4/layer4.1 (default)');
    expect(JSON.parse(readFileSync(json, 'utf8')).layerPath).toBe('resnet18-op17/layer4/layer4.1');
    expect(readFileSync(out).subarray(1, 4).toString()).toBe('PNG');
  }, 120_000);
});
