/**
 * The one seeded generator (mulberry32: small, fast, the same numbers on every platform) behind every
 * reproducible draw — the perturbation methods' masks, DFF's NMF start, the metrics' random maps, the
 * fuzzers' mutations, the demo's scenes.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
