import { describe, expect, it } from 'vitest';
import { colourName, conceptCaption, conceptLegend } from './concepts';
import type { Concepts } from './types';

const concepts: Concepts = {
  width: 2, height: 1, count: 2, maps: new Float32Array(4),
  topClasses: [
    [{ index: 0, probability: 0.97 }, { index: 1, probability: 0.02 }, { index: 3, probability: 0.004 }],
    [{ index: 3, probability: 0.6 }, { index: 2, probability: 0.3 }, { index: 7, probability: 0.1 }],
  ],
  colours: [[31, 119, 180], [1, 2, 255]],
};

describe('concept legend', () => {
  it('names each concept by its classes (labels, else "class i") and colour', () => {
    const legend = conceptLegend(concepts, ['circle', 'square', 'triangle', 'star']);
    expect(legend[0]).toEqual({ colour: [31, 119, 180], classes: [{ label: 'circle', probability: 0.97 }, { label: 'square', probability: 0.02 }, { label: 'star', probability: 0.004 }] });
    expect(legend[1]?.classes.map((c) => c.label)).toEqual(['star', 'triangle', 'class 7']);
    expect(colourName([31, 119, 180])).toBe('blue');
    expect(colourName([1, 2, 255])).toBe('#0102ff');
    // Classes under 1 % are left out of the caption, the top one never.
    expect(conceptCaption(legend)).toEqual(['Concept 1 (blue): circle 97 %, square 2 %', 'Concept 2 (#0102ff): star 60 %, triangle 30 %, class 7 10 %']);
  });
});
