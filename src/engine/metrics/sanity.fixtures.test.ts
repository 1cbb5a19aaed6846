/**
 * The sanity check's verdict on a real Teachable Machine export (../shared/fixtures/models/tm-gestures,
 * a MobileNetV2 inside two Sequentials): Adebayo et al. 2018 find that guided backprop does not depend
 * on the learned weights and Grad-CAM does; the verdict must say the same. Skips without the folder.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadModel } from '../model';
import { filesFromPaths } from '../node/files';
import { decodeImageFile } from '../node/image';
import { registerFastWasmGradients } from '../kernels/wasm-gradients';
import { sanityCheck } from './sanity';

const FIXTURES = resolve(process.cwd(), '../shared/fixtures');
const hasFixtures = existsSync(resolve(FIXTURES, 'models/tm-gestures'));

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastWasmGradients();
});

describe.skipIf(!hasFixtures)(`sanity verdict on the Teachable Machine export (skipped without ${FIXTURES})`, () => {
  it('guided backprop fails, Grad-CAM passes, and the rule names the top block', async () => {
    const lm = await loadModel(await filesFromPaths([resolve(FIXTURES, 'models/tm-gestures')]));
    const image = await decodeImageFile(resolve(FIXTURES, 'images/skimage_astronaut.png'));
    const [top] = await lm.predict(image);
    const result = await sanityCheck({ loaded: lm, image, explain: { methods: ['gradcam', 'guided-backprop'] }, classIndex: top!.index });
    const gradcam = result.methods.gradcam!;
    const guided = result.methods['guided-backprop']!;
    const report = `ρ Grad-CAM ${gradcam.spearman.map((v) => v.toFixed(2)).join(' ')}; guided ${guided.spearman.map((v) => v.toFixed(2)).join(' ')}; rule ${JSON.stringify({ ...result.rule, topBlock: { ...result.rule.topBlock, layers: result.rule.topBlock.layers.length } })}`;
    console.log(report);
    expect(result.rule.topBlock.name, report).toBe('block_16');
    expect(guided.verdict, report).toBe('fail');
    expect(guided.flagged).toBe(true);
    expect(gradcam.verdict, report).toBe('pass');
    // Step labels are short (a layer name, not a path).
    for (const step of result.steps) expect(step.label).not.toContain('/');
    lm.dispose();
  }, 600_000);
});
