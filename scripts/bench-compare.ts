/**
 * `npx tsx scripts/bench-compare.ts --before a.json[,b.json] --after c.json[,d.json]`: two sets of
 * `npm run bench` reports (e.g. the code before and after a refactor, run alternately on the same
 * machine) side by side: per model and case, the median of the runs' medians, and after ÷ before.
 * A ratio within ~±10 % is noise on this shared 2-core machine.
 */
import { readFileSync } from 'node:fs';
import { argument } from './bench-page';

interface Report {
  reports: { model: string; backend: string; threads: number; timingsMs: Record<string, { median: number }> }[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** model › case → every report's median for it. */
function collect(paths: string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const path of paths) {
    const report = JSON.parse(readFileSync(path, 'utf8')) as Report;
    for (const r of report.reports) {
      for (const [name, stats] of Object.entries(r.timingsMs)) {
        const key = `${r.model} (${r.backend}, ${r.threads} thread${r.threads === 1 ? '' : 's'}) › ${name}`;
        const list = out.get(key) ?? [];
        list.push(stats.median);
        out.set(key, list);
      }
    }
  }
  return out;
}

const before = collect(argument('before', '').split(',').filter(Boolean));
const after = collect(argument('after', '').split(',').filter(Boolean));
console.log('| model › case | before (ms) | after (ms) | after ÷ before |\n| --- | --- | --- | --- |');
for (const [key, values] of before) {
  const other = after.get(key);
  if (!other) continue;
  const [b, a] = [median(values), median(other)];
  console.log(`| ${key} | ${b.toFixed(1)} | ${a.toFixed(1)} | ${(a / b).toFixed(2)} |`);
}
