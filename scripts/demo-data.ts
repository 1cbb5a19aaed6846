/**
 * Synthetic "shapes" data for the built-in demo: circles, squares, triangles and stars in varied
 * colours, sizes, rotations and positions on cluttered, textured backgrounds.
 *
 * Everything is drawn from a seeded PRNG, and every scene is described in normalised [0, 1]
 * coordinates, so the same scene renders at 64×64 for training and at 256×256 for the samples
 * with the same statistics. Plain TypeScript, no tfjs: scenes become RGBA bytes.
 */

import { Rng as SeededRng } from '../src/engine';

export const SHAPE_CLASSES = ['circle', 'square', 'triangle', 'star'] as const;
export type ShapeClass = (typeof SHAPE_CLASSES)[number];

export type Rgb = [number, number, number];

/** The engine's seeded generator (mulberry32: identical on every platform) with the draws data generation needs. */
export class Rng extends SeededRng {
  range(min: number, max: number): number {
    return min + (max - min) * this.next();
  }
  int(min: number, maxExclusive: number): number {
    return Math.floor(this.range(min, maxExclusive));
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length)]!;
  }
  /** A permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): number[] {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order;
  }
}

export interface ShapeSpec {
  cls: ShapeClass;
  /** Centre and circumradius in normalised image coordinates. */
  cx: number;
  cy: number;
  radius: number;
  rotation: number;
  color: Rgb;
}

interface Distractor {
  kind: 'bar' | 'cross' | 'dot';
  cx: number;
  cy: number;
  length: number;
  width: number;
  rotation: number;
  color: Rgb;
}

export interface Scene {
  gradient: { from: Rgb; to: Rgb; angle: number };
  stripes: { angle: number; period: number; amplitude: number; phase: number };
  /** Low-resolution value noise (NOISE_GRID²), sampled bilinearly so it looks the same at any size. */
  noise: Float32Array;
  noiseAmplitude: number;
  distractors: Distractor[];
  shapes: ShapeSpec[];
}

const NOISE_GRID = 32;

function hsvToRgb(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6) % 6;
  const f = h * 6 - Math.floor(h * 6);
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const [r, g, b] = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i]!;
  return [r! * 255, g! * 255, b! * 255];
}

const luminance = ([r, g, b]: Rgb) => 0.299 * r + 0.587 * g + 0.114 * b;
const colorDistance = (a: Rgb, b: Rgb) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/** A colour that stands out from the background: redrawn until far enough from its mean colour. */
function contrastingColor(rng: Rng, background: Rgb): Rgb {
  for (let attempt = 0; attempt < 50; attempt++) {
    const color = hsvToRgb(rng.next(), rng.range(0.5, 1), rng.range(0.1, 1));
    if (colorDistance(color, background) > 150 && Math.abs(luminance(color) - luminance(background)) > 80) return color;
  }
  return luminance(background) > 128 ? [20, 20, 20] : [235, 235, 235];
}

function randomBackground(rng: Rng): Omit<Scene, 'shapes' | 'distractors'> {
  // Muted backgrounds, with both ends of the gradient in one luminance band so shapes keep contrast.
  const value = rng.range(0.15, 0.9);
  const from = hsvToRgb(rng.next(), rng.range(0, 0.5), value);
  const to = hsvToRgb(rng.next(), rng.range(0, 0.5), Math.min(0.95, Math.max(0.1, value + rng.range(-0.15, 0.15))));
  const noise = new Float32Array(NOISE_GRID * NOISE_GRID);
  for (let i = 0; i < noise.length; i++) noise[i] = rng.range(-1, 1);
  return {
    gradient: { from, to, angle: rng.range(0, Math.PI * 2) },
    stripes: { angle: rng.range(0, Math.PI), period: rng.range(0.04, 0.2), amplitude: rng.range(0, 14), phase: rng.range(0, Math.PI * 2) },
    noise,
    noiseAmplitude: rng.range(3, 12),
  };
}

function meanBackground(scene: Pick<Scene, 'gradient'>): Rgb {
  const { from, to } = scene.gradient;
  return [(from[0] + to[0]) / 2, (from[1] + to[1]) / 2, (from[2] + to[2]) / 2];
}

/** Small clutter that is none of the classes: bars, crosses and dots, 2–7 % of the image wide. */
function randomDistractors(rng: Rng, background: Rgb): Distractor[] {
  const count = rng.int(1, 4);
  return Array.from({ length: count }, () => ({
    kind: rng.pick(['bar', 'cross', 'dot'] as const),
    cx: rng.range(0.05, 0.95),
    cy: rng.range(0.05, 0.95),
    length: rng.range(0.05, 0.12),
    width: rng.range(0.015, 0.03),
    rotation: rng.range(0, Math.PI),
    color: rng.next() < 0.5 ? contrastingColor(rng, background) : hsvToRgb(rng.next(), rng.range(0, 1), rng.range(0.1, 1)),
  }));
}

export interface SceneOptions {
  /** Shapes to draw; each gets a random colour, and a random place unless given. */
  shapes: Array<{ cls: ShapeClass; cx?: number; cy?: number; radius?: number }>;
}

export function randomScene(rng: Rng, options: SceneOptions): Scene {
  const background = randomBackground(rng);
  const mean = meanBackground(background);
  const distractors = randomDistractors(rng, mean);
  const shapes = options.shapes.map(({ cls, cx, cy, radius }) => {
    const r = radius ?? rng.range(0.22, 0.34);
    return {
      cls,
      radius: r,
      cx: cx ?? rng.range(r, 1 - r),
      cy: cy ?? rng.range(r, 1 - r),
      rotation: rng.range(0, Math.PI * 2),
      color: contrastingColor(rng, mean),
    };
  });
  return { ...background, distractors, shapes };
}

type Point = [number, number];

/** Polygon vertices (normalised coordinates) of a shape; circles are handled analytically. */
export function shapePolygon(shape: ShapeSpec): Point[] {
  const { cls, cx, cy, radius, rotation } = shape;
  const ring = (count: number, radiusAt: (i: number) => number): Point[] =>
    Array.from({ length: count }, (_, i) => {
      const angle = rotation + (i * 2 * Math.PI) / count;
      return [cx + radiusAt(i) * Math.cos(angle), cy + radiusAt(i) * Math.sin(angle)];
    });
  switch (cls) {
    case 'square':
      return ring(4, () => radius * 0.9);
    case 'triangle':
      return ring(3, () => radius);
    case 'star':
      return ring(10, (i) => (i % 2 === 0 ? radius : radius * 0.42));
    case 'circle':
      return ring(48, () => radius * 0.82);
  }
}

function insidePolygon(x: number, y: number, xs: Float64Array, ys: Float64Array): boolean {
  let inside = false;
  const n = xs.length;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = xs[i]!;
    const yi = ys[i]!;
    const xj = xs[j]!;
    const yj = ys[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** A point-inside test for one shape, with its polygon flattened once (hot loop). */
function shapeTester(shape: ShapeSpec): (x: number, y: number) => boolean {
  if (shape.cls === 'circle') {
    const r2 = (shape.radius * 0.82) ** 2;
    return (x, y) => (x - shape.cx) ** 2 + (y - shape.cy) ** 2 <= r2;
  }
  const polygon = shapePolygon(shape);
  const xs = Float64Array.from(polygon, (p) => p[0]);
  const ys = Float64Array.from(polygon, (p) => p[1]);
  return (x, y) => insidePolygon(x, y, xs, ys);
}

function distractorTester(d: Distractor): (x: number, y: number) => boolean {
  const cos = Math.cos(d.rotation);
  const sin = Math.sin(d.rotation);
  const halfLength = d.length / 2;
  const halfWidth = d.width / 2;
  const bar = (a: number, b: number) => Math.abs(a) <= halfLength && Math.abs(b) <= halfWidth;
  const dot2 = d.width * d.width;
  return (x, y) => {
    const dx = x - d.cx;
    const dy = y - d.cy;
    const u = dx * cos + dy * sin;
    const v = -dx * sin + dy * cos;
    switch (d.kind) {
      case 'bar':
        return bar(u, v);
      case 'cross':
        return bar(u, v) || bar(v, u);
      case 'dot':
        return dx * dx + dy * dy <= dot2;
    }
  };
}

/** Axis-aligned box of a shape in pixels of a size×size rendering. */
export function shapeBox(shape: ShapeSpec, size: number): { x: number; y: number; width: number; height: number } {
  const points = shapePolygon(shape);
  const xs = points.map((p) => p[0] * size);
  const ys = points.map((p) => p[1] * size);
  const x = Math.max(0, Math.floor(Math.min(...xs)));
  const y = Math.max(0, Math.floor(Math.min(...ys)));
  return { x, y, width: Math.min(size, Math.ceil(Math.max(...xs))) - x, height: Math.min(size, Math.ceil(Math.max(...ys))) - y };
}

const SUPERSAMPLE = 4;

/** Renders a scene into RGBA bytes; shapes and clutter are anti-aliased by 4×4 supersampling. */
export function renderScene(scene: Scene, size: number): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(size * size * 4);
  const { from, to, angle } = scene.gradient;
  const gx = Math.cos(angle);
  const gy = Math.sin(angle);
  const { stripes } = scene;
  const sx = Math.cos(stripes.angle);
  const sy = Math.sin(stripes.angle);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const x = (px + 0.5) / size;
      const y = (py + 0.5) / size;
      const t = Math.min(1, Math.max(0, 0.5 + ((x - 0.5) * gx + (y - 0.5) * gy)));
      const stripe = stripes.amplitude * Math.sin(((x * sx + y * sy) / stripes.period) * 2 * Math.PI + stripes.phase);
      const noise = scene.noiseAmplitude * sampleNoise(scene.noise, x, y);
      const o = (py * size + px) * 4;
      for (let c = 0; c < 3; c++) rgba[o + c] = from[c]! + (to[c]! - from[c]!) * t + stripe + noise;
      rgba[o + 3] = 255;
    }
  }
  for (const d of scene.distractors) {
    const reach = Math.max(d.length, d.width * 2);
    paint(rgba, size, d.color, [d.cx - reach, d.cy - reach, d.cx + reach, d.cy + reach], distractorTester(d));
  }
  for (const shape of scene.shapes) {
    const r = shape.radius;
    paint(rgba, size, shape.color, [shape.cx - r, shape.cy - r, shape.cx + r, shape.cy + r], shapeTester(shape));
  }
  return rgba;
}

function sampleNoise(noise: Float32Array, x: number, y: number): number {
  const fx = x * (NOISE_GRID - 1);
  const fy = y * (NOISE_GRID - 1);
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const x1 = Math.min(NOISE_GRID - 1, x0 + 1);
  const y1 = Math.min(NOISE_GRID - 1, y0 + 1);
  const tx = fx - x0;
  const ty = fy - y0;
  const top = noise[y0 * NOISE_GRID + x0]! * (1 - tx) + noise[y0 * NOISE_GRID + x1]! * tx;
  const bottom = noise[y1 * NOISE_GRID + x0]! * (1 - tx) + noise[y1 * NOISE_GRID + x1]! * tx;
  return top * (1 - ty) + bottom * ty;
}

/**
 * Blends `color` into the pixels of a box by the covered fraction of sub-samples: a pixel whose
 * four corners agree is taken as fully in or out; only edge pixels get 4×4 samples.
 */
function paint(
  rgba: Uint8ClampedArray,
  size: number,
  color: Rgb,
  [x0, y0, x1, y1]: [number, number, number, number],
  inside: (x: number, y: number) => boolean,
): void {
  const pxFrom = Math.max(0, Math.floor(x0 * size));
  const pxTo = Math.min(size - 1, Math.ceil(x1 * size));
  const pyFrom = Math.max(0, Math.floor(y0 * size));
  const pyTo = Math.min(size - 1, Math.ceil(y1 * size));
  const samples = SUPERSAMPLE * SUPERSAMPLE;
  const step = 1 / size;
  for (let py = pyFrom; py <= pyTo; py++) {
    for (let px = pxFrom; px <= pxTo; px++) {
      const left = px * step;
      const top = py * step;
      const corners = Number(inside(left, top)) + Number(inside(left + step, top)) + Number(inside(left, top + step)) + Number(inside(left + step, top + step));
      let alpha: number;
      if (corners === 0 || corners === 4) {
        // Thin features (bars, star tips) can cross a pixel without touching a corner: check the centre too.
        const centre = inside(left + step / 2, top + step / 2);
        if (corners === 0 && !centre) continue;
        if (corners === 4 && centre) alpha = 1;
        else alpha = coverage(inside, left, top, step) / samples;
      } else {
        alpha = coverage(inside, left, top, step) / samples;
      }
      if (alpha === 0) continue;
      const o = (py * size + px) * 4;
      for (let c = 0; c < 3; c++) rgba[o + c] = rgba[o + c]! * (1 - alpha) + color[c]! * alpha;
    }
  }
}

function coverage(inside: (x: number, y: number) => boolean, left: number, top: number, step: number): number {
  let hits = 0;
  for (let sy = 0; sy < SUPERSAMPLE; sy++) {
    for (let sx = 0; sx < SUPERSAMPLE; sx++) {
      if (inside(left + ((sx + 0.5) / SUPERSAMPLE) * step, top + ((sy + 0.5) / SUPERSAMPLE) * step)) hits++;
    }
  }
  return hits;
}

export interface Batch {
  /** [count, size, size, 3] in [0, 1] (the demo's 'unit' normalisation). */
  images: Float32Array;
  /** [count, classes] targets; two-shape scenes share the probability between their classes. */
  targets: Float32Array;
  /** Main class of each image (for two-shape scenes, the first shape). */
  labels: Int32Array;
  count: number;
  size: number;
}

export interface BatchOptions {
  count: number;
  size: number;
  /** Share of two-shape scenes (targets 0.5 / 0.5), which teaches the net to see both objects. */
  twoShapeFraction?: number;
}

/** `count` images with classes in rotation (balanced), shuffled by the same PRNG. */
export function generateBatch(rng: Rng, { count, size, twoShapeFraction = 0 }: BatchOptions): Batch {
  const classes = SHAPE_CLASSES.length;
  const images = new Float32Array(count * size * size * 3);
  const targets = new Float32Array(count * classes);
  const labels = new Int32Array(count);
  const order = rng.permutation(count);
  for (let i = 0; i < count; i++) {
    const cls = order[i]! % classes;
    const twoShapes = rng.next() < twoShapeFraction;
    const scene = twoShapes ? twoShapeScene(rng, SHAPE_CLASSES[cls]!, SHAPE_CLASSES[(cls + 1 + rng.int(0, classes - 1)) % classes]!) : randomScene(rng, { shapes: [{ cls: SHAPE_CLASSES[cls]! }] });
    const rgba = renderScene(scene, size);
    const base = i * size * size * 3;
    for (let p = 0; p < size * size; p++) {
      images[base + p * 3] = rgba[p * 4]! / 255;
      images[base + p * 3 + 1] = rgba[p * 4 + 1]! / 255;
      images[base + p * 3 + 2] = rgba[p * 4 + 2]! / 255;
    }
    labels[i] = cls;
    for (const shape of scene.shapes) targets[i * classes + SHAPE_CLASSES.indexOf(shape.cls)]! += 1 / scene.shapes.length;
  }
  return { images, targets, labels, count, size };
}

/** Classes present in image `index` of a batch (those with a non-zero target), in class order. */
export function targetClasses(batch: Pick<Batch, 'targets'>, index: number): number[] {
  const classes = SHAPE_CLASSES.length;
  const present: number[] = [];
  for (let k = 0; k < classes; k++) if (batch.targets[index * classes + k]! > 0) present.push(k);
  return present;
}

/** Indices of the `k` largest values (ties: lower index first), in descending order of value. */
export function topClasses(probabilities: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: probabilities.length }, (_, i) => i)
    .sort((a, b) => probabilities[b]! - probabilities[a]! || a - b)
    .slice(0, k);
}

/** Two different shapes far apart: left/right or along a diagonal, in random order. */
export function twoShapeScene(rng: Rng, first: ShapeClass, second: ShapeClass): Scene {
  const radius = () => rng.range(0.14, 0.19);
  const layouts: Array<[Point, Point]> = [
    [[0.25, 0.5], [0.75, 0.5]],
    [[0.27, 0.27], [0.73, 0.73]],
    [[0.27, 0.73], [0.73, 0.27]],
    [[0.5, 0.25], [0.5, 0.75]],
  ];
  let [a, b] = rng.pick(layouts);
  if (rng.next() < 0.5) [a, b] = [b, a];
  const jitter = () => rng.range(-0.04, 0.04);
  return randomScene(rng, {
    shapes: [
      { cls: first, cx: a[0] + jitter(), cy: a[1] + jitter(), radius: radius() },
      { cls: second, cx: b[0] + jitter(), cy: b[1] + jitter(), radius: radius() },
    ],
  });
}
