/** Median/min/max of timed runs, in ms rounded to 0.1 — shared by the browser and Node benches. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

const round = (v: number) => Math.round(v * 10) / 10;

export function stats(runs: number[]): Stats {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median: round(median), min: round(sorted[0]!), max: round(sorted[sorted.length - 1]!), runs: runs.map(round) };
}
