import { describe, expect, it } from 'vitest';
import { splitForMiddleEllipsis } from './middle-ellipsis';

describe('splitForMiddleEllipsis', () => {
  it('short names stay whole', () => {
    expect(splitForMiddleEllipsis('Conv_1')).toEqual(['Conv_1', '']);
  });
  it('the tail is the distinguishing end, starting at a separator when one is near', () => {
    expect(splitForMiddleEllipsis('block2_sepconv2_act')).toEqual(['block2_', 'sepconv2_act']);
    expect(splitForMiddleEllipsis('block2_sepconv2_bn')).toEqual(['block2_', 'sepconv2_bn']);
    expect(splitForMiddleEllipsis('separable_conv2d_2')).toEqual(['separable_', 'conv2d_2']);
    const [head, tail] = splitForMiddleEllipsis('StatefulPartitionedCall/model_1/expanded_conv_depthwise_relu');
    expect(head + tail).toBe('StatefulPartitionedCall/model_1/expanded_conv_depthwise_relu');
    expect(tail).toBe('depthwise_relu');
  });
  it('rows that differ only at the end keep different tails', () => {
    expect(splitForMiddleEllipsis('expanded_conv_depthwise_a1')[1]).not.toBe(splitForMiddleEllipsis('expanded_conv_depthwise_b2')[1]);
  });
});
