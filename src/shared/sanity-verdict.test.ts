import { describe, expect, it } from 'vitest';
import { blockName, sanityRule, sanityVerdict, topBlockLayers, describeSanityRule } from './sanity-verdict';

// MobileNetV2-like layers, head first (as the sanity check randomises them).
const LAYERS = [
  'seq_3/dense_Dense2', 'seq_3/dense_Dense1', 'model1/Conv_1',
  'model1/block_16_project', 'model1/block_16_depthwise', 'model1/block_16_expand',
  'model1/block_15_project', 'model1/block_15_depthwise', 'model1/block_15_expand',
  'model1/block_14_project', 'model1/block_14_depthwise', 'model1/block_14_expand',
];
/** Cascading steps of `size` layers each. */
const cascade = (size: number) => [[], ...Array.from({ length: Math.ceil(LAYERS.length / size) }, (_, i) => LAYERS.slice(0, (i + 1) * size))];

describe('blockName / topBlockLayers', () => {
  it('reads the block of Keras application names', () => {
    expect(blockName('a/b/block_16_project')).toBe('block_16');
    expect(blockName('conv5_block3_2_conv')).toBe('conv5_block3');
    expect(blockName('block5_conv3')).toBe('block5');
    expect(blockName('Conv_1')).toBeNull();
    expect(blockName('dense_Dense1')).toBeNull();
  });
  it('the top block runs from the head to the end of the first named block', () => {
    expect(topBlockLayers(LAYERS)).toEqual({ name: 'block_16', layers: LAYERS.slice(0, 6) });
  });
  it('a top block larger than half the network is cut at half', () => {
    const small = ['dense', 'block3_conv2', 'block3_conv1', 'block3_conv0', 'block2_conv', 'block1_conv'];
    expect(topBlockLayers(small)).toEqual({ name: 'block3 (its part in the top half)', layers: small.slice(0, 3) });
  });
  it('without block names: the head and the layer below it at least', () => {
    const flat = Array.from({ length: 9 }, (_, i) => `conv2d_${9 - i}`);
    expect(topBlockLayers(flat).layers).toEqual(flat.slice(0, 2));
  });
});

describe('sanityRule / sanityVerdict (cascading)', () => {
  const rule = sanityRule('cascading', LAYERS, cascade(2));
  it('the top block is random at the first step holding all of its layers; half at 6 of 12', () => {
    expect(rule.topBlock.steps).toEqual([3]);
    expect(rule.halfStep).toBe(3);
    const wide = sanityRule('cascading', LAYERS, cascade(1));
    expect(wide.topBlock.steps).toEqual([6]);
    expect(wide.halfStep).toBe(6);
  });
  it('passes when ρ is below the threshold at the top-block step', () => {
    expect(sanityVerdict([1, 0.8, 0.6, 0.3, 0.2, 0.1, 0.1], rule)).toBe('pass');
  });
  it('fails when ρ stays high through half of the layers, whatever comes after (guided backprop on the Teachable Machine export)', () => {
    const guided = sanityRule('cascading', LAYERS, cascade(1));
    expect(sanityVerdict([1, 0.99, 0.99, 0.92, 0.93, 0.91, 0.9, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1], guided)).toBe('fail');
  });
  it('is inconclusive when ρ falls below only after the top block, before half of the layers', () => {
    const wide = sanityRule('cascading', LAYERS, cascade(1));
    expect(sanityVerdict([1, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.4], wide)).toBe('fail'); // below only after half (step 6)
    expect(sanityVerdict([1, 0.9, 0.9, 0.9, 0.45, 0.9, 0.9, 0.4], wide)).toBe('inconclusive');
  });
  it('says its rule with its numbers', () => {
    expect(describeSanityRule(rule)).toMatch(/below 0\.5 by step 3.*block_16: 6 of 12 layers.*through step 3/);
  });
});

describe('sanityRule / sanityVerdict (independent)', () => {
  const steps = [[], ...LAYERS.map((l) => [l])];
  const rule = sanityRule('independent', LAYERS, steps);
  it('passes when a top-block layer alone changes the map, fails when no layer does', () => {
    expect(rule.topBlock.steps).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sanityVerdict([1, 0.9, 0.3, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9], rule)).toBe('pass');
    expect(sanityVerdict([1, ...LAYERS.map(() => 0.95)], rule)).toBe('fail');
    expect(sanityVerdict([1, ...LAYERS.map((_, i) => (i === 10 ? 0.2 : 0.95))], rule)).toBe('inconclusive');
  });
});
