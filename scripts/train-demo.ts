/**
 * `npm run train:demo` — trains the built-in demo model and writes it, with sample images, to
 * public/demo/. Deterministic: seeded data, seeded initialisers, our own shuffling, one WASM thread.
 *
 * The model has the transfer-learning shape of the product's seed problem: a FUNCTIONAL base
 * network (`shape_base`, conv blocks, one with a residual add) nested as ONE layer inside a
 * Sequential classifier, then global average pooling and a softmax head.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { PNG } from 'pngjs';
import { useBackend } from '../src/engine';
import { generateBatch, randomScene, renderScene, Rng, SHAPE_CLASSES, shapeBox, targetClasses, topClasses, twoShapeScene, type Batch, type Scene, type ShapeClass } from './demo-data';

const IMAGE_SIZE = 64;
const SAMPLE_SIZE = 256;
const SEED = 20261128;
const TRAIN_PER_EPOCH = 1024;
/** Images in the validation set (model selection) and in the separate test set (reported). */
const TEST_COUNT = 400;
const BATCH_SIZE = 16;
const MAX_EPOCHS = 40;
const LEARNING_RATE = 0.003;
/** Halve the learning rate every DECAY_EVERY epochs after DECAY_FROM_EPOCH. */
const DECAY_FROM_EPOCH = 16;
const DECAY_EVERY = 6;
const TARGET_ACCURACY = 0.95;
/**
 * Share of two-shape training scenes (soft targets 0.5 / 0.5). Without them the net, having only
 * seen one object per image, answers a two-object image with a class that is not in it.
 */
const TWO_SHAPE_FRACTION = 0.4;
/** On held-out two-shape scenes, the top-2 classes must be the two drawn ones this often. */
const TARGET_TWO_SHAPE_TOP2 = 0.9;
/** Stop early once held-out accuracy passes this (checked after each epoch, deterministic)… */
const EARLY_STOP_ACCURACY = 0.97;
/** …and the two-shape top-2 rate passes this. */
const EARLY_STOP_TWO_SHAPE_TOP2 = 0.93;
const OUT_DIR = resolve(process.cwd(), 'public/demo');
const BASE_NAME = 'shape_base';
const LAST_CONV = 'block3_out';

/** Conv (no bias) → BatchNorm → optional ReLU: batch norm lets this small net train in a few epochs. */
function convBlock(input: tf.SymbolicTensor, name: string, filters: number, seed: number, relu = true, strides = 1): tf.SymbolicTensor {
  const conv = tf.layers.conv2d({
    name,
    filters,
    kernelSize: 3,
    strides,
    padding: 'same',
    useBias: false,
    kernelInitializer: tf.initializers.heNormal({ seed }),
  }).apply(input) as tf.SymbolicTensor;
  const normalised = tf.layers.batchNormalization({ name: `${name}_bn`, momentum: 0.95 }).apply(conv) as tf.SymbolicTensor;
  return relu ? (tf.layers.activation({ name: `${name}_relu`, activation: 'relu' }).apply(normalised) as tf.SymbolicTensor) : normalised;
}

function buildDemoModel(): tf.Sequential {
  const input = tf.input({ shape: [IMAGE_SIZE, IMAGE_SIZE, 3], name: 'image' });
  // A strided first conv keeps training affordable on two shared CPU cores.
  let x = convBlock(input, 'block1_conv', 24, 11, true, 2);
  x = convBlock(x, 'block2_conv', 32, 12);
  x = tf.layers.maxPooling2d({ name: 'block2_pool', poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  // Residual block at 16×16: Grad-CAM at its output has enough resolution to separate two objects.
  const shortcut = convBlock(x, 'block3_conv1', 32, 13);
  let y = convBlock(shortcut, 'block3_conv2', 32, 14);
  y = convBlock(y, 'block3_conv3', 32, 15, false);
  const added = tf.layers.add({ name: 'block3_add' }).apply([shortcut, y]) as tf.SymbolicTensor;
  const features = tf.layers.activation({ name: LAST_CONV, activation: 'relu' }).apply(added) as tf.SymbolicTensor;
  const base = tf.model({ inputs: input, outputs: features, name: BASE_NAME });

  const classifier = tf.sequential({ name: 'shape_classifier' });
  classifier.add(base);
  classifier.add(tf.layers.globalAveragePooling2d({ name: 'avg_pool' }));
  classifier.add(tf.layers.dense({
    name: 'predictions',
    units: SHAPE_CLASSES.length,
    activation: 'softmax',
    kernelInitializer: tf.initializers.glorotUniform({ seed: 16 }),
    biasInitializer: 'zeros',
  }));
  return classifier;
}

/** Class probabilities for every image of a batch, [count × classes]. */
async function predictAll(model: tf.LayersModel, batch: Batch): Promise<Float32Array> {
  const classes = SHAPE_CLASSES.length;
  const pixels = IMAGE_SIZE * IMAGE_SIZE * 3;
  const out = new Float32Array(batch.count * classes);
  for (let start = 0; start < batch.count; start += 100) {
    const n = Math.min(100, batch.count - start);
    const probabilities = tf.tidy(() => model.predict(tf.tensor4d(batch.images.subarray(start * pixels, (start + n) * pixels), [n, IMAGE_SIZE, IMAGE_SIZE, 3])) as tf.Tensor);
    out.set(await probabilities.data(), start * classes);
    probabilities.dispose();
  }
  return out;
}

/** Top-1 accuracy on single-shape images. */
async function accuracy(model: tf.LayersModel, batch: Batch): Promise<number> {
  const classes = SHAPE_CLASSES.length;
  const probabilities = await predictAll(model, batch);
  let correct = 0;
  for (let i = 0; i < batch.count; i++) if (topClasses(probabilities.subarray(i * classes, (i + 1) * classes), 1)[0] === batch.labels[i]) correct++;
  return correct / batch.count;
}

/** Share of two-shape images whose two most probable classes are exactly the two drawn ones. */
async function twoShapeTopTwoRate(model: tf.LayersModel, batch: Batch): Promise<number> {
  const classes = SHAPE_CLASSES.length;
  const probabilities = await predictAll(model, batch);
  let matched = 0;
  for (let i = 0; i < batch.count; i++) {
    const top = topClasses(probabilities.subarray(i * classes, (i + 1) * classes), 2).sort((a, b) => a - b);
    const drawn = targetClasses(batch, i);
    if (top.length === drawn.length && top.every((k, j) => k === drawn[j])) matched++;
  }
  return matched / batch.count;
}

/**
 * Adam with a step decay, fresh data every epoch, and model selection on a validation set (its own
 * seed): held-out accuracy swings between epochs while batch-norm statistics settle, so the best
 * validation epoch is kept. The reported accuracy comes from a separate test set.
 */
async function train(model: tf.Sequential): Promise<{ accuracy: number; twoShapeTopTwo: number }> {
  const optimizer = tf.train.adam(LEARNING_RATE);
  // Categorical cross-entropy takes the soft 0.5 / 0.5 targets of two-shape scenes as they are.
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const validation = generateBatch(new Rng(SEED + 2), { count: TEST_COUNT, size: IMAGE_SIZE });
  const validationTwoShapes = generateBatch(new Rng(SEED + 3), { count: TEST_COUNT, size: IMAGE_SIZE, twoShapeFraction: 1 });
  const pixels = IMAGE_SIZE * IMAGE_SIZE * 3;
  let best: { score: number; accuracy: number; twoShapeTopTwo: number; epoch: number; weights: tf.Tensor[] } | null = null;
  for (let epoch = 1; epoch <= MAX_EPOCHS; epoch++) {
    const started = performance.now();
    // AdamOptimizer reads its (TS-protected) learningRate on every step.
    const rate = LEARNING_RATE * (epoch > DECAY_FROM_EPOCH ? 0.5 ** Math.ceil((epoch - DECAY_FROM_EPOCH) / DECAY_EVERY) : 1);
    (optimizer as unknown as { learningRate: number }).learningRate = rate;
    // Fresh scenes every epoch (seeded per epoch): no image is seen twice, so no overfitting.
    const data = generateBatch(new Rng(SEED + 1000 * epoch), { count: TRAIN_PER_EPOCH, size: IMAGE_SIZE, twoShapeFraction: TWO_SHAPE_FRACTION });
    let lossSum = 0;
    for (let start = 0; start < data.count; start += BATCH_SIZE) {
      const n = Math.min(BATCH_SIZE, data.count - start);
      const [x, y] = tf.tidy(() => [
        tf.tensor4d(data.images.subarray(start * pixels, (start + n) * pixels), [n, IMAGE_SIZE, IMAGE_SIZE, 3]),
        tf.tensor2d(data.targets.subarray(start * SHAPE_CLASSES.length, (start + n) * SHAPE_CLASSES.length), [n, SHAPE_CLASSES.length]),
      ]);
      const loss = await model.trainOnBatch(x!, y!);
      lossSum += (Array.isArray(loss) ? loss[0]! : loss) * n;
      tf.dispose([x!, y!]);
    }
    const validationAccuracy = await accuracy(model, validation);
    const validationTopTwo = await twoShapeTopTwoRate(model, validationTwoShapes);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`epoch ${epoch}: lr ${rate.toExponential(1)}, loss ${(lossSum / data.count).toFixed(4)}, validation accuracy ${(validationAccuracy * 100).toFixed(1)} %, two-shape top-2 ${(validationTopTwo * 100).toFixed(1)} % (${seconds} s, ${tf.memory().numTensors} tensors)`);
    // Both skills count equally when picking the epoch to keep.
    const score = validationAccuracy + validationTopTwo;
    if (!best || score > best.score) {
      if (best) tf.dispose(best.weights);
      best = { score, accuracy: validationAccuracy, twoShapeTopTwo: validationTopTwo, epoch, weights: model.getWeights().map((w) => w.clone()) };
    }
    if (validationAccuracy >= EARLY_STOP_ACCURACY && validationTopTwo >= EARLY_STOP_TWO_SHAPE_TOP2) break;
  }
  if (best) {
    model.setWeights(best.weights);
    tf.dispose(best.weights);
    console.log(`kept epoch ${best.epoch} (validation accuracy ${(best.accuracy * 100).toFixed(1)} %, two-shape top-2 ${(best.twoShapeTopTwo * 100).toFixed(1)} %)`);
  }
  const test = generateBatch(new Rng(SEED + 1), { count: TEST_COUNT, size: IMAGE_SIZE });
  const testTwoShapes = generateBatch(new Rng(SEED + 4), { count: TEST_COUNT, size: IMAGE_SIZE, twoShapeFraction: 1 });
  return { accuracy: await accuracy(model, test), twoShapeTopTwo: await twoShapeTopTwoRate(model, testTwoShapes) };
}

async function saveModel(model: tf.LayersModel): Promise<{ modelBytes: number; weightBytes: number }> {
  let sizes = { modelBytes: 0, weightBytes: 0 };
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const weightData = artifacts.weightData;
    if (weightData == null || Array.isArray(weightData) || artifacts.weightSpecs == null) throw new Error('no weights to save');
    const modelJson = {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: 'gradcam-studio train-demo',
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    };
    const text = JSON.stringify(modelJson);
    writeFileSync(join(OUT_DIR, 'model.json'), text);
    writeFileSync(join(OUT_DIR, 'weights.bin'), new Uint8Array(weightData));
    sizes = { modelBytes: text.length, weightBytes: weightData.byteLength };
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weightData.byteLength } };
  }));
  return sizes;
}

function writePng(path: string, rgba: Uint8ClampedArray, size: number): void {
  const png = new PNG({ width: size, height: size });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  writeFileSync(path, PNG.sync.write(png));
}

/** Stretch-resize (bilinear, as the app does) an RGBA image to the model input in [0, 1]. */
function toModelInput(rgba: Uint8ClampedArray, size: number): tf.Tensor4D {
  return tf.tidy(() => {
    const rgb = tf.tensor3d(Float32Array.from(rgba), [size, size, 4]).slice([0, 0, 0], [size, size, 3]);
    return tf.image.resizeBilinear(rgb, [IMAGE_SIZE, IMAGE_SIZE], false, true).div(255).expandDims(0) as tf.Tensor4D;
  });
}

/** Grad-CAM at the base's last layer with plain tf.grad; returns the peak in sample pixels. */
function gradCamPeak(model: tf.Sequential, input: tf.Tensor4D, classIndex: number): { x: number; y: number } {
  const base = model.layers[0] as tf.LayersModel;
  const head = model.layers.slice(1);
  return tf.tidy(() => {
    const features = base.predict(input) as tf.Tensor4D;
    const score = (a: tf.Tensor) => {
      let out = a;
      for (const layer of head) out = layer.apply(out) as tf.Tensor;
      return out.gather([classIndex], 1).sum();
    };
    const grads = tf.grad(score)(features);
    const weights = grads.mean([1, 2], true);
    const cam = features.mul(weights).sum(-1).relu().squeeze() as tf.Tensor2D;
    const [h, w] = cam.shape;
    const peak = cam.flatten().argMax().dataSync()[0]!;
    const scale = SAMPLE_SIZE / w;
    return { x: ((peak % w) + 0.5) * scale, y: (Math.floor(peak / w) + 0.5) * (SAMPLE_SIZE / h) };
  });
}

interface SampleEntry {
  file: string;
  width: number;
  height: number;
  shapes: Array<{ label: ShapeClass; classIndex: number; bbox: { x: number; y: number; width: number; height: number } }>;
  predicted: Array<{ label: string; probability: number }>;
  gradCamPeaks?: Array<{ label: ShapeClass; x: number; y: number; onObject: boolean }>;
}

async function writeSamples(model: tf.Sequential): Promise<{ entries: SampleEntry[]; allPeaksOnObject: boolean; allTopTwoDrawn: boolean }> {
  const dir = join(OUT_DIR, 'samples');
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(SEED + 7);
  const scenes: Array<{ file: string; scene: Scene }> = [
    { file: 'circle-and-star.png', scene: twoShapeSceneAt(rng, 'circle', 'star', [[0.26, 0.5], [0.74, 0.5]]) },
    { file: 'square-and-triangle.png', scene: twoShapeSceneAt(rng, 'square', 'triangle', [[0.28, 0.28], [0.72, 0.72]]) },
    { file: 'star.png', scene: randomScene(rng, { shapes: [{ cls: 'star', radius: 0.27 }] }) },
    { file: 'triangle.png', scene: randomScene(rng, { shapes: [{ cls: 'triangle', radius: 0.27 }] }) },
    { file: 'circle.png', scene: randomScene(rng, { shapes: [{ cls: 'circle', radius: 0.25 }] }) },
  ];
  const entries: SampleEntry[] = [];
  let allPeaksOnObject = true;
  let allTopTwoDrawn = true;
  for (const { file, scene } of scenes) {
    const rgba = renderScene(scene, SAMPLE_SIZE);
    writePng(join(dir, file), rgba, SAMPLE_SIZE);
    const input = toModelInput(rgba, SAMPLE_SIZE);
    const probabilities = Array.from(await (model.predict(input) as tf.Tensor).data());
    const predicted = probabilities
      .map((probability, k) => ({ label: SHAPE_CLASSES[k]!, probability: Math.round(probability * 1e4) / 1e4 }))
      .sort((a, b) => b.probability - a.probability);
    const shapes = scene.shapes.map((s) => ({ label: s.cls, classIndex: SHAPE_CLASSES.indexOf(s.cls), bbox: shapeBox(s, SAMPLE_SIZE) }));
    const entry: SampleEntry = { file: `samples/${file}`, width: SAMPLE_SIZE, height: SAMPLE_SIZE, shapes, predicted };
    if (shapes.length === 2) {
      entry.gradCamPeaks = shapes.map((s) => {
        const peak = gradCamPeak(model, input, s.classIndex);
        const other = shapes.find((o) => o !== s)!;
        const distance = (b: typeof s.bbox) => Math.hypot(peak.x - (b.x + b.width / 2), peak.y - (b.y + b.height / 2));
        const inBox = peak.x >= s.bbox.x && peak.x <= s.bbox.x + s.bbox.width && peak.y >= s.bbox.y && peak.y <= s.bbox.y + s.bbox.height;
        const onObject = inBox || distance(s.bbox) < distance(other.bbox) / 2;
        allPeaksOnObject &&= onObject;
        return { label: s.label, x: Math.round(peak.x), y: Math.round(peak.y), onObject };
      });
      for (const p of entry.gradCamPeaks) {
        console.log(`  ${file}: Grad-CAM for "${p.label}" peaks at (${p.x}, ${p.y}) — ${p.onObject ? 'on the object' : 'NOT on the object'}`);
      }
      // The app opens on a two-shape sample: its top 2 must be the two shapes in it.
      const topTwoDrawn = predicted.slice(0, 2).every((p) => shapes.some((s) => s.label === p.label));
      allTopTwoDrawn &&= topTwoDrawn;
      console.log(`  ${file}: top 2 ${topTwoDrawn ? 'are' : 'are NOT'} the two drawn shapes`);
    }
    console.log(`  ${file}: ${predicted.slice(0, 2).map((p) => `${p.label} ${(p.probability * 100).toFixed(1)} %`).join(', ')}`);
    input.dispose();
    entries.push(entry);
  }
  return { entries, allPeaksOnObject, allTopTwoDrawn };
}

function twoShapeSceneAt(rng: Rng, first: ShapeClass, second: ShapeClass, [a, b]: [[number, number], [number, number]]): Scene {
  // Draw a random two-shape scene for its background and colours, then pin the layout.
  const scene = twoShapeScene(rng, first, second);
  const [s1, s2] = scene.shapes as [Scene['shapes'][0], Scene['shapes'][0]];
  Object.assign(s1, { cx: a[0], cy: a[1], radius: 0.18 });
  Object.assign(s2, { cx: b[0], cy: b[1], radius: 0.18 });
  return scene;
}

/** The saved files load back with tfjs and give the same predictions. */
async function checkRoundTrip(model: tf.LayersModel): Promise<void> {
  const { readFileSync } = await import('node:fs');
  const json = JSON.parse(readFileSync(join(OUT_DIR, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const weights = readFileSync(join(OUT_DIR, 'weights.bin'));
  const loaded = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0]!.weights,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  }));
  const x = tf.randomUniform([2, IMAGE_SIZE, IMAGE_SIZE, 3], 0, 1, 'float32', 5);
  const diff = tf.tidy(() => (loaded.predict(x) as tf.Tensor).sub(model.predict(x) as tf.Tensor).abs().max().dataSync()[0]!);
  x.dispose();
  loaded.dispose();
  if (!(diff < 1e-5)) throw new Error(`Reloaded model differs from the trained one (max |diff| ${diff}).`);
  console.log(`round trip: reloaded model.json + weights.bin, max |diff| ${diff.toExponential(1)}`);
}

async function main(): Promise<void> {
  const started = performance.now();
  await useBackend('wasm');
  mkdirSync(OUT_DIR, { recursive: true });
  console.log(`backend ${tf.getBackend()}; ${TRAIN_PER_EPOCH} fresh ${IMAGE_SIZE}×${IMAGE_SIZE} images per epoch, ${TEST_COUNT} held out`);

  const model = buildDemoModel();
  model.summary(undefined, undefined, (line) => console.log(line));
  const { accuracy: heldOut, twoShapeTopTwo } = await train(model);
  console.log(`held-out accuracy: ${(heldOut * 100).toFixed(1)} % on ${TEST_COUNT} images`);
  console.log(`held-out two-shape top-2: ${(twoShapeTopTwo * 100).toFixed(1)} % of ${TEST_COUNT} scenes have the two drawn classes as the top 2`);
  if (heldOut < TARGET_ACCURACY) {
    console.error(`FAILED: held-out accuracy ${(heldOut * 100).toFixed(1)} % is below ${TARGET_ACCURACY * 100} %`);
    process.exit(1);
  }
  if (twoShapeTopTwo < TARGET_TWO_SHAPE_TOP2) {
    console.error(`FAILED: held-out two-shape top-2 rate ${(twoShapeTopTwo * 100).toFixed(1)} % is below ${TARGET_TWO_SHAPE_TOP2 * 100} %`);
    process.exit(1);
  }

  const sizes = await saveModel(model);
  await checkRoundTrip(model);
  const metadata = {
    labels: [...SHAPE_CLASSES],
    imageSize: IMAGE_SIZE,
    preprocess: { normalization: 'unit', resize: 'stretch' },
    defaultLayer: `${BASE_NAME}/${LAST_CONV}`,
    heldOutAccuracy: Math.round(heldOut * 1000) / 1000,
    generatedBy: 'gradcam-studio train-demo',
  };
  writeFileSync(join(OUT_DIR, 'metadata.json'), JSON.stringify(metadata, null, 2) + '\n');

  console.log('samples:');
  const { entries, allPeaksOnObject, allTopTwoDrawn } = await writeSamples(model);
  writeFileSync(join(OUT_DIR, 'samples', 'index.json'), JSON.stringify({ imageSize: SAMPLE_SIZE, samples: entries }, null, 2) + '\n');
  console.log(`wrote ${OUT_DIR}: model.json ${(sizes.modelBytes / 1024).toFixed(1)} KiB, weights.bin ${(sizes.weightBytes / 1024).toFixed(1)} KiB, metadata.json, ${entries.length} samples`);
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (!allPeaksOnObject) {
    console.error('FAILED: a two-shape sample\'s Grad-CAM peak is not on the explained object.');
    process.exit(1);
  }
  if (!allTopTwoDrawn) {
    console.error('FAILED: a two-shape sample\'s top 2 classes are not the two drawn shapes.');
    process.exit(1);
  }
}

await main();
