/** Reading the demo's samples/index.json defensively (pure; unit-tested in Node). */
import type { DemoSample } from './api';

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
      if (!o || typeof o.label !== 'string' || !Array.isArray(o.bbox) || o.bbox.length !== 4 || !o.bbox.every((v) => typeof v === 'number')) return [];
      return [{ label: o.label, bbox: o.bbox as [number, number, number, number] }];
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

