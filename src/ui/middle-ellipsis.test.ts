import { describe, expect, it } from 'vitest';
import { splitForMiddleEllipsis } from './middle-ellipsis';

describe('splitForMiddleEllipsis', () => {
  it('short names stay whole', () => {
    expect(splitForMiddleEllipsis('block_16_project')).toEqual(['block_16_project', '']);
  });
  it('long names keep their distinguishing end, starting at a separator when one is near', () => {
    const [head, tail] = splitForMiddleEllipsis('StatefulPartitionedCall/model_1/expanded_conv_depthwise_relu');
    expect(head + tail).toBe('StatefulPartitionedCall/model_1/expanded_conv_depthwise_relu');
    expect(tail).toBe('depthwise_relu');
    const a = splitForMiddleEllipsis('expanded_conv_depthwise/Relu6_a1')[1];
    const b = splitForMiddleEllipsis('expanded_conv_depthwise/Relu6_b2')[1];
    expect(a).not.toBe(b);
  });
});
