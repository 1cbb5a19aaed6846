/**
 * How alike two maps are, for the randomisation sanity check (Adebayo et al. 2018): Spearman's rank
 * correlation and SSIM of the maps normalised to [0, 1]. Plain JavaScript over [height · width] arrays.
 */

/** Ranks 1…n, ties given their mean rank (so that a constant map has no spurious order). */
export function ranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const out = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k]!] = rank;
    i = j + 1;
  }
  return out;
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  // A constant map carries no order: no correlation with anything.
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
}

/** Spearman's rank correlation: the Pearson correlation of the ranks. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error('spearman: maps of different sizes');
  return pearson(ranks(a), ranks(b));
}

/** `map` scaled to [0, 1] by its minimum and maximum (all zeros when it is constant). */
export function minMaxNormalise(map: ArrayLike<number>): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < map.length; i++) {
    lo = Math.min(lo, map[i]!);
    hi = Math.max(hi, map[i]!);
  }
  const out = new Float32Array(map.length);
  if (hi > lo) for (let i = 0; i < map.length; i++) out[i] = (map[i]! - lo) / (hi - lo);
  return out;
}

/**
 * Mean SSIM (Wang et al. 2004) of two [height · width] maps after min–max normalisation, over
 * 7 × 7 uniform windows (scikit-image's default, as in Adebayo et al.), data range 1.
 */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number, window = 7): number {
  if (a.length !== width * height || b.length !== width * height) throw new Error('ssim: maps of different sizes');
  const x = minMaxNormalise(a);
  const y = minMaxNormalise(b);
  const c1 = 0.01 ** 2;
  const c2 = 0.03 ** 2;
  const w = Math.min(window, width, height);
  const n = w * w;
  // sample covariance, as scikit-image (use_sample_covariance)
  const unbias = n > 1 ? n / (n - 1) : 1;
  let total = 0;
  let count = 0;
  for (let top = 0; top + w <= height; top++) {
    for (let left = 0; left + w <= width; left++) {
      let sx = 0;
      let sy = 0;
      let sxx = 0;
      let syy = 0;
      let sxy = 0;
      for (let r = top; r < top + w; r++) {
        for (let c = left; c < left + w; c++) {
          const i = r * width + c;
          const xv = x[i]!;
          const yv = y[i]!;
          sx += xv;
          sy += yv;
          sxx += xv * xv;
          syy += yv * yv;
          sxy += xv * yv;
        }
      }
      const mx = sx / n;
      const my = sy / n;
      const vx = (sxx / n - mx * mx) * unbias;
      const vy = (syy / n - my * my) * unbias;
      const cxy = (sxy / n - mx * my) * unbias;
      total += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      count++;
    }
  }
  return count === 0 ? 1 : total / count;
}
