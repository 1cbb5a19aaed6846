import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compileProgram } from '../src/engine';
import { gradientFloors, methodFloor, stepMacs } from './bench-floor';

/** Input 8×8×3 → conv 3×3 s2 (4) → depthwise 3×3 (×2) → separable 3×3 (5) → GAP → dense 6. */
function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3] });
  let x = tf.layers.conv2d({ name: 'conv', filters: 4, kernelSize: 3, strides: 2, padding: 'same' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, depthMultiplier: 2, padding: 'same' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.separableConv2d({ name: 'sep', filters: 5, kernelSize: 3, padding: 'valid' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ name: 'dense', units: 6 }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('multiply-add floors of the bench', () => {
  it('counts each layer kind by hand and puts the floors where the downstream share says', () => {
    const model = smallModel();
    const program = compileProgram(model);
    const byName = Object.fromEntries(program.steps.map((s) => [s.layer.name, stepMacs(s)]));
    expect(byName.conv).toBe(4 * 4 * 4 * (3 * 3 * 3)); // 4×4 outputs × 4 filters × 27 taps
    expect(byName.dw).toBe(4 * 4 * 8 * 9); // 4×4 × (4 channels × 2) × 9 taps
    expect(byName.sep).toBe(2 * 2 * (8 * 9 + 8 * 5)); // valid 3×3 on 4×4 → 2×2: depthwise + pointwise
    expect(byName.dense).toBe(5 * 6);
    expect(byName.gap).toBe(0);
    const total = byName.conv + byName.dw + byName.sep + byName.dense;
    const floors = gradientFloors(model, 'sep', 'conv');
    expect(floors.guided_backprop).toBe(2);
    expect(floors.gradcam_last).toBeCloseTo(1 + byName.dense / total, 2);
    expect(floors.gradcam_early).toBeCloseTo(1 + (byName.dw + byName.sep + byName.dense) / total, 2);
    // Per method, at the separable conv (5 channels after it).
    const sep = program.steps.find((s) => s.layer.name === 'sep')!.outputs[0]!;
    const tail = byName.dense / total;
    expect(methodFloor(program, 'gradcam', sep)).toBeCloseTo(1 + tail, 2);
    expect(methodFloor(program, 'eigencam', sep)).toBe(1);
    expect(methodFloor(program, 'vanilla-gradient', sep)).toBe(2);
    expect(methodFloor(program, 'guided-gradcam', sep)).toBeCloseTo(2 + tail, 2);
    expect(methodFloor(program, 'scorecam', sep)).toBe(6);
    expect(methodFloor(program, 'ablationcam', sep)).toBeCloseTo(1 + 5 * tail, 2);
    expect(methodFloor(program, 'smoothgrad', sep, { samples: 10 })).toBe(21);
    expect(methodFloor(program, 'integrated-gradients', sep)).toBe(129);
    model.dispose();
  });
});
