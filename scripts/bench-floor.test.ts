import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compileProgram } from '../src/engine/program';
import { gradientFloors, stepMacs } from './bench-floor';

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
    model.dispose();
  });
});
