/**
 * TF.js graph models nobody on this project made (../shared/fixtures: graph-human-emotion,
 * graph-human-antispoof), against tfjs-converter's own `execute` as the reference. Skips cleanly
 * when that folder is absent.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadModel, type LoadedModel } from '../model';
import { filesFromPaths } from '../node/files';
import { decodeImageFile } from '../node/image';
import { fromBytes } from '../files';
import type { RawImage } from '../files';
import { flattenTree } from '../tree';
import { preprocessImage } from '../preprocess';
import { runForward } from '../executor/forward';
import { gradientAt } from '../executor/gradient';
import { registerFastWasmGradients } from '../kernels/wasm-gradients';
import { camOf } from '../../test-support/result-maps';
import { pearson } from '../../test-support/method-reference';
import { openModel } from '../formats';

const FIXTURES = resolve(process.cwd(), '../shared/fixtures');
const hasFixtures = existsSync(resolve(FIXTURES, 'models/graph-human-emotion')) && existsSync(resolve(FIXTURES, 'images'));
const EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
const NODE = 'StatefulPartitionedCall/model_1/conv2d_5/BiasAdd';
/** The logits: the node before the final Softmax. */
const LOGITS = 'StatefulPartitionedCall/model_1/global_average_pooling2d_1/Mean';

function crop(image: RawImage, top: number, bottom: number, left: number, right: number): RawImage {
  const width = right - left;
  const height = bottom - top;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) data.set(image.data.subarray(((top + y) * image.width + left) * 4, ((top + y) * image.width + right) * 4), y * width * 4);
  return { width, height, data };
}

async function emotionFiles() {
  const files = await filesFromPaths([resolve(FIXTURES, 'models/graph-human-emotion')]);
  // A labels.txt beside the model, as a user would add it.
  return [...files, fromBytes('labels.txt', new TextEncoder().encode(EMOTIONS.join('\n')), 'graph-human-emotion/labels.txt')];
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastWasmGradients();
});

describe.skipIf(!hasFixtures)(`TF.js graph models (skipped when ${FIXTURES} is absent)`, () => {
  let lm: LoadedModel;
  let face: RawImage;
  let reference: tf.GraphModel;
  let x: tf.Tensor4D;

  beforeAll(async () => {
    const files = await emotionFiles();
    lm = await loadModel(files);
    const astronaut = await decodeImageFile(resolve(FIXTURES, 'images/skimage_astronaut.png'));
    face = crop(astronaut, 40, 230, 160, 330);
    const opened = await openModel(files);
    reference = await tf.loadGraphModel(tf.io.fromMemory(opened.artifacts));
    x = preprocessImage(face, [64, 64, 1], { normalization: 'symmetric', resize: 'stretch' });
  });

  it('opens emotion.json + emotion.bin: the tree groups model_1 by scope, the default node is the last 8×8 one', () => {
    const s = lm.summary;
    expect(s.format).toBe('tfjs-graph');
    expect(s.name).toBe('emotion');
    expect(s.imageSize).toEqual([64, 64, 1]);
    expect(s.labels).toEqual(EMOTIONS);
    expect(s.head).toBe('softmax');
    const model1 = flattenTree(s.tree).find((n) => n.name === 'model_1')!;
    expect(model1.className).toBe('Scope');
    const names = model1.children!.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['block1_conv1_act', 'block2_sepconv2_act', 'add_2', 'conv2d_5', 'global_average_pooling2d_1', 'predictions']));
    const block = model1.children!.find((c) => c.name === 'block1_conv1_act')!;
    expect(block).toMatchObject({ className: '_FusedConv2D', outputShape: [null, 31, 31, 32], explainable: true });
    expect(model1.children!.find((c) => c.name === 'global_average_pooling2d_1')).toMatchObject({ className: 'Mean', explainable: false });
    expect(s.defaultLayerPath).toBe('emotion/model_1/conv2d_5');
    expect(flattenTree(s.tree).find((n) => n.path === s.defaultLayerPath)!.outputShape).toEqual([null, 8, 8, 7]);
  });

  it('gives "happy" first on the astronaut\'s face, and the same probabilities as tfjs-converter', async () => {
    const r = await lm.explain(face, { methods: ['gradcam'], preprocess: { normalization: 'symmetric', resize: 'stretch' } });
    expect(r.predictions[0]!.label).toBe('happy');
    const expected = await (reference.execute(x, 'Identity') as tf.Tensor).data();
    for (const p of r.predictions) expect(p.probability).toBeCloseTo(expected[p.index]!, 4);
  });

  it('Grad-CAM at the default node equals a plain tf.grad around execute (r ≥ 0.999), for two classes', async () => {
    for (const target of ['happy', 'neutral']) {
      const r = await lm.explain(face, { methods: ['gradcam'], target, preprocess: { normalization: 'symmetric', resize: 'stretch' } });
      const k = EMOTIONS.indexOf(target);
      const ref = tf.tidy(() => {
        const a = reference.execute(x, NODE) as tf.Tensor4D;
        const g = tf.grad((v: tf.Tensor) => (reference.execute({ input_1: x, [NODE]: v }, LOGITS) as tf.Tensor).gather([k], 1).sum())(a);
        return tf.relu(tf.sum(tf.mul(a, tf.mean(g, [1, 2], true)), -1)).reshape([-1]);
      });
      const refMap = await ref.data();
      ref.dispose();
      const ours = camOf(r)!;
      expect(ours.width).toBe(8);
      expect(pearson(ours.data, refMap)).toBeGreaterThanOrEqual(0.999);
    }
  });

  it('the gradient at the node matches central finite differences (relative error ≤ 1e-2)', async () => {
    const program = lm.program;
    const slot = program.slotsByPath.get('emotion/model_1/conv2d_5')!;
    const k = EMOTIONS.indexOf('happy');
    const values = tf.tidy(() => runForward(program, x.clone()));
    const grad = gradientAt(program, values, slot, k);
    const g = await grad.data();
    const a = values[slot]!;
    const aData = await a.data();
    tf.dispose([...values.filter(Boolean), grad]);
    // The entries with the largest gradients, where a difference is well above float32 noise.
    const order = Array.from(g.keys()).sort((i, j) => Math.abs(g[j]!) - Math.abs(g[i]!)).slice(0, 6);
    const logit = (values: Float32Array) => tf.tidy(() => {
      const v = tf.tensor4d(values, [1, 8, 8, 7]);
      return (reference.execute({ input_1: x, [NODE]: v }, LOGITS) as tf.Tensor).dataSync()[k]!;
    });
    const eps = 1e-2;
    for (const i of order) {
      const plus = Float32Array.from(aData);
      const minus = Float32Array.from(aData);
      plus[i] += eps;
      minus[i] -= eps;
      const numeric = (logit(plus) - logit(minus)) / (2 * eps);
      expect(Math.abs(numeric - g[i]!) / Math.abs(g[i]!)).toBeLessThanOrEqual(1e-2);
    }
  });

  it('every registry method runs at the node, and the cache and the model free all their tensors', async () => {
    const before = tf.memory().numTensors;
    const files = await emotionFiles();
    const other = await loadModel(files);
    const r = await other.explain(face, {
      methods: ['gradcam', 'gradcam-plus-plus', 'scorecam', 'ablationcam', 'eigencam', 'guided-backprop', 'guided-gradcam', 'integrated-gradients'],
      preprocess: { normalization: 'symmetric', resize: 'stretch' },
      methodOptions: { 'integrated-gradients': { steps: 8 } },
    });
    expect(Object.keys(r.maps).sort()).toEqual(['ablationcam', 'eigencam', 'gradcam', 'gradcam-plus-plus', 'guided-backprop', 'guided-gradcam', 'integrated-gradients', 'scorecam']);
    const gb = r.maps['guided-backprop'];
    expect(gb?.kind === 'rgb' && gb.saliency.data.some((v) => v > 0)).toBe(true);
    other.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('antispoof: one sigmoid unit shows "real" and "not real" with p and 1 − p, and both maps', async () => {
    const files = [
      ...(await filesFromPaths([resolve(FIXTURES, 'models/graph-human-antispoof')])),
      fromBytes('labels.txt', new TextEncoder().encode('real\n'), 'graph-human-antispoof/labels.txt'),
    ];
    const spoof = await loadModel(files);
    try {
      expect(spoof.summary.head).toBe('binary');
      expect(spoof.summary.outputActivation).toBe('sigmoid');
      expect(spoof.summary.labels).toEqual(['real', 'not real']);
      expect(spoof.summary.defaultLayerPath).toBe('antispoof/sequential/activation_2');
      const options = { methods: ['gradcam', 'guided-backprop'] as const, preprocess: { normalization: 'unit' as const, resize: 'stretch' as const } };
      const real = await spoof.explain(face, { ...options, methods: [...options.methods], target: 'real' });
      const notReal = await spoof.explain(face, { ...options, methods: [...options.methods], target: 'not real' });
      expect(real.predictions.map((p) => p.label).sort()).toEqual(['not real', 'real']);
      expect(real.predictions[0]!.probability + real.predictions[1]!.probability).toBeCloseTo(1, 6);
      expect(notReal.classLabel).toBe('not real');
      expect(notReal.score).toBeCloseTo(-real.score, 5);
      expect(notReal.probability).toBeCloseTo(1 - real.probability, 6);
      const a = camOf(real)!;
      const b = camOf(notReal)!;
      // Negating the score flips the channel weights: the two maps are not the same map.
      expect(pearson(a.data, b.data)).toBeLessThan(0.99);
      // The counterfactual of "real" is "not real".
      const counter = await spoof.explain(face, { ...options, methods: [...options.methods], target: 'real', counterfactual: true });
      expect(pearson(camOf(counter)!.data, b.data)).toBeGreaterThan(0.9999);
    } finally {
      spoof.dispose();
    }
  });
});
