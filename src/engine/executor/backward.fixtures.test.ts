/**
 * The written-out backward pass on real models nobody on this project made (../shared/fixtures):
 * a MobileNet inside two Sequentials (Teachable Machine), a darknet with LeakyReLU and max pooling,
 * and a Keras mini-Xception with separable convs and residual adds. At the default layer and at the
 * input, plain and guided, it must equal the tfjs tape. Skips cleanly when the folder is absent.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadModel } from '../model';
import { filesFromPaths } from '../node/files';
import type { Program } from './program';
import { runForward } from './forward';
import { gradientAt, scoreFunction } from './gradient';
import { withGuidedGradients } from './guided';
import { registerFastWasmGradients } from '../kernels/wasm-gradients';

const FIXTURES = resolve(process.cwd(), '../shared/fixtures');
const hasFixtures = existsSync(resolve(FIXTURES, 'models'));

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastWasmGradients();
});

function relativeDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const scale = tf.max(tf.abs(b)).dataSync()[0]!;
    expect(scale).toBeGreaterThan(0);
    return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / scale;
  });
}

function taped(program: Program, values: tf.Tensor[], slot: number, cls: number, path: 'fast' | 'plain'): tf.Tensor {
  return tf.grad(scoreFunction(program, values, slot, cls, { path }))(values[slot]!);
}

const MODELS = ['tm-gestures', 'darknet-tiny-imagenet/model.json', 'fer-mini-xception-h5'];

describe.skipIf(!hasFixtures)(`written-out backward pass on the real fixtures (skipped without ${FIXTURES})`, () => {
  for (const name of MODELS) {
    it(`${name}: plain and guided gradients at the default layer and the input equal the tape`, async () => {
      const lm = await loadModel(await filesFromPaths([resolve(FIXTURES, 'models', name)]));
      const { program } = lm;
      const [h, w, c] = lm.summary.imageSize;
      const values = runForward(program, tf.randomUniform([1, h, w, c], -1, 1, 'float32', 5));
      const layerSlot = program.slotsByPath.get(lm.summary.defaultLayerPath!)!;
      for (const slot of [layerSlot, program.inputSlot]) {
        const written = gradientAt(program, values, slot, 1);
        const reference = taped(program, values, slot, 1, 'plain');
        expect(relativeDiff(written, reference), `${name} plain, slot ${slot}`).toBeLessThanOrEqual(1e-4);
        const [guided, guidedReference] = withGuidedGradients(() => [gradientAt(program, values, slot, 1), taped(program, values, slot, 1, 'fast')]);
        expect(relativeDiff(guided!, guidedReference!), `${name} guided, slot ${slot}`).toBeLessThanOrEqual(1e-4);
        tf.dispose([written, reference, guided!, guidedReference!]);
      }
      tf.dispose(values.filter((v) => v));
      lm.dispose();
    }, 120_000);
  }
});
