/**
 * Batches through exports written at batch 1. A transformer's attention reshapes its tokens with the
 * batch folded into constants ([N, 1, C] → [N, heads, C/heads] with B = 1 written in); the batch must
 * land on the axis PyTorch's view would put it on, or every batched method (Score-CAM, Integrated
 * Gradients, SmoothGrad, the gallery…) fails or mixes images. Checked on the shapes torchvision's
 * attention makes, and on the ViT / DeiT fixtures: a batch of two different images gives each image's
 * own logits and Grad-CAM gradient, as two single passes do.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerFastWasmGradients } from '../kernels/wasm-gradients';
import { runForward } from '../executor/forward';
import { decodeOnnxModel } from './onnx-proto';
import { buildOnnxProgram } from './load-onnx';
import { batchedTarget } from './onnx-ops';
import { createContext } from '../methods/context';
import { METHOD_IMPLEMENTATIONS } from '../methods/index';
import type { MethodId } from '../../shared/methods';

describe('batchedTarget: the batch of a batch-1 reshape', () => {
  it('[N, B, C] → [N, B·heads, d]: the batch leads the heads axis', () => {
    expect(batchedTarget([65, 2, 16], [65, 3, 32], [65, 1, 32])).toEqual([65, 6, 16]);
  });
  it('[N, B·heads, d] → [N·B, C]: the last (feature) axis stays, the tokens axis takes the batch', () => {
    expect(batchedTarget([65, 32], [65, 6, 16], [65, 2, 16])).toEqual([195, 32]);
  });
  it('[N·B, C] → [N, B, C]: the written-in batch of 1 takes it', () => {
    expect(batchedTarget([65, 1, 32], [195, 32], [65, 32])).toEqual([65, 3, 32]);
  });
  it('-1 is resolved at batch 1 first; nothing grown → null', () => {
    expect(batchedTarget([65, -1, 16], [65, 3, 32], [65, 1, 32])).toEqual([65, 6, 16]);
    expect(batchedTarget([65, 2, 16], [65, 1, 32], [65, 1, 32])).toBeNull();
  });
});

const DIR = resolve(process.cwd(), 'test-fixtures/onnx');

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastWasmGradients();
});

for (const name of ['vit-op13', 'vit-op17', 'deit-op17']) {
  const file = resolve(DIR, `${name}.onnx`);
  describe.skipIf(!existsSync(file))(`${name}: a batch of two images`, () => {
    it('gives each image its own logits, as single passes do', () => {
      const built = buildOnnxProgram(decodeOnnxModel(new Uint8Array(readFileSync(file))), name);
      try {
        const { program } = built.host;
        const [, h = 0, w = 0, c = 3] = built.host.inputShape as number[];
        const slot = program.outputSlots[0] ?? -1;
        const [single, batched] = tf.tidy(() => {
          const a = tf.randomUniform([1, h, w, c], -1, 1, 'float32', 1);
          const b = tf.randomUniform([1, h, w, c], -1, 1, 'float32', 2);
          const one = [a, b].map((x) => runForward(program, x)[slot]!.reshape([-1]));
          const both = runForward(program, tf.concat([a, b]))[slot]!;
          return [tf.stack(one), both.reshape([2, -1])];
        });
        const s = single.arraySync() as number[][];
        const t = batched.arraySync() as number[][];
        tf.dispose([single, batched]);
        const scale = Math.max(...s.flat().map(Math.abs));
        const diff = Math.max(...s.flatMap((row, i) => row.map((v, j) => Math.abs(v - (t[i]?.[j] ?? NaN)))));
        expect(Math.abs((s[0]?.[0] ?? 0) - (s[1]?.[0] ?? 0))).toBeGreaterThan(1e-4 * scale); // two different images
        expect(diff).toBeLessThanOrEqual(1e-4 * scale);
      } finally {
        built.host.dispose();
      }
    });
  });
}

const VIT = resolve(DIR, 'vit-op17.onnx');
describe.skipIf(!existsSync(VIT))('vit-op17: methods that run batches (and DFF\'s concepts) give maps at a token grid', () => {
  it.each<[MethodId, Record<string, number | string>]>([
    ['scorecam', {}],
    ['integrated-gradients', { steps: 8 }],
    ['smoothgrad', { samples: 4 }],
    ['dff', { concepts: 3, iterations: 20 }],
  ])('%s', async (id, options) => {
    const built = buildOnnxProgram(decodeOnnxModel(new Uint8Array(readFileSync(VIT))), 'vit');
    const { program } = built.host;
    const [, h = 0, w = 0, c = 3] = built.host.inputShape as number[];
    const values = tf.tidy(() => runForward(program, tf.randomUniform([1, h, w, c], -1, 1, 'float32', 3)));
    const layer = program.slotsByPath.get('vit/encoder/layers/encoder_layer_2/ln_1');
    expect(layer).toBeDefined();
    const owned = createContext({ program, values, classIndex: 0, sign: 1, path: 'fast', options, slot: layer });
    try {
      const map = await METHOD_IMPLEMENTATIONS[id].run(owned.ctx);
      const data = map.dataSync();
      map.dispose();
      expect(data.length).toBeGreaterThan(1);
      expect(data.every(Number.isFinite)).toBe(true);
    } finally {
      owned.dispose();
      tf.dispose(values.filter((v): v is tf.Tensor => !!v));
      built.host.dispose();
    }
  });
});
