/**
 * The layers grid's layers: one per resolution stage of the network, the stage's last layer that
 * carries features, deepest stage first, down to a quarter of the input's size. On a MobileNetV2
 * (224 px) that is out_relu (7), block_12_add … block_13_expand_relu (14), the 28- and the 56-pixel
 * stage's last layers. The earlier rule took the last explainable layer of each output size, so the
 * ZeroPadding layers (block_13_pad, 15×15; block_6_pad, 29×29) became stages of their own and took
 * two of the four slots while the 28- and 56-pixel stages were skipped.
 */
import type { LayerNode } from './types';

/** Layers that move or pad values without computing features: never a stage's representative. */
const NOT_FEATURES = /^(ZeroPadding[123]D|Cropping[123]D|Reshape|Flatten|Permute|RepeatVector|Dropout|SpatialDropout[123]D|GaussianNoise|GaussianDropout|InputLayer|Pad|PadV2|MirrorPad|Squeeze|ExpandDims|Transpose|Identity|Placeholder)$/;

export function carriesFeatures(node: LayerNode): boolean {
  return node.explainable && !NOT_FEATURES.test(node.className);
}

/** Spatial size [height, width] of a rank-4 output, or null. */
function spatial(node: LayerNode): [number, number] | null {
  const [, h, w] = node.outputShape;
  return node.outputShape.length === 4 && typeof h === 'number' && typeof w === 'number' ? [h, w] : null;
}

/**
 * One layer per stage among `leaves` (execution order): the last feature layer of each spatial size,
 * deepest (latest) first, keeping only stages no larger than a quarter of the input (`inputSize`:
 * the input's [height, width]; without it, every stage) — at least two when the model has two.
 */
export function stageLayers(leaves: readonly LayerNode[], inputSize?: readonly [number, number]): LayerNode[] {
  const largest = inputSize ?? [Infinity, Infinity];
  const lastOfSize = new Map<string, { node: LayerNode; order: number; size: [number, number] }>();
  leaves.forEach((node, order) => {
    const size = spatial(node);
    // Stages smaller than the input (a full-size layer is the image itself, not a stage of features).
    if (size && carriesFeatures(node) && (size[0] < largest[0] || size[1] < largest[1])) lastOfSize.set(`${size[0]}×${size[1]}`, { node, order, size });
  });
  const byDepth = [...lastOfSize.values()].sort((a, b) => b.order - a.order);
  // A stage is no larger than a quarter of the input on both sides (the 56-pixel stage of a 224 input is in, 112 is out)…
  const small = byDepth.filter((s) => s.size[0] * 4 <= largest[0] && s.size[1] * 4 <= largest[1]);
  // …but a grid of one compares nothing: a small model (the demo's 64 px input: 16 and 32 px stages) keeps its next stage too.
  const kept = small.length >= 2 ? small : byDepth.slice(0, Math.max(2, small.length));
  return kept.map((s) => s.node);
}
