/**
 * ONNX exports of torchvision families (test-fixtures/onnx, made by scripts/onnx-fixtures.py with
 * Debian's PyTorch) against PyTorch's own numbers: logits, Grad-CAM at the default and an inner
 * module (pytorch-grad-cam's formula with hooks), guided backprop (the ReLU backward rule).
 * Skips a fixture whose files are absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerFastWasmGradients } from '../kernels/wasm-gradients';
import { runForward } from '../executor/forward';
import { createContext } from '../methods/context';
import { METHOD_IMPLEMENTATIONS } from '../methods/index';
import { pearson } from '../../test-support/method-reference';
import { buildLayerTree, defaultLayerPath, flattenTree } from '../tree';
import { decodeOnnxModel, type OnnxModel } from './onnx-proto';
import { buildOnnxProgram, slotOfOnnxTensor, type OnnxProgram } from './load-onnx';
import { attentionRollout, findAttention, gradientRollout, type HeadFusion } from './attention-rollout';
import { gradientAt } from '../executor/gradient';

const DIR = resolve(process.cwd(), 'test-fixtures/onnx');
const FAMILIES = ['resnet18', 'mobilenet_v2', 'mobilenet_v3_small', 'efficientnet_b0', 'densenet121', 'regnet_y_400mf', 'squeezenet1_1', 'convnext_tiny', 'vit', 'swin'];

interface Reference {
  inputShapeNCHW: number[];
  inputNHWC: string;
  logits: number[];
  target: number;
  defaultModule: string;
  cams: Array<{ module: string; target: number; cam: number[][] }>;
  guidedNHWC: string;
  onnx: Record<string, string>;
}

function floats(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/**
 * The exporter's scopes of a PyTorch module path: a named child by its name, an indexed one dotted
 * back to the last name (features.4.1 → features/features.4/features.4.1, trunk_output.block3 →
 * trunk_output/block3). The tree shows the module at the same path.
 */
function moduleScopes(module: string): string[] {
  const parts = module.split('.');
  return parts.map((part, i) => {
    let j = i;
    while (j > 0 && /^\d+$/.test(parts[j] ?? '')) j--;
    return /^\d+$/.test(part) ? parts.slice(j, i + 1).join('.') : part;
  });
}

/** A PyTorch module's output in the export: the last node under its scope (`layer4` → `/layer4/…`). */
function moduleOutput(model: OnnxModel, module: string): string {
  const prefix = `/${moduleScopes(module).join('/')}/`;
  const nodes = model.nodes.filter((n) => n.name.startsWith(prefix));
  const last = nodes[nodes.length - 1];
  if (!last?.outputs[0]) throw new Error(`no node under ${prefix}`);
  return last.outputs[0];
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastWasmGradients();
});

for (const family of FAMILIES) {
  const refPath = resolve(DIR, `${family}.json`);
  const ref: Reference | null = existsSync(refPath) ? (JSON.parse(readFileSync(refPath, 'utf8')) as Reference) : null;
  for (const opset of ['13', '17']) {
    const file = ref ? resolve(DIR, ref.onnx[opset] ?? '') : '';
    describe.skipIf(!ref || !existsSync(file))(`${family} opset ${opset} against PyTorch`, () => {
      let model: OnnxModel;
      let built: OnnxProgram;
      let x: tf.Tensor4D;
      let values: Array<tf.Tensor | undefined>;

      beforeAll(() => {
        model = decodeOnnxModel(new Uint8Array(readFileSync(file)));
        built = buildOnnxProgram(model, family);
        const [, , h = 0, w = 0] = ref!.inputShapeNCHW;
        x = tf.tensor4d(floats(ref!.inputNHWC), [1, h, w, 3]);
        values = tf.tidy(() => runForward(built.host.program, x.clone()));
      });

      it('gives PyTorch\'s logits (max |diff| ≤ 1e-4 × max |logit|)', () => {
        const out = values[built.host.program.outputSlots[0]!]!;
        const ours = Array.from(out.dataSync());
        const scale = Math.max(...ref!.logits.map(Math.abs));
        const diff = Math.max(...ours.map((v, i) => Math.abs(v - (ref!.logits[i] ?? NaN))));
        console.log(`${family} op${opset}: logits max|diff| ${diff.toExponential(2)} (max |logit| ${scale.toFixed(3)})`);
        expect(ours).toHaveLength(ref!.logits.length);
        expect(diff).toBeLessThanOrEqual(1e-4 * scale);
      });

      it('the app\'s fast forward pass (conv + bias + relu as one fused kernel) gives the same logits', () => {
        const program = built.host.program;
        const fast = tf.tidy(() => runForward(program, x.clone(), { fast: true, compiled: true }));
        const slot = program.outputSlots[0] ?? -1;
        const ours = Array.from(fast[slot]?.dataSync() ?? []);
        tf.dispose(fast.filter((v): v is tf.Tensor => !!v));
        const scale = Math.max(...ref!.logits.map(Math.abs));
        expect(ours).toHaveLength(ref!.logits.length);
        expect(Math.max(...ours.map((v, i) => Math.abs(v - (ref!.logits[i] ?? NaN))))).toBeLessThanOrEqual(1e-4 * scale);
      });

      // ViT's attention reshapes write the traced batch of 1 inside their targets ([N, 1·heads, d]), and
      // the exporter turned a seq-first ↔ batch-first transpose into a plain reshape ([N·1, E] →
      // [N, 1, E]): with a batch of B there is no reshape that gives PyTorch's result, so
      // transformers run one image at a time.
      it.skipIf(family === 'vit')('a batch of two images gives each image\'s logits (the gallery runs batches)', () => {
        const program = built.host.program;
        const pair = tf.tidy(() => runForward(program, tf.concat([x, tf.reverse(x, 2)])));
        const flipped = tf.tidy(() => runForward(program, tf.reverse(x, 2)));
        const slot = program.outputSlots[0] ?? -1;
        const both = Array.from(pair[slot]?.dataSync() ?? []);
        const expected = [...Array.from(values[slot]?.dataSync() ?? []), ...Array.from(flipped[slot]?.dataSync() ?? [])];
        tf.dispose([...pair, ...flipped].filter((v): v is tf.Tensor => !!v));
        expect(both).toHaveLength(expected.length);
        const scale = Math.max(...expected.map(Math.abs));
        expect(Math.max(...both.map((v, i) => Math.abs(v - (expected[i] ?? NaN))))).toBeLessThanOrEqual(1e-4 * scale);
      });

      it('Grad-CAM at the default and an inner module equals PyTorch\'s (Pearson ≥ 0.999)', async () => {
        for (const [i, cam] of ref!.cams.entries()) {
          // The default module's map is taken where the app's default layer is (checked below to be that module).
          const defaultPath = defaultLayerPath(built.host.program);
          const slot = i === 0 && defaultPath ? built.host.program.slotsByPath.get(defaultPath) : built.host.program.slotsByPath.get(`${family}/${moduleScopes(cam.module).join('/')}`);
          expect(slot, cam.module).toBeDefined();
          const owned = createContext({ program: built.host.program, values, classIndex: cam.target, sign: 1, path: 'fast', slot: slot! });
          try {
            const map = (await METHOD_IMPLEMENTATIONS.gradcam.run(owned.ctx)) as tf.Tensor;
            const ours = map.dataSync();
            map.dispose();
            const theirs = cam.cam.flat();
            expect(ours.length).toBe(theirs.length);
            const r = pearson(Float32Array.from(ours), Float32Array.from(theirs));
            console.log(`${family} op${opset}: Grad-CAM at ${cam.module} (${cam.cam.length}×${cam.cam[0]?.length}, class ${cam.target}) 1 − r = ${(1 - r).toExponential(1)}`);
            expect(r).toBeGreaterThanOrEqual(0.999);
          } finally {
            owned.dispose();
          }
        }
      });

      it('guided backprop equals PyTorch\'s (Pearson ≥ 0.999)', () => {
        const owned = createContext({ program: built.host.program, values, classIndex: ref!.target, sign: 1, path: 'fast' });
        try {
          const ours = owned.ctx.guidedGradient().dataSync();
          const r = pearson(Float32Array.from(ours), floats(ref!.guidedNHWC));
          console.log(`${family} op${opset}: guided backprop 1 − r = ${(1 - r).toExponential(1)}`);
          expect(r).toBeGreaterThanOrEqual(0.999);
        } finally {
          owned.dispose();
        }
      });

      it('defaults to the module a pytorch-grad-cam user picks', () => {
        const program = built.host.program;
        const path = defaultLayerPath(program);
        expect(path).not.toBeNull();
        const slot = program.slotsByPath.get(path!);
        if (path === `${family}/${moduleScopes(ref!.defaultModule).join('/')}`) return;
        const output = moduleOutput(model, ref!.defaultModule);
        // DenseNet applies F.relu after `features` outside any module: the default is that ReLU's output.
        const relu = model.nodes.find((n) => n.opType === 'Relu' && n.inputs[0] === output && !n.name.includes(`/${ref!.defaultModule}/`));
        const expected = [output, ...(relu?.outputs[0] ? [relu.outputs[0]] : [])].map((t) => slotOfOnnxTensor(built, t));
        expect(expected).toContain(slot);
      });
    });
  }
}

interface VitReference extends Reference {
  rollout: Array<{ fusion: HeadFusion; discard: number; map: number[][] }>;
  gradRollout: number[][];
}

const vitRef = existsSync(resolve(DIR, 'vit.json')) ? (JSON.parse(readFileSync(resolve(DIR, 'vit.json'), 'utf8')) as VitReference) : null;
for (const opset of ['13', '17']) {
  const file = vitRef ? resolve(DIR, vitRef.onnx[opset] ?? '') : '';
  describe.skipIf(!vitRef || !existsSync(file))(`vit opset ${opset}: attention maps against PyTorch`, () => {
    it('finds the 3 blocks\' attention on an 8×8 grid + the class token; rollout (4 settings) and gradient-weighted rollout equal PyTorch\'s (Pearson ≥ 0.999)', () => {
      const built = buildOnnxProgram(decodeOnnxModel(new Uint8Array(readFileSync(file))), 'vit');
      const [, , h = 0, w = 0] = vitRef!.inputShapeNCHW;
      const x = tf.tensor4d(floats(vitRef!.inputNHWC), [1, h, w, 3]);
      const program = built.host.program;
      const values = tf.tidy(() => runForward(program, x));
      try {
        const site = findAttention(program, values)!;
        expect(site).toMatchObject({ grid: [8, 8], extra: 1 });
        expect(site.slots).toHaveLength(3);
        const atts = site.slots.map((s) => values[s]!);
        for (const ref of vitRef!.rollout) {
          const map = attentionRollout(atts, site, ref.fusion, ref.discard);
          const r = pearson(Float32Array.from(map.dataSync()), Float32Array.from(ref.map.flat()));
          map.dispose();
          console.log(`vit op${opset}: rollout ${ref.fusion} discard ${ref.discard} 1 − r = ${(1 - r).toExponential(1)}`);
          expect(r).toBeGreaterThanOrEqual(0.999);
        }
        const grads = site.slots.map((s) => gradientAt(program, values, s, vitRef!.target));
        const map = gradientRollout(atts, grads, site);
        const r = pearson(Float32Array.from(map.dataSync()), Float32Array.from(vitRef!.gradRollout.flat()));
        tf.dispose([map, ...grads]);
        console.log(`vit op${opset}: gradient-weighted rollout 1 − r = ${(1 - r).toExponential(1)}`);
        expect(r).toBeGreaterThanOrEqual(0.999);
      } finally {
        tf.dispose(values.filter((v): v is tf.Tensor => !!v));
        built.host.dispose();
      }
    });
  });
}

const swinRef = existsSync(resolve(DIR, 'swin.json')) ? (JSON.parse(readFileSync(resolve(DIR, 'swin.json'), 'utf8')) as Reference) : null;
for (const opset of ['13', '17']) {
  const file = swinRef ? resolve(DIR, swinRef.onnx[opset] ?? '') : '';
  describe.skipIf(!swinRef || !existsSync(file))(`swin opset ${opset}: the tree`, () => {
    it('shows the stages\' channels-last grids as maps; the default is the final LayerNorm\'s 2×2 grid (the last stage\'s output, normalised)', () => {
      const built = buildOnnxProgram(decodeOnnxModel(new Uint8Array(readFileSync(file))), 'swin');
      try {
        const nodes = flattenTree(buildLayerTree(built.host.program));
        expect(defaultLayerPath(built.host.program)).toBe('swin/norm');
        expect(nodes.find((n) => n.path === 'swin/norm')).toMatchObject({ explainable: true, outputShape: [null, 2, 2, 128] });
        expect(nodes.find((n) => n.path === 'swin/features/features.7')).toMatchObject({ explainable: true, outputShape: [null, 2, 2, 128] });
        expect(nodes.find((n) => n.path === 'swin/features/features.5')).toMatchObject({ explainable: true, outputShape: [null, 4, 4, 64] });
        expect(built.host.warnings).toEqual([]);
      } finally {
        built.host.dispose();
      }
    });
  });
}
