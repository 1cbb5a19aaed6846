/** Reading the demo's samples/index.json defensively (pure; unit-tested in Node). */
import type { DemoSample } from '../protocol/open';

/** A box as `[x, y, w, h]` or `{ x, y, width, height }` (what the demo trainer writes); null if neither. */
function toBox(raw: unknown): [number, number, number, number] | null {
  if (Array.isArray(raw)) return raw.length === 4 && raw.every((v) => typeof v === 'number') ? (raw as [number, number, number, number]) : null;
  if (!raw || typeof raw !== 'object') return null;
  const { x, y, width, height } = raw as Record<string, unknown>;
  return [x, y, width, height].every((v) => typeof v === 'number') ? [x, y, width, height] as [number, number, number, number] : null;
}

/** Accepts a list, or `{ samples: [...] }`; entries are `{ file, shapes }` or plain file names; bad entries are skipped. */
export function parseSamples(json: unknown): DemoSample[] {
  const list = Array.isArray(json) ? json : json && typeof json === 'object' && Array.isArray((json as { samples?: unknown }).samples) ? (json as { samples: unknown[] }).samples : [];
  const samples: DemoSample[] = [];
  for (const entry of list) {
    const file = typeof entry === 'string' ? entry : entry && typeof entry === 'object' && typeof (entry as { file?: unknown }).file === 'string' ? (entry as { file: string }).file : null;
    if (!file) continue;
    const rawShapes = entry && typeof entry === 'object' && Array.isArray((entry as { shapes?: unknown }).shapes) ? (entry as { shapes: unknown[] }).shapes : [];
    const shapes = rawShapes.flatMap((s) => {
      const o = s as { label?: unknown; bbox?: unknown };
      const bbox = o ? toBox(o.bbox) : null;
      if (!o || typeof o.label !== 'string' || !bbox) return [];
      return [{ label: o.label, bbox }];
    });
    samples.push({ file, shapes });
  }
  return samples;
}

/** index.json names files relative to demo/ ("samples/a.png") or to samples/ ("a.png"); accept both. */
export function demoSamplePath(file: string): string {
  const clean = file.replace(/^\.?\//, '');
  return clean.includes('/') ? clean : `samples/${clean}`;
}

