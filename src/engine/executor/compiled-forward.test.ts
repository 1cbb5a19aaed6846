/**
 * The compiled forward pass: conv → BN (→ ReLU / ReLU6) chains as one fused call. Equal to the plain
 * pass at every slot it keeps, the skipped slots made on demand equal too, gradients through and at
 * the chains equal to the uncompiled ones, nothing leaked — on the CPU and WASM backends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { fusedChains, isSkippedSlot, materializeSlot, slotElements } from './compiled-forward';
import { rowsPerBatch } from '../methods/batches';
import { disposeFoldedWeights, prepareFoldedWeights } from './folding';
import { runForward } from './forward';
import { gradientAt } from './gradient';
import { withGuidedGradients } from './guided';
import { registerFastWasmGradients } from '../kernels/wasm-gradients';
import { loadedModelFromLayersModel } from '../model';
import { camOf, camRawMaxOf, guidedBackpropOf } from '../../test-support/result-maps';
import { compileProgram, type Program } from './program';
import { flattenTree } from '../tree';

/** A MobileNetV2-like stack: conv→BN→ReLU6 (ReLU layer), depthwise→BN→ReLU (Activation), conv→BN + residual, conv(relu)→BN. */
function buildChainModel(): tf.LayersModel {
  const input = tf.input({ shape: [12, 12, 3] });
  const bn = (name: string) => tf.layers.batchNormalization({ name, epsilon: 1e-3 });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'stem' }).apply(input) as tf.SymbolicTensor;
  x = bn('stem_bn').apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ maxValue: 6, name: 'stem_relu6' }).apply(x) as tf.SymbolicTensor;
  const block = x;
  let y = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'dw' }).apply(x) as tf.SymbolicTensor;
  y = bn('dw_bn').apply(y) as tf.SymbolicTensor;
  y = tf.layers.activation({ activation: 'relu', name: 'dw_relu' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: true, name: 'project' }).apply(y) as tf.SymbolicTensor;
  y = bn('project_bn').apply(y) as tf.SymbolicTensor; // no activation: a chain of two
  x = tf.layers.add({ name: 'add' }).apply([block, y]) as tf.SymbolicTensor;
  // A conv with its own activation: the BN after it cannot be folded (stays a separate step).
  x = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'valid', activation: 'relu', name: 'head_conv' }).apply(x) as tf.SymbolicTensor;
  x = bn('head_bn').apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 4, activation: 'softmax', name: 'probs' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: 'chains' });
  // Seeded weights (an unseeded draw once left every head ReLU dead: an all-zero gradient); inference
  // statistics that are not the identity, so a wrong fold shows; biases ≥ 0 keep units alive.
  let seed = 11;
  for (const layer of model.layers) {
    const bn = layer.getClassName() === 'BatchNormalization';
    layer.setWeights(
      layer.getWeights().map((w, i) =>
        bn
          ? tf.randomUniform(w.shape, i === 3 ? 0.5 : -0.8, i === 3 ? 2 : 0.8, 'float32', seed++)
          : w.rank === 1
            ? tf.randomUniform(w.shape, 0, 0.2, 'float32', seed++)
            : tf.randomUniform(w.shape, -0.5, 0.5, 'float32', seed++),
      ),
    );
  }
  return model;
}

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

describe.each(['cpu', 'wasm'])('compiled forward (%s)', (backend) => {
  let model: tf.LayersModel;
  let program: Program;
  let input: tf.Tensor4D;

  beforeAll(async () => {
    await tf.setBackend(backend);
    await tf.ready();
    if (backend === 'wasm') registerFastWasmGradients();
    model = buildChainModel();
    program = compileProgram(model);
    prepareFoldedWeights(program);
    input = tf.randomUniform([1, 12, 12, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  });

  afterAll(() => {
    input.dispose();
    disposeFoldedWeights(program);
    model.dispose();
  });

  it('finds the chains: with their ReLU6 / ReLU layers, a chain of two before a residual add, none after a conv with its own activation', () => {
    const chains = [...fusedChains(program).values()].map((c) => `${c.conv.layer.name}→${c.bn.layer.name}${c.act ? `→${c.act.layer.name}` : ''} (${c.activation})`);
    expect(chains).toEqual(['stem→stem_bn→stem_relu6 (relu6)', 'dw→dw_bn→dw_relu (relu)', 'project→project_bn (linear)']);
  });

  it('equals the plain pass at every slot it keeps; skipped slots made on demand equal too; nothing leaks', () => {
    const before = tf.memory().numTensors;
    const plain = tf.tidy(() => runForward(program, input.clone(), { fast: true }));
    const compiled = tf.tidy(() => runForward(program, input.clone(), { fast: true, compiled: true }));
    const skipped = [...fusedChains(program).values()].flatMap((c) => c.skipped);
    expect(skipped).toHaveLength(5);
    // Memory estimates count the skipped slots at the size they will have (a batch's own pass fills them).
    expect(rowsPerBatch({ values: compiled }, 64, true)).toBe(rowsPerBatch({ values: plain }, 64, true));
    for (let s = 0; s < program.slotCount; s++) {
      if (skipped.includes(s)) {
        expect(compiled[s]).toBeUndefined();
        expect(isSkippedSlot(compiled, s)).toBe(true);
        expect(slotElements(compiled, s)).toBe(plain[s]!.size);
        continue;
      }
      expect(maxAbsDiff(compiled[s]!, plain[s]!), `slot ${s}`).toBeLessThan(1e-4);
    }
    for (const s of skipped) {
      const made = materializeSlot(compiled, s)!;
      expect(maxAbsDiff(made, plain[s]!), `skipped slot ${s}`).toBeLessThan(1e-4);
      expect(isSkippedSlot(compiled, s)).toBe(false);
    }
    tf.dispose([...plain, ...compiled]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gradients through the chains (plain and guided) and at a chain-internal layer equal the uncompiled ones', () => {
    const before = tf.memory().numTensors;
    const plain = tf.tidy(() => runForward(program, input.clone(), { fast: true }));
    const compiled = tf.tidy(() => runForward(program, input.clone(), { fast: true, compiled: true }));
    const chain = [...fusedChains(program).values()][1]!; // dw → dw_bn → dw_relu
    for (const cls of [0, 3]) {
      const a = gradientAt(program, plain, program.inputSlot, cls);
      const b = gradientAt(program, compiled, program.inputSlot, cls);
      const scale = tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0]!);
      expect(scale).toBeGreaterThan(0); // a gradient that flows, so the comparison means something
      expect(maxAbsDiff(a, b) / scale).toBeLessThan(1e-4);
      const ga = withGuidedGradients(() => gradientAt(program, plain, program.inputSlot, cls));
      const gb = withGuidedGradients(() => gradientAt(program, compiled, program.inputSlot, cls));
      expect(maxAbsDiff(ga, gb) / Math.max(1e-12, tf.tidy(() => tf.max(tf.abs(ga)).dataSync()[0]!))).toBeLessThan(1e-4);
      tf.dispose([a, b, ga, gb]);
    }
    // The input gradient did not make the skipped slots (the backward pass reads around them).
    expect(chain.skipped.every((s) => isSkippedSlot(compiled, s))).toBe(true);
    // A layer inside a chain (the depthwise conv's own output): made, then differentiated.
    const at = chain.conv.outputs[0]!;
    const a = gradientAt(program, plain, at, 2);
    const b = gradientAt(program, compiled, at, 2);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-4 * Math.max(1, tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0]!)));
    expect(compiled[at]).toBeDefined();
    tf.dispose([a, b, ...plain, ...compiled]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('through LoadedModel: Grad-CAM at every layer (chain-internal ones included) and guided backprop equal the uncompiled tape path', async () => {
    const first = buildChainModel();
    const second = buildChainModel();
    second.setWeights(first.getWeights()); // the same weights: the conv kernels are not seeded
    const compiled = await loadedModelFromLayersModel(first);
    const plain = await loadedModelFromLayersModel(second, { gradientPath: 'plain' });
    expect(fusedChains((compiled as unknown as { program: Program }).program).size).toBe(3); // the compiled path is taken
    const data = new Uint8ClampedArray(12 * 12 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 37) % 256));
    const image = { width: 12, height: 12, data };
    const layers = flattenTree(compiled.summary.tree).filter((n) => n.explainable && !n.children);
    expect(layers.map((n) => n.name)).toEqual(expect.arrayContaining(['stem', 'stem_bn', 'dw', 'dw_bn', 'project']));
    for (const node of layers) {
      const a = await compiled.explain(image, { methods: ['gradcam', 'guided-backprop'], layerPath: node.path, target: 1 });
      const b = await plain.explain(image, { methods: ['gradcam', 'guided-backprop'], layerPath: node.path, target: 1 });
      const scale = Math.max(1e-6, camRawMaxOf(b)!);
      expect(Math.abs(camRawMaxOf(a)! - camRawMaxOf(b)!) / scale, node.name).toBeLessThan(1e-3);
      expect(Math.max(...camOf(a)!.data.map((v, i) => Math.abs(v - camOf(b)!.data[i]!))), node.name).toBeLessThan(1e-3);
      expect(Math.max(...guidedBackpropOf(a)!.data.map((v, i) => Math.abs(v - guidedBackpropOf(b)!.data[i]!))), node.name).toBeLessThan(1e-3);
    }
    compiled.dispose();
    plain.dispose();
  });
});
