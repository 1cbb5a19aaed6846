/**
 * The engine on real models nobody on this project made (../shared/fixtures). Skips cleanly when that
 * folder is absent (a fresh clone has no ../shared).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadModel, type LoadedModel } from './model';
import { filesFromPaths } from './node/files';
import { decodeImageFile } from './node/image';
import { flattenTree } from './tree';
import { cropBox } from './preprocess';
import { registerFastWasmGradients } from './kernels/wasm-gradients';
import { camOf, camUpsampledOf, guidedBackpropOf } from '../test-support/result-maps';

const FIXTURES = resolve(process.cwd(), '../shared/fixtures');
const hasFixtures = existsSync(resolve(FIXTURES, 'models')) && existsSync(resolve(FIXTURES, 'images'));
const SKIP_REASON = `fixtures not found at ${FIXTURES}`;

beforeAll(async () => {
  // WASM: the CPU backend would take minutes on these 224×224 models.
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastWasmGradients();
});

describe.skipIf(!hasFixtures)(`real fixtures (skipped when ${SKIP_REASON})`, () => {
  it('loads the Teachable Machine export: model1 two levels deep, the default layer inside it, labels and TM preprocessing', async () => {
    const lm = await loadModel(await filesFromPaths([resolve(FIXTURES, 'models/tm-gestures')]));
    try {
      const s = lm.summary;
      const model1 = flattenTree(s.tree).find((n) => n.name === 'model1');
      expect(model1).toBeDefined();
      expect(model1!.path.split('/')).toHaveLength(3); // outer / sequential_1 / model1
      expect(s.defaultLayerPath?.startsWith(`${model1!.path}/`)).toBe(true);
      expect(s.defaultLayerPath?.endsWith('out_relu')).toBe(true);
      expect(s.labels).toEqual(['Peace', 'Stop', 'Thumbs Up']);
      expect(s.outputActivation).toBe('softmax');
      expect(s.preprocess).toMatchObject({ normalization: 'symmetric', resize: 'center-crop' });
      const image = await decodeImageFile(resolve(FIXTURES, 'images/skimage_astronaut.png'));
      const before = tf.memory().numTensors;
      const r = await lm.explain(image, { methods: ['gradcam', 'guided-backprop'] });
      expect(camOf(r)).toMatchObject({ width: 7, height: 7 });
      expect(guidedBackpropOf(r)).toMatchObject({ width: 224, height: 224 });
      const withCache = tf.memory().numTensors;
      await lm.explain(image, { methods: ['gradcam', 'guided-backprop'], target: 'Stop', counterfactual: true });
      expect(tf.memory().numTensors).toBe(withCache);
      lm.clearCache();
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      lm.dispose();
    }
  });

  describe('darknet-tiny-imagenet', () => {
    let lm: LoadedModel;
    beforeAll(async () => {
      lm = await loadModel(await filesFromPaths([resolve(FIXTURES, 'models/darknet-tiny-imagenet/model.json')]));
    });

    it('puts a cat class in the top-3 for the cat photo', async () => {
      const cat = await decodeImageFile(resolve(FIXTURES, 'images/skimage_chelsea_cat.png'));
      const top3 = (await lm.predict(cat, { normalization: 'unit', resize: 'stretch' })).slice(0, 3).map((p) => p.label);
      expect(top3.some((l) => /egyptian cat|tabby|tiger cat/i.test(l))).toBe(true);
    });

    it('says espresso for the coffee cup, and its Grad-CAM at leaky_re_lu_15 peaks inside the cup', async () => {
      const cup = await decodeImageFile(resolve(FIXTURES, 'images/skimage_coffee_cup.png'));
      const preprocess = { normalization: 'unit', resize: 'stretch' } as const;
      const predictions = await lm.predict(cup, preprocess);
      expect(predictions[0].label.toLowerCase()).toContain('espresso');
      const r = await lm.explain(cup, { layerPath: 'leaky_re_lu_15', target: 'espresso', methods: ['gradcam'], preprocess });
      expect(r.layerPath?.endsWith('leaky_re_lu_15')).toBe(true);
      expect(r.classLabel.toLowerCase()).toContain('espresso');
      const map = camUpsampledOf(r)!;
      let best = 0;
      for (let i = 1; i < map.data.length; i++) if (map.data[i] > map.data[best]) best = i;
      // Back to photo coordinates (stretch: the whole photo is the model input).
      const box = cropBox(cup, [map.height, map.width], 'stretch');
      const x = box.x + ((best % map.width) + 0.5) * (box.width / map.width);
      const y = box.y + (Math.floor(best / map.width) + 0.5) * (box.height / map.height);
      expect(x).toBeGreaterThanOrEqual(170);
      expect(x).toBeLessThanOrEqual(410);
      expect(y).toBeGreaterThanOrEqual(20);
      expect(y).toBeLessThanOrEqual(300);
      lm.dispose();
    });
  });
});
