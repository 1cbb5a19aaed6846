import { describe, expect, it } from 'vitest';
import { generateBatch, randomScene, renderScene, Rng, SHAPE_CLASSES, shapeBox, shapePolygon, twoShapeScene } from './demo-data';

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
