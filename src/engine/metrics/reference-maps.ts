/**
 * Reference maps, scored beside the methods' so that a number means something: a random map (the
 * floor any explanation should beat) and a centre Gaussian (the "objects sit in the middle" prior,
 * which a map must beat to show it found the object rather than the middle).
 */
import { Rng } from './random';

/** Uniform noise in [0, 1), seeded. */
export function randomMap(width: number, height: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: width * height }, () => rng.next());
}

/** exp(−d² / 2σ²) around the centre, σ = a quarter of the shorter side. */
export function centreGaussianMap(width: number, height: number): Float32Array {
  const sigma = Math.min(width, height) / 4;
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) out[y * width + x] = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma * sigma));
  return out;
}
