/**
 * Superpixels by SLIC (Achanta et al., "SLIC Superpixels Compared to State-of-the-Art Superpixel
 * Methods", IEEE TPAMI 2012), for the methods that perturb segments (feature ablation, LIME,
 * KernelSHAP, Shapley value sampling). No kept npm package does SLIC on raw pixel arrays (searched
 * the registry for "slic" and "superpixel": none), so it is this one file, after the paper's
 * Algorithm 1:
 * - K seeds on a regular grid of step S = √(N/K), each moved to the lowest-gradient pixel of its
 *   3 × 3 neighbourhood;
 * - 10 rounds: every pixel within 2S × 2S of a centre joins the centre nearest by
 *   D = √(d_c² + (d_s/S)² m²), d_c the colour distance, d_s the pixel distance, m the compactness;
 *   centres move to their members' mean;
 * - connectivity enforced: every 4-connected piece is a segment of its own, except pieces under a
 *   quarter of the mean size that are not their label's largest: those join a neighbouring segment.
 * Colours: the model's input (after preprocessing) scaled by one min–max to [0, 100] (CIELAB's
 * lightness range, so m keeps the paper's meaning: 10 is the usual choice), any channel count.
 * Labels are 0 … M − 1 in raster order of first appearance.
 */

export interface Segmentation {
  /** [H · W], 0 … count − 1. */
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
}

/** SLIC over `pixels` ([H · W · c], row-major), about `requested` segments. */
export function slic(pixels: ArrayLike<number>, height: number, width: number, channels: number, requested: number, compactness = 10, iterations = 10): Segmentation {
  const n = height * width;
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < n * channels; i++) {
    const v = pixels[i] ?? 0;
    if (v < low) low = v;
    if (v > high) high = v;
  }
  const scale = high > low ? 100 / (high - low) : 0;
  const colour = Float64Array.from({ length: n * channels }, (_, i) => ((pixels[i] ?? 0) - low) * scale);
  const k = Math.max(1, Math.min(n, Math.round(requested)));
  const step = Math.max(1, Math.sqrt(n / k));
  // Seeds on a grid (centred in their cells).
  const centres: number[][] = []; // [y, x, c0 … c_{ch−1}]
  const rows = Math.max(1, Math.round(height / step));
  const cols = Math.max(1, Math.round(width / step));
  const gradientAt = (y: number, x: number): number => {
    const at = (yy: number, xx: number) => (Math.min(height - 1, Math.max(0, yy)) * width + Math.min(width - 1, Math.max(0, xx))) * channels;
    let g = 0;
    for (let c = 0; c < channels; c++) {
      const dx = (colour[at(y, x + 1) + c] ?? 0) - (colour[at(y, x - 1) + c] ?? 0);
      const dy = (colour[at(y + 1, x) + c] ?? 0) - (colour[at(y - 1, x) + c] ?? 0);
      g += dx * dx + dy * dy;
    }
    return g;
  };
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) {
      let y = Math.min(height - 1, Math.floor(((r + 0.5) * height) / rows));
      let x = Math.min(width - 1, Math.floor(((q + 0.5) * width) / cols));
      let best = gradientAt(y, x);
      const [y0, x0] = [y, x];
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const yy = y0 + dy;
        const xx = x0 + dx;
        if (yy < 0 || xx < 0 || yy >= height || xx >= width) continue;
        const g = gradientAt(yy, xx);
        if (g < best) [best, y, x] = [g, yy, xx];
      }
      const base = (y * width + x) * channels;
      centres.push([y, x, ...Array.from({ length: channels }, (_, c) => colour[base + c] ?? 0)]);
    }
  }
  const labels = new Int32Array(n).fill(-1);
  const distance = new Float64Array(n);
  const spatialWeight = (compactness / step) ** 2;
  const reach = Math.ceil(step);
  for (let round = 0; round < iterations; round++) {
    distance.fill(Infinity);
    centres.forEach((centre, label) => {
      const cy = centre[0] ?? 0;
      const cx = centre[1] ?? 0;
      for (let y = Math.max(0, Math.floor(cy - reach)); y <= Math.min(height - 1, Math.ceil(cy + reach)); y++) {
        for (let x = Math.max(0, Math.floor(cx - reach)); x <= Math.min(width - 1, Math.ceil(cx + reach)); x++) {
          const p = y * width + x;
          let dc = 0;
          for (let c = 0; c < channels; c++) dc += ((colour[p * channels + c] ?? 0) - (centre[2 + c] ?? 0)) ** 2;
          const d = dc + ((y - cy) ** 2 + (x - cx) ** 2) * spatialWeight;
          if (d < (distance[p] ?? Infinity)) {
            distance[p] = d;
            labels[p] = label;
          }
        }
      }
    });
    const sums = centres.map(() => new Float64Array(2 + channels + 1));
    for (let p = 0; p < n; p++) {
      const s = sums[labels[p] ?? -1];
      if (!s) continue;
      s[0] = (s[0] ?? 0) + Math.floor(p / width);
      s[1] = (s[1] ?? 0) + (p % width);
      for (let c = 0; c < channels; c++) s[2 + c] = (s[2 + c] ?? 0) + (colour[p * channels + c] ?? 0);
      s[2 + channels] = (s[2 + channels] ?? 0) + 1;
    }
    sums.forEach((s, label) => {
      const members = s[2 + channels] ?? 0;
      if (members > 0) centres[label] = Array.from({ length: 2 + channels }, (_, i) => (s[i] ?? 0) / members);
    });
  }
  // A pixel no centre reached (cannot happen with reach ≥ S, kept for safety) joins the nearest label on its left/top.
  for (let p = 0; p < n; p++) if ((labels[p] ?? -1) < 0) labels[p] = p > 0 ? (labels[p - 1] ?? 0) : 0;
  return enforceConnectivity(labels, height, width, Math.max(1, Math.floor(n / centres.length / 4)));
}

/**
 * Relabel connected components (4-neighbourhood); a component smaller than `minSize` that is not the
 * largest of its label merges into the adjacent component met first. Labels renumbered.
 */
export function enforceConnectivity(labels: Int32Array, height: number, width: number, minSize: number): Segmentation {
  const n = height * width;
  const component = new Int32Array(n).fill(-1);
  const sizes: number[] = [];
  const labelOf: number[] = [];
  const stack: number[] = [];
  for (let p = 0; p < n; p++) {
    if ((component[p] ?? 0) >= 0) continue;
    const id = sizes.length;
    const label = labels[p] ?? 0;
    let size = 0;
    stack.push(p);
    component[p] = id;
    while (stack.length) {
      const q = stack.pop() ?? 0;
      size++;
      const y = Math.floor(q / width);
      const x = q % width;
      for (const r of [x > 0 ? q - 1 : -1, x < width - 1 ? q + 1 : -1, y > 0 ? q - width : -1, y < height - 1 ? q + width : -1]) {
        if (r >= 0 && component[r] === -1 && labels[r] === label) {
          component[r] = id;
          stack.push(r);
        }
      }
    }
    sizes.push(size);
    labelOf.push(label);
  }
  // Components of at least minSize pixels are segments of their own (as scikit-image's
  // enforce_connectivity does); the largest component of each label always is.
  const largest = new Map<number, number>();
  sizes.forEach((size, id) => {
    const label = labelOf[id] ?? 0;
    const current = largest.get(label);
    if (current === undefined || size > (sizes[current] ?? 0)) largest.set(label, id);
  });
  const keeps = sizes.map((size, id) => size >= minSize || largest.get(labelOf[id] ?? 0) === id);
  // Merge the others into a neighbouring kept component, repeatedly (raster scans until all are placed).
  const target = sizes.map((_, id) => (keeps[id] ? id : -1));
  for (let changed = true; changed; ) {
    changed = false;
    for (let p = 0; p < n; p++) {
      const id = component[p] ?? 0;
      if ((target[id] ?? -1) >= 0) continue;
      const y = Math.floor(p / width);
      const x = p % width;
      for (const r of [x > 0 ? p - 1 : -1, y > 0 ? p - width : -1, x < width - 1 ? p + 1 : -1, y < height - 1 ? p + width : -1]) {
        const t = r >= 0 ? (target[component[r] ?? 0] ?? -1) : -1;
        if (t >= 0) {
          target[id] = t;
          changed = true;
          break;
        }
      }
    }
  }
  const renumber = new Map<number, number>();
  const out = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    const t = target[component[p] ?? 0] ?? 0;
    let label = renumber.get(t);
    if (label === undefined) {
      label = renumber.size;
      renumber.set(t, label);
    }
    out[p] = label;
  }
  return { labels: out, count: renumber.size, height, width };
}
