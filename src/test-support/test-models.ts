/**
 * Small models for tests (16×16×3 input), one per nesting shape the executor must handle:
 * (a) Sequential with a functional base added first (inlined), (b) Sequential with an InputLayer and
 * then the base (a called node), (c) functional `base.apply(input)`, (d) a nested block called twice,
 * (e) two levels of nesting (Teachable Machine's shape: Sequential > Sequential > Model).
 * `smooth: true` swaps every ReLU for softplus/tanh so that finite differences are meaningful.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

export type TestModelCase = 'a' | 'b' | 'c' | 'd' | 'e';

export interface TestModelOptions {
  /** Replace ReLUs by smooth activations (for finite-difference checks). */
  smooth?: boolean;
  /** Final activation of the classifier. */
  head?: 'softmax' | 'softmax-layer' | 'linear';
  classes?: number;
  seed?: number;
}

export interface TestModel {
  model: tf.LayersModel;
  /** Path of a spatial layer inside the nested base (or block). */
  innerLayerPath: string;
  /** Path the tree must show for the nested model. */
  nestedModelPath: string;
  /** What shape this case exercises. */
  description: string;
}

export const TEST_INPUT_SHAPE: [number, number, number] = [16, 16, 3];

let counter = 0;
const unique = (base: string) => `${base}_${++counter}`;

function init(seed: number) {
  return { kernelInitializer: tf.initializers.glorotNormal({ seed }), biasInitializer: tf.initializers.randomNormal({ seed: seed + 1000, stddev: 0.1 }) };
}

function relu(smooth: boolean, name: string, maxValue?: number): tf.layers.Layer {
  if (smooth) return tf.layers.activation({ activation: maxValue ? 'tanh' : 'softplus', name });
  return tf.layers.reLU({ maxValue, name });
}

/**
 * A MobileNet-flavoured functional base: conv(stride 2, linear) → ReLU → depthwise → BN → ReLU6 →
 * conv 1x1 (fused relu) → Add(skip) → `out_relu`. Output [8, 8, 8].
 */
export function buildBase(name: string, options: TestModelOptions = {}, inputShape: number[] = TEST_INPUT_SHAPE): tf.LayersModel {
  const smooth = options.smooth ?? false;
  const seed = options.seed ?? 7;
  const input = tf.input({ shape: inputShape, name: `${name}_input` });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', name: `${name}_conv1`, ...init(seed) }).apply(input) as tf.SymbolicTensor;
  x = relu(smooth, `${name}_relu1`).apply(x) as tf.SymbolicTensor;
  const skip = x;
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', name: `${name}_dw`, depthwiseInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }), biasInitializer: tf.initializers.randomNormal({ seed: seed + 2, stddev: 0.1 }), useBias: true }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: `${name}_bn`, movingMeanInitializer: tf.initializers.randomNormal({ seed: seed + 3, stddev: 0.1 }), movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: seed + 4 }), gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: seed + 5 }) }).apply(x) as tf.SymbolicTensor;
  x = relu(smooth, `${name}_relu6`, 6).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 8, kernelSize: 1, activation: smooth ? 'tanh' : 'relu', name: `${name}_project`, ...init(seed + 6) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.add({ name: `${name}_add` }).apply([x, skip]) as tf.SymbolicTensor;
  x = relu(smooth, `${name}_out_relu`).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name });
}

function head(options: TestModelOptions, name: string): tf.layers.Layer[] {
  const classes = options.classes ?? 4;
  const seed = (options.seed ?? 7) + 100;
  const kind = options.head ?? 'softmax';
  const layers: tf.layers.Layer[] = [
    tf.layers.globalAveragePooling2d({ name: `${name}_gap` }),
    tf.layers.dense({ units: classes, activation: kind === 'softmax' ? 'softmax' : 'linear', name: `${name}_logits`, ...init(seed) }),
  ];
  if (kind === 'softmax-layer') layers.push(tf.layers.softmax({ name: `${name}_softmax` }));
  return layers;
}

export function buildTestModel(kind: TestModelCase, options: TestModelOptions = {}): TestModel {
  const id = unique(`case_${kind}`);
  switch (kind) {
    case 'a': {
      const base = buildBase(`${id}_base`, options);
      const model = tf.sequential({ name: id });
      model.add(base);
      for (const l of head(options, id)) model.add(l);
      return { model, innerLayerPath: `${id}/${id}_base/${id}_base_relu6`, nestedModelPath: `${id}/${id}_base`, description: 'Sequential, functional base added first (inlined)' };
    }
    case 'b': {
      const base = buildBase(`${id}_base`, options);
      const model = tf.sequential({ name: id, layers: [tf.layers.inputLayer({ inputShape: TEST_INPUT_SHAPE, name: `${id}_in` }), base, ...head(options, id)] });
      return { model, innerLayerPath: `${id}/${id}_base/${id}_base_relu6`, nestedModelPath: `${id}/${id}_base`, description: 'Sequential, InputLayer then the base' };
    }
    case 'c': {
      const base = buildBase(`${id}_base`, options);
      const input = tf.input({ shape: TEST_INPUT_SHAPE, name: `${id}_in` });
      let x = base.apply(input) as tf.SymbolicTensor;
      for (const l of head(options, id)) x = l.apply(x) as tf.SymbolicTensor;
      const model = tf.model({ inputs: input, outputs: x, name: id });
      return { model, innerLayerPath: `${id}/${id}_base/${id}_base_relu6`, nestedModelPath: `${id}/${id}_base`, description: 'functional, base.apply(input)' };
    }
    case 'd': {
      const smooth = options.smooth ?? false;
      const seed = options.seed ?? 7;
      const blockIn = tf.input({ shape: [8, 8, 8], name: `${id}_block_in` });
      let b = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: `${id}_block_conv`, ...init(seed + 20) }).apply(blockIn) as tf.SymbolicTensor;
      b = relu(smooth, `${id}_block_relu`).apply(b) as tf.SymbolicTensor;
      const block = tf.model({ inputs: blockIn, outputs: b, name: `${id}_block` });
      const input = tf.input({ shape: TEST_INPUT_SHAPE, name: `${id}_in` });
      let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: smooth ? 'tanh' : 'relu', name: `${id}_stem`, ...init(seed + 21) }).apply(input) as tf.SymbolicTensor;
      x = block.apply(x) as tf.SymbolicTensor;
      x = block.apply(x) as tf.SymbolicTensor;
      for (const l of head(options, id)) x = l.apply(x) as tf.SymbolicTensor;
      const model = tf.model({ inputs: input, outputs: x, name: id });
      return { model, innerLayerPath: `${id}/${id}_block[1]/${id}_block_relu`, nestedModelPath: `${id}/${id}_block[1]`, description: 'a nested block called twice' };
    }
    case 'e': {
      // Teachable Machine: outer Sequential > [Sequential > [Model, GAP], Sequential > [Dense relu, Dense softmax]].
      const seed = (options.seed ?? 7) + 200;
      const base = buildBase(`${id}_model1`, options);
      const features = tf.sequential({ name: `${id}_seq1`, layers: [base, tf.layers.globalAveragePooling2d({ name: `${id}_gap` })] });
      const classifier = tf.sequential({
        name: `${id}_seq3`,
        layers: [
          tf.layers.dense({ units: 6, activation: options.smooth ? 'tanh' : 'relu', inputShape: [8], name: `${id}_dense1`, ...init(seed) }),
          tf.layers.dense({ units: options.classes ?? 4, activation: options.head === 'linear' ? 'linear' : 'softmax', name: `${id}_dense2`, ...init(seed + 1) }),
        ],
      });
      const model = tf.sequential({ name: id });
      model.add(features);
      model.add(classifier);
      return { model, innerLayerPath: `${id}/${id}_seq1/${id}_model1/${id}_model1_relu6`, nestedModelPath: `${id}/${id}_seq1/${id}_model1`, description: 'two levels of nesting (Teachable Machine shape)' };
    }
  }
}

/** Save and reload through tfjs io (withSaveHandler → fromMemory): what a user's file goes through. */
export async function roundTrip(model: tf.LayersModel): Promise<tf.LayersModel> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  if (!saved) throw new Error('save produced no artifacts');
  return tf.loadLayersModel(tf.io.fromMemory(saved));
}

/** Deterministic RGBA test image (a smooth pattern with an off-centre bright blob). */
export function testImage(width = 24, height = 20): { width: number; height: number; data: Uint8ClampedArray } {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const blob = Math.exp(-((x - width * 0.3) ** 2 + (y - height * 0.6) ** 2) / 20);
      data[i] = 255 * blob;
      data[i + 1] = (x * 255) / width;
      data[i + 2] = (y * 255) / height;
      data[i + 3] = 255;
    }
  }
  return { width, height, data };
}

/** Write `model` as TF.js layers files (model.json + weights.bin) into `dir`, as the converter would. */
export async function writeModelFiles(model: tf.LayersModel, dir: string): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const a = artifacts as tf.io.ModelArtifacts | null;
  if (!a) throw new Error('save produced no artifacts');
  const weights = Array.isArray(a.weightData) ? tf.io.concatenateArrayBuffers(a.weightData) : a.weightData!;
  writeFileSync(join(dir, 'model.json'), JSON.stringify({
    format: 'layers-model',
    generatedBy: 'test',
    convertedBy: null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
  }));
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(weights));
}
