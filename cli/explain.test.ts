/**
 * The CLI as a user runs it: a child process on a tiny model written to a temp dir (always runs), and on
 * the Teachable Machine fixture (skipped without ../shared/fixtures).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildTestModel, testImage, writeModelFiles } from '../src/test-support/test-models';
import { encodePng } from '../src/engine/node';
import { StudioError } from '../src/shared/errors';
import { parseCliArgs, runCli as runInProcess } from './explain';
import { METHODS } from '../src/shared/methods';

const ROOT = process.cwd();
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');
const FIXTURES = resolve(ROOT, '../shared/fixtures');
const hasFixtures = existsSync(resolve(FIXTURES, 'models/tm-gestures/model.json'));

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(TSX, ['cli/explain.ts', ...args], { cwd: ROOT, timeout: 110_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

let dir: string;
let modelName: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'gradcam-cli-'));
  const { model } = buildTestModel('e');
  modelName = model.name;
  await writeModelFiles(model, dir);
  writeFileSync(join(dir, 'photo.png'), encodePng(testImage(40, 30)));
  model.dispose();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run explain', () => {
  it('explains a tiny model: prints the nested default layer and the top classes, writes JSON and PNG', async () => {
    const json = join(dir, 'result.json');
    const out = join(dir, 'overlay.png');
    const r = await runCli(['--model', join(dir, 'model.json'), '--image', join(dir, 'photo.png'), '--class', '2', '--json', json, '--out', out, '--backend', 'cpu']);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`layer: ${modelName}/${modelName}_seq1/${modelName}_model1/${modelName}_model1_out_relu (default)`);
    expect(r.stdout).toMatch(/explained: 2 class 2/);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result.layerPath).toBe(`${modelName}/${modelName}_seq1/${modelName}_model1/${modelName}_model1_out_relu`);
    expect(result.class.index).toBe(2);
    expect(result.top5).toHaveLength(4);
    expect(result.top5[0].probability).toBeGreaterThanOrEqual(result.top5[1].probability);
    expect(result.cam).toHaveLength(8);
    expect(result.cam[0]).toHaveLength(8);
    const flat = (result.cam as number[][]).flat();
    expect(flat.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(typeof result.camRawMax).toBe('number');
    if (result.camRawMax > 0) expect(Math.max(...flat)).toBeCloseTo(1, 5);
    const png = readFileSync(out);
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(40); // IHDR width: the overlay is at the photo's size
    expect(png.readUInt32BE(20)).toBe(30);
  });

  it('writes guided backprop as an RGB PNG at the model input size', async () => {
    const out = join(dir, 'guided.png');
    const r = await runCli(['--model', join(dir, 'model.json'), '--image', join(dir, 'photo.png'), '--method', 'guided-backprop', '--counterfactual', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(counterfactual)');
    expect(readFileSync(out).readUInt32BE(16)).toBe(16);
  });

  it('ends bad arguments and bad files with one coded line and a non-zero exit, no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['--image', 'x.png'], /^error \[BAD_ARGUMENT\]: .*--model is required/],
      [['--model', join(dir, 'missing.json'), '--image', join(dir, 'photo.png')], /^error \[FILE_NOT_FOUND\]/],
      [['--model', join(dir, 'model.json'), '--image', join(dir, 'photo.png'), '--layer', 'no/such/layer', '--backend', 'cpu'], /^error \[LAYER_NOT_FOUND\]/],
    ];
    for (const [args, pattern] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('error ['));
      expect(errorLines, r.stderr).toHaveLength(1);
      expect(errorLines[0]).toMatch(pattern);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
  });

  it('rejects other bad input with coded errors (in process)', async () => {
    const codeOf = async (args: string[]) => {
      try {
        await runInProcess(args, () => undefined);
        return null;
      } catch (e) {
        return e instanceof StudioError ? e.code : String(e);
      }
    };
    const model = join(dir, 'model.json');
    const photo = join(dir, 'photo.png');
    expect(() => parseCliArgs(['--model', model, '--image', photo, '--method', 'nope'])).toThrow(/method must be one of/);
    expect(() => parseCliArgs(['--model', model, '--image', photo, '--bogus'])).toThrow(StudioError);
    expect(() => parseCliArgs(['--model', model, '--image', photo, '--preprocess', 'weird'])).toThrow(/preprocess/);
    expect(parseCliArgs(['--model', model, '--image', photo, '--class', '7', '--resize', 'center-crop'])).toMatchObject({ target: 7, preprocess: { resize: 'center-crop' }, methods: ['gradcam'], backend: 'wasm' });
    expect(parseCliArgs(['--model', model, '--image', photo, '--class', 'Thumbs Up'])).toMatchObject({ target: 'Thumbs Up' });
    expect(await codeOf(['--model', model, '--image', photo, '--class', 'zebra', '--backend', 'cpu'])).toBe('CLASS_NOT_FOUND');
    expect(parseCliArgs(['--model', model, '--image', photo, '--output', '1'])).toMatchObject({ output: 1 });
    expect(() => parseCliArgs(['--model', model, '--image', photo, '--output', 'box'])).toThrow(/--output takes an output number/);
    expect(await codeOf(['--model', model, '--image', photo, '--output', '3', '--backend', 'cpu'])).toBe('OUTPUT_NOT_FOUND');
    expect(await codeOf(['--model', model, '--image', model, '--backend', 'cpu'])).toBe('IMAGE_DECODE_FAILED');
  });

  it('prints and writes the load-time warnings (a broken metadata.json), and refuses degenerate models with their code, not INTERNAL', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'gradcam-cli-warn-'));
    try {
      writeFileSync(join(broken, 'model.json'), readFileSync(join(dir, 'model.json')));
      writeFileSync(join(broken, 'weights.bin'), readFileSync(join(dir, 'weights.bin')));
      writeFileSync(join(broken, 'metadata.json'), '{"labels": ["a", "b"');
      const json = join(broken, 'r.json');
      const r = await runCli(['--model', join(broken, 'model.json'), '--image', join(dir, 'photo.png'), '--json', json, '--backend', 'cpu']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^warning \[MODEL_JSON_INVALID\]: .*metadata\.json is not valid JSON/m);
      const written = JSON.parse(readFileSync(json, 'utf8')) as { warnings: { code: string }[] };
      expect(written.warnings.map((w) => w.code)).toContain('MODEL_JSON_INVALID');

      const modelJson = readFileSync(join(dir, 'model.json'), 'utf8');
      const degenerate: [RegExp, string, string][] = [
        [/"batch_input_shape":\[null,16,16,3\]/g, '"batch_input_shape":[null,1,1,3]', 'INPUT_SIZE_INVALID'],
        [/"batch_input_shape":\[null,16,16,3\]/g, '"batch_input_shape":[null,-4,16,3]', 'INPUT_SIZE_INVALID'],
        [/"batch_input_shape":\[null,16,16,3\]/g, '"batch_input_shape":[null,100000,100000,3]', 'INPUT_SIZE_INVALID'],
        [/"strides":\[1,1\]/, '"strides":[0,0]', 'MODEL_CONFIG_INVALID'],
      ];
      rmSync(join(broken, 'metadata.json'));
      for (const [from, to, code] of degenerate) {
        const edited = modelJson.replace(from, to);
        expect(edited).not.toBe(modelJson);
        writeFileSync(join(broken, 'model.json'), edited);
        const e = await runCli(['--model', join(broken, 'model.json'), '--image', join(dir, 'photo.png'), '--backend', 'cpu']);
        expect(e.code, to).toBe(1);
        expect(e.stderr).toMatch(new RegExp(`^error \\[${code}\\]`, 'm'));
      }
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it('every registry method by --method and --methods, option flags from the registry, one map per method in the JSON', async () => {
    const model = join(dir, 'model.json');
    const photo = join(dir, 'photo.png');
    // The usage line lists every method id, and every option of the registry is a flag.
    const help: string[] = [];
    await runInProcess(['--help'], (l) => help.push(l));
    for (const m of METHODS) expect(help.join('\n')).toContain(m.id);
    expect(help.join('\n')).toMatch(/--method gradcam\|gradcam-plus-plus\|/);
    expect(help.join('\n')).toContain('--batch-size N');
    expect(help.join('\n')).toContain('--baseline black|zero|blurred|mean');
    expect(parseCliArgs(['--model', model, '--image', photo, '--methods', 'smoothgrad,integrated-gradients', '--samples', '4', '--steps', '8', '--baseline', 'mean', '--batch-size', '2'])).toMatchObject({
      methods: ['smoothgrad', 'integrated-gradients'],
      methodOptions: { smoothgrad: { samples: 4, batchSize: 2 }, 'integrated-gradients': { steps: 8, baseline: 'mean', batchSize: 2 } },
    });
    expect(() => parseCliArgs(['--model', model, '--image', photo, '--method', 'gradcam', '--samples', '4'])).toThrow(/--samples applies to smoothgrad/);
    expect(() => parseCliArgs(['--model', model, '--image', photo, '--method', 'smoothgrad', '--samples', '0'])).toThrow(/samples must be an integer from 1/);
    expect(() => parseCliArgs(['--model', model, '--image', photo, '--methods', 'gradcam,nope'])).toThrow(/--methods must be one of gradcam/);

    const json = join(dir, 'many.json');
    const out = join(dir, 'many.png');
    const lines: string[] = [];
    const ids = ['gradcam', 'scorecam', 'ablationcam', 'guided-backprop', 'integrated-gradients'];
    await runInProcess(['--model', model, '--image', photo, '--methods', ids.join(','), '--steps', '8', '--json', json, '--out', out, '--backend', 'cpu'], (l) => lines.push(l));
    const result = JSON.parse(readFileSync(json, 'utf8')) as { methods: string[]; maps: Record<string, { kind: string; settings: Record<string, unknown>; map?: number[][] }> };
    expect(result.methods).toEqual(ids);
    expect(Object.keys(result.maps)).toEqual(ids);
    expect(result.maps.gradcam!.kind).toBe('heatmap');
    expect(result.maps['guided-backprop']!.kind).toBe('rgb');
    expect(result.maps['integrated-gradients']!.settings).toMatchObject({ steps: 8, baseline: 'black' });
    expect(result.maps.scorecam!.map!.flat().every((v) => v >= 0 && v <= 1)).toBe(true);
    for (const id of ids) expect(lines).toContain(`wrote ${join(dir, `many-${id}.png`)}`);
    expect(lines.filter((l) => l.startsWith('explained:'))).toHaveLength(ids.length);
  });

  it('--layers fuses the CAM maps of several layers (one fused map, both layers named)', async () => {
    const json = join(dir, 'fused.json');
    const inner = `${modelName}/${modelName}_seq1/${modelName}_model1`;
    const layers = [`${inner}/${modelName}_model1_out_relu`, `${inner}/${modelName}_model1_relu1`];
    const lines: string[] = [];
    await runInProcess(['--model', join(dir, 'model.json'), '--image', join(dir, 'photo.png'), '--layers', layers.join(','), '--json', json, '--backend', 'cpu'], (l) => lines.push(l));
    const result = JSON.parse(readFileSync(json, 'utf8')) as { layerPaths: string[]; maps: { gradcam: { layerPaths: string[]; settings: { fusedLayers?: number } } } };
    expect(result.maps.gradcam.layerPaths).toEqual(layers);
    expect(result.maps.gradcam.settings.fusedLayers).toBe(2);
    expect(lines.find((l) => l.startsWith('layer:'))).toBe(`layer: ${layers.join(' + ')}`);
  });

  it('--metrics adds each method\'s scores and curve points to the JSON; --sanity prints the similarity per step', async () => {
    const json = join(dir, 'metrics.json');
    const lines: string[] = [];
    const args = ['--model', join(dir, 'model.json'), '--image', join(dir, 'photo.png'), '--methods', 'gradcam,guided-backprop', '--metrics', '--metrics-steps', '10', '--metrics-baseline', 'mean', '--sanity', '--json', json, '--backend', 'cpu'];
    await runInProcess(args, (l) => lines.push(l));
    type Scores = { deletion: { x: number[]; y: number[]; auc: number }; insertion: { y: number[]; auc: number }; road: { morf: number[]; combined: number }; confidenceChange: number };
    const result = JSON.parse(readFileSync(json, 'utf8')) as {
      class: { probability: number };
      maps: Record<string, { faithfulness: Scores }>;
      faithfulness: { probability: number; settings: { steps: number; baseline: string }; references: Record<string, Scores> };
      sanity: { steps: { label: string }[]; methods: Record<string, { spearman: number[]; ssim: number[] }> };
    };
    for (const id of ['gradcam', 'guided-backprop']) {
      const s = result.maps[id]!.faithfulness;
      expect(s.deletion.x).toHaveLength(11);
      expect(s.deletion.y[0]).toBeCloseTo(result.class.probability, 4);
      expect(s.insertion.y[10]).toBeCloseTo(result.class.probability, 4);
      expect(s.road.morf).toHaveLength(9);
    }
    expect(result.faithfulness.settings).toEqual({ steps: 10, baseline: 'mean' });
    expect(Object.keys(result.faithfulness.references).sort()).toEqual(['centre', 'random']);
    expect(lines.some((l) => /^ {2}Grad-CAM: deletion \d\.\d{3} · insertion \d\.\d{3}/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('  Random map (reference): deletion'))).toBe(true);
    // Sanity: the original, then one step per conv / dense layer, head first.
    expect(result.sanity.steps[0]!.label).toBe('original');
    expect(result.sanity.methods.gradcam!.spearman).toHaveLength(result.sanity.steps.length);
    expect(lines.filter((l) => /^ {2}\d+ .*gradcam -?\d\.\d{3} \/ -?\d\.\d{3} · guided-backprop/.test(l))).toHaveLength(result.sanity.steps.length);
    await expect(runInProcess([...args.slice(0, 4), '--metrics', '--metrics-steps', '1'], () => undefined)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  it.skipIf(!hasFixtures)(`explains the Teachable Machine export with no --layer (skipped without ${FIXTURES})`, async () => {
    const out = join(dir, 'tm.png');
    const r = await runCli(['--model', resolve(FIXTURES, 'models/tm-gestures/model.json'), '--image', resolve(FIXTURES, 'images/skimage_astronaut.png'), '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^layer: \S+\/sequential_1\/model1\/out_relu \(default\)$/m);
    expect(r.stdout).toMatch(/top-5:\n(.*(Peace|Stop|Thumbs Up).*\n){3}/);
    expect(readFileSync(out).readUInt32BE(16)).toBe(512);
  });

  const hasGraphFixture = existsSync(resolve(FIXTURES, 'models/graph-human-antispoof/antispoof.json'));
  it.skipIf(!hasGraphFixture)(`a graph model with one sigmoid unit: --class "not real" (skipped without ${FIXTURES})`, async () => {
    // The model's files and a labels.txt beside them, as a user keeps them.
    const modelDir = join(dir, 'antispoof');
    mkdirSync(modelDir, { recursive: true });
    for (const name of ['antispoof.json', 'antispoof.bin']) copyFileSync(resolve(FIXTURES, 'models/graph-human-antispoof', name), join(modelDir, name));
    writeFileSync(join(modelDir, 'labels.txt'), 'real\n');
    const json = join(dir, 'antispoof.json');
    const r = await runCli(['--model', join(modelDir, 'antispoof.json'), '--image', resolve(FIXTURES, 'images/skimage_astronaut.png'), '--class', 'not real', '--preprocess', 'unit', '--json', json]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^model: antispoof \(tfjs-graph\)/m);
    expect(r.stdout).toMatch(/^layer: antispoof\/sequential\/activation_2 \(default\)$/m);
    expect(r.stdout).toMatch(/^\s+[\d.]+%\s+1\s+not real$/m);
    expect(r.stdout).toMatch(/^explained: 1 not real/m);
    const result = JSON.parse(readFileSync(json, 'utf8')) as { top5: { label: string; probability: number }[] };
    expect(result.top5.reduce((sum, p) => sum + p.probability, 0)).toBeCloseTo(1, 5);
  });
});
