/**
 * The attention methods of the registry (attention rollout, gradient rollout, raw attention) and the
 * token maps on the ViT exports of test-fixtures/onnx (scripts/onnx-fixtures.py's `vit`: class token;
 * scripts/vit-fixtures.py's `deit`: class + distillation token), against PyTorch's numbers computed
 * from attention matrices written out with the blocks' own weights. Maps are compared at the input's
 * resolution: the PyTorch grid map is upsampled as the method upsamples its own. Skips a fixture whose
 * files are absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerFastWasmGradients } from '../kernels/wasm-gradients';
import { runForward } from '../executor/forward';
import { pearson } from '../../test-support/method-reference';
import { buildLayerTree, defaultLayerPath, flattenTree } from '../tree';
import { decodeOnnxModel } from '../onnx/onnx-proto';
import { buildOnnxProgram, type OnnxProgram } from '../onnx/load-onnx';
import { attentionInTree, methodUnavailableReason } from '../../shared/attention';
import type { MethodId } from '../../shared/methods';
import { createContext } from './context';
import { METHOD_IMPLEMENTATIONS } from './index';

const DIR = resolve(process.cwd(), 'test-fixtures/onnx');

interface TransformerReference {
  inputShapeNCHW: number[];
  inputNHWC: string;
  logits: number[];
  target: number;
  grid?: number[];
  extraTokens?: number;
  cams: Array<{ module: string; target: number; cam: number[][] }>;
  rollout: Array<{ fusion: string; discard: number; map: number[][] }>;
  gradRollout: number[][];
  rawAttention?: Array<{ fusion: string; map: number[][] }>;
  onnx: Record<string, string>;
}

function floats(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function readReference(family: string): TransformerReference | null {
  const path = resolve(DIR, `${family}.json`);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as TransformerReference) : null;
}

/** A PyTorch grid map brought to [H, W] the way the methods bring theirs (bilinear, half-pixel centres). */
function upsampled(map: number[][], size: [number, number]): Float32Array {
  return tf.tidy(() => {
    const t = tf.tensor2d(map);
    return tf.image.resizeBilinear(t.expandDims(2) as tf.Tensor3D, size, false, true).dataSync() as Float32Array;
  });
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastWasmGradients();
});

for (const family of ['vit', 'deit']) {
  const ref = readReference(family);
  for (const opset of ['13', '17']) {
    const file = ref ? resolve(DIR, ref.onnx[opset] ?? '') : '';
    describe.skipIf(!ref || !existsSync(file))(`${family} opset ${opset}: token maps and attention methods against PyTorch`, () => {
      let built: OnnxProgram;
      let values: Array<tf.Tensor | undefined>;
      let size: [number, number];

      beforeAll(() => {
        built = buildOnnxProgram(decodeOnnxModel(new Uint8Array(readFileSync(file))), family);
        const [, , h = 0, w = 0] = ref!.inputShapeNCHW;
        size = [h, w];
        const x = tf.tensor4d(floats(ref!.inputNHWC), [1, h, w, 3]);
        values = tf.tidy(() => runForward(built.host.program, x));
      });

      /** A registry method's map for this image (the caller checks it), at the input's resolution. */
      async function run(id: MethodId, classIndex: number, options: Record<string, string | number> = {}): Promise<Float32Array> {
        const owned = createContext({ program: built.host.program, values, classIndex, sign: 1, path: 'fast', options });
        try {
          const map = await METHOD_IMPLEMENTATIONS[id].run(owned.ctx);
          expect(map.shape).toEqual(size);
          const data = map.dataSync() as Float32Array;
          map.dispose();
          return data;
        } finally {
          owned.dispose();
        }
      }

      it('logits equal PyTorch\'s (≤ 1e-4 × max |logit|); the tree labels the token grid, the default is the last ln_1, and the tree has attention', () => {
        const out = values[built.host.program.outputSlots[0] ?? -1];
        const ours = Array.from(out?.dataSync() ?? []);
        const scale = Math.max(...ref!.logits.map(Math.abs));
        const diff = Math.max(...ours.map((v, i) => Math.abs(v - (ref!.logits[i] ?? NaN))));
        console.log(`${family} op${opset}: logits max|diff| ${diff.toExponential(2)} (max |logit| ${scale.toFixed(3)})`);
        expect(ours).toHaveLength(ref!.logits.length);
        expect(diff).toBeLessThanOrEqual(1e-4 * scale);
        const tree = buildLayerTree(built.host.program);
        const [gh = 0, gw = 0] = ref!.grid ?? [8, 8];
        const extra = ref!.extraTokens ?? 1;
        const grids = flattenTree(tree).filter((n) => n.className.startsWith(`Tokens ${gh}×${gw} + ${extra}`) && n.explainable);
        expect(grids.length).toBeGreaterThan(0);
        expect(defaultLayerPath(built.host.program)).toMatch(/encoder_layer_2\/ln_1$/);
        const layout = attentionInTree(tree);
        expect(layout).toEqual({ blocks: 3, tokens: gh * gw + extra });
        expect(methodUnavailableReason('attention-rollout', tree)).toBeNull();
      });

      it('Grad-CAM at the default layer equals pytorch-grad-cam\'s with its ViT reshape_transform (Pearson ≥ 0.999)', async () => {
        const cam = ref!.cams[0]!;
        const path = defaultLayerPath(built.host.program);
        const slot = path === null ? undefined : built.host.program.slotsByPath.get(path);
        expect(slot).toBeDefined();
        const owned = createContext({ program: built.host.program, values, classIndex: cam.target, sign: 1, path: 'fast', slot: slot ?? -1, layerPath: path });
        try {
          const map = await METHOD_IMPLEMENTATIONS.gradcam.run(owned.ctx);
          const r = pearson(Float32Array.from(map.dataSync()), Float32Array.from(cam.cam.flat()));
          map.dispose();
          console.log(`${family} op${opset}: Grad-CAM at ${cam.module} 1 − r = ${(1 - r).toExponential(1)}`);
          expect(r).toBeGreaterThanOrEqual(0.999);
        } finally {
          owned.dispose();
        }
      });

      it('attention rollout (head fusions, discard ratios), gradient rollout and raw attention equal PyTorch\'s (Pearson ≥ 0.999)', async () => {
        for (const setting of ref!.rollout) {
          const ours = await run('attention-rollout', ref!.target, { fusion: setting.fusion, discard: setting.discard });
          const r = pearson(ours, upsampled(setting.map, size));
          console.log(`${family} op${opset}: attention rollout ${setting.fusion} discard ${setting.discard} 1 − r = ${(1 - r).toExponential(1)}`);
          expect(r).toBeGreaterThanOrEqual(0.999);
        }
        const grad = await run('gradient-rollout', ref!.target);
        const rg = pearson(grad, upsampled(ref!.gradRollout, size));
        console.log(`${family} op${opset}: gradient rollout (class ${ref!.target}) 1 − r = ${(1 - rg).toExponential(1)}`);
        expect(rg).toBeGreaterThanOrEqual(0.999);
        for (const raw of ref!.rawAttention ?? []) {
          const ours = await run('raw-attention', ref!.target, { fusion: raw.fusion });
          const r = pearson(ours, upsampled(raw.map, size));
          console.log(`${family} op${opset}: raw attention ${raw.fusion} 1 − r = ${(1 - r).toExponential(1)}`);
          expect(r).toBeGreaterThanOrEqual(0.999);
        }
      });
    });
  }
}

const cnn = readReference('resnet18');
describe.skipIf(!cnn || !existsSync(resolve(DIR, cnn.onnx['17'] ?? '')))('a CNN has no attention', () => {
  it('the attention methods refuse with NO_ATTENTION naming the method; the tree says why they are unavailable', async () => {
    const built = buildOnnxProgram(decodeOnnxModel(new Uint8Array(readFileSync(resolve(DIR, cnn!.onnx['17'] ?? '')))), 'resnet18');
    const [, , h = 0, w = 0] = cnn!.inputShapeNCHW;
    const values = tf.tidy(() => runForward(built.host.program, tf.tensor4d(floats(cnn!.inputNHWC), [1, h, w, 3])));
    try {
      const tree = buildLayerTree(built.host.program);
      expect(attentionInTree(tree)).toBeNull();
      expect(methodUnavailableReason('gradient-rollout', tree)).toMatch(/Gradient rollout needs a vision transformer's attention/);
      expect(methodUnavailableReason('gradcam', tree)).toBeNull();
      for (const id of ['attention-rollout', 'gradient-rollout', 'raw-attention'] as const) {
        const owned = createContext({ program: built.host.program, values, classIndex: 0 });
        await expect(METHOD_IMPLEMENTATIONS[id].run(owned.ctx)).rejects.toMatchObject({ code: 'NO_ATTENTION' });
        owned.dispose();
      }
    } finally {
      tf.dispose(values.filter((v): v is tf.Tensor => !!v));
      built.host.dispose();
    }
  });
});
