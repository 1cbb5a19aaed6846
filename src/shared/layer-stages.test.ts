import { describe, expect, it } from 'vitest';
import { stageLayers } from './layer-stages';
import { mobileNetV2, smallCnn } from './test-trees';

describe('stageLayers', () => {
  for (const withPads of [true, false]) {
    it(`MobileNetV2-like tree ${withPads ? 'with' : 'without'} padding layers: 7, 14, 28, 56 px, the last feature layer of each, deepest first`, () => {
      const names = stageLayers(mobileNetV2(withPads), [224, 224]).map((n) => n.name);
      expect(names).toEqual(['out_relu', 'block_13_expand_relu', 'block_6_expand_relu', 'block_3_expand_relu']);
    });
  }
  it('without an input size every stage is kept (112 px too), still no padding or reshape', () => {
    const names = stageLayers(mobileNetV2(true)).map((n) => n.name);
    expect(names).toEqual(['out_relu', 'block_13_expand_relu', 'block_6_expand_relu', 'block_3_expand_relu', 'block_1_expand_relu']);
  });
  it('a small model keeps two stages even when only one is a quarter of the input (the demo: 16 and 32 px of 64)', () => {
    expect(stageLayers(smallCnn(), [64, 64]).map((n) => n.name)).toEqual(['block3_out', 'block2_conv_relu']);
  });
});
