import { describe, expect, it } from 'vitest';
import { generateBatch, randomScene, renderScene, Rng, SHAPE_CLASSES, shapeBox, shapePolygon, targetClasses, topClasses, twoShapeScene } from './demo-data';

describe('demo data generator', () => {
  it('is deterministic: the same seed gives the same bytes, another seed different ones', () => {
    const a = generateBatch(new Rng(7), { count: 12, size: 32, twoShapeFraction: 0.3 });
    const b = generateBatch(new Rng(7), { count: 12, size: 32, twoShapeFraction: 0.3 });
    const c = generateBatch(new Rng(8), { count: 12, size: 32, twoShapeFraction: 0.3 });
    expect(Buffer.from(a.images.buffer).equals(Buffer.from(b.images.buffer))).toBe(true);
    expect(Array.from(a.targets)).toEqual(Array.from(b.targets));
    expect(Buffer.from(a.images.buffer).equals(Buffer.from(c.images.buffer))).toBe(false);
  });

  it('balances the classes and keeps pixels in [0, 1] with targets summing to 1', () => {
    const batch = generateBatch(new Rng(1), { count: 40, size: 24, twoShapeFraction: 0.25 });
    const counts = SHAPE_CLASSES.map((_, k) => batch.labels.filter((l) => l === k).length);
    expect(counts).toEqual([10, 10, 10, 10]);
    expect(Math.min(...batch.images)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...batch.images)).toBeLessThanOrEqual(1);
    for (let i = 0; i < batch.count; i++) {
      const row = batch.targets.slice(i * 4, i * 4 + 4);
      expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
      expect(row[batch.labels[i]!]).toBeGreaterThan(0);
    }
  });

  it('gives two-shape scenes soft targets 0.5 / 0.5 on two different classes, one of them the label', () => {
    const batch = generateBatch(new Rng(11), { count: 24, size: 16, twoShapeFraction: 1 });
    const again = generateBatch(new Rng(11), { count: 24, size: 16, twoShapeFraction: 1 });
    expect(Buffer.from(batch.images.buffer).equals(Buffer.from(again.images.buffer))).toBe(true);
    const pairs = new Set<string>();
    for (let i = 0; i < batch.count; i++) {
      const row = Array.from(batch.targets.slice(i * 4, i * 4 + 4));
      const present = targetClasses(batch, i);
      expect(present).toHaveLength(2);
      expect(present[0]).not.toBe(present[1]);
      expect(present).toContain(batch.labels[i]);
      for (const k of present) expect(row[k]).toBeCloseTo(0.5, 6);
      expect(row.filter((v) => v === 0)).toHaveLength(2);
      pairs.add(present.join('+'));
    }
    // The second class is drawn at random, so several of the six pairs occur.
    expect(pairs.size).toBeGreaterThanOrEqual(4);
    // Single-shape scenes keep a one-hot target.
    const single = generateBatch(new Rng(11), { count: 8, size: 16 });
    for (let i = 0; i < single.count; i++) expect(targetClasses(single, i)).toEqual([single.labels[i]]);
  });

  it('mixes in about the requested share of two-shape scenes', () => {
    const batch = generateBatch(new Rng(12), { count: 200, size: 8, twoShapeFraction: 0.25 });
    const twoShapes = Array.from({ length: batch.count }, (_, i) => targetClasses(batch, i).length).filter((n) => n === 2).length;
    expect(twoShapes).toBeGreaterThan(30);
    expect(twoShapes).toBeLessThan(70);
  });

  it('ranks classes by probability for the top-k check', () => {
    expect(topClasses([0.1, 0.4, 0.05, 0.45], 2)).toEqual([3, 1]);
    expect(topClasses([0.25, 0.25, 0.25, 0.25], 2)).toEqual([0, 1]);
    expect(topClasses(new Float32Array([0.7, 0.1, 0.2, 0]), 1)).toEqual([0]);
  });

  it('places every shape wholly inside the image, two-shape scenes far apart', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 200; i++) {
      const scene = i % 2 === 0
        ? randomScene(rng, { shapes: [{ cls: SHAPE_CLASSES[i % 4]! }] })
        : twoShapeScene(rng, SHAPE_CLASSES[i % 4]!, SHAPE_CLASSES[(i + 1) % 4]!);
      for (const shape of scene.shapes) {
        for (const [x, y] of shapePolygon(shape)) {
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThanOrEqual(1);
          expect(y).toBeGreaterThanOrEqual(0);
          expect(y).toBeLessThanOrEqual(1);
        }
      }
      if (scene.shapes.length === 2) {
        const [a, b] = scene.shapes as [typeof scene.shapes[0], typeof scene.shapes[0]];
        expect(Math.hypot(a.cx - b.cx, a.cy - b.cy)).toBeGreaterThan(a.radius + b.radius);
      }
    }
  });

  it('draws the shape: pixels at its centre take its colour, its box is inside the image', () => {
    const rng = new Rng(5);
    for (const cls of SHAPE_CLASSES) {
      const scene = randomScene(rng, { shapes: [{ cls, cx: 0.5, cy: 0.5, radius: 0.25 }] });
      scene.distractors = [];
      const size = 64;
      const rgba = renderScene(scene, size);
      const centre = (32 * size + 32) * 4;
      const color = scene.shapes[0]!.color;
      for (let c = 0; c < 3; c++) expect(Math.abs(rgba[centre + c]! - color[c]!)).toBeLessThanOrEqual(1);
      const box = shapeBox(scene.shapes[0]!, size);
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(size);
      expect(box.width).toBeGreaterThan(10);
    }
  });
});
