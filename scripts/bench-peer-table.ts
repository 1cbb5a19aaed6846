/**
 * The side-by-side table of `npm run bench:peer` (pure: unit-tested in bench-peer-table.test.ts).
 * Targets from issue 15: Grad-CAM at the last conv faster than PyTorch (ours ÷ PyTorch < 1) on every
 * model; guided backprop within 1.5× of PyTorch.
 */
import { stats, type Stats } from './bench-stats';

export type PeerCase = 'forward' | 'gradcam_last' | 'guided_backprop';

/** Every timed run of one model, ours and PyTorch's, in ms. */
export interface PeerTimings {
  model: string;
  ours: Partial<Record<PeerCase, number[]>>;
  peer: Partial<Record<PeerCase, number[]>>;
}

export interface PeerRow {
  model: string;
  case: PeerCase;
  ours: Stats;
  peer: Stats;
  /** ours ÷ PyTorch, by median and by fastest run (< 1: we are faster). */
  ratio: number;
  ratioOfFastest: number;
  /** The issue's bound for this case (none for the forward pass). */
  target?: number;
}

export const PEER_TARGETS: Partial<Record<PeerCase, number>> = { gradcam_last: 1, guided_backprop: 1.5 };
const LABELS: Record<PeerCase, string> = { forward: 'forward', gradcam_last: 'Grad-CAM, last conv', guided_backprop: 'guided backprop' };
const MODEL_NAMES: Record<string, string> = { mobilenet_v2: 'MobileNetV2', vgg16: 'VGG16', resnet50: 'ResNet50' };

const round2 = (v: number) => Math.round(v * 100) / 100;

export function peerRows(timings: PeerTimings[]): PeerRow[] {
  const rows: PeerRow[] = [];
  for (const t of timings) {
    for (const c of ['forward', 'gradcam_last', 'guided_backprop'] as const) {
      const ours = t.ours[c];
      const peer = t.peer[c];
      if (!ours?.length || !peer?.length) continue;
      const a = stats(ours);
      const b = stats(peer);
      rows.push({ model: t.model, case: c, ours: a, peer: b, ratio: round2(a.median / b.median), ratioOfFastest: round2(a.min / b.min), target: PEER_TARGETS[c] });
    }
  }
  return rows;
}

/** Met only when both the median ratio and the fastest-run ratio are within the bound (strictly below 1 for Grad-CAM). */
export function meetsTarget(row: PeerRow): boolean {
  if (row.target === undefined) return true;
  const worst = Math.max(row.ratio, row.ratioOfFastest);
  return row.target === 1 ? worst < 1 : worst <= row.target;
}

export function peerTargetMisses(rows: PeerRow[]): string[] {
  return rows
    .filter((r) => !meetsTarget(r))
    .map((r) => `${MODEL_NAMES[r.model] ?? r.model} ${LABELS[r.case]}: ${r.ours.median} vs PyTorch ${r.peer.median} ms = ${r.ratio}× (fastest ${r.ratioOfFastest}×; target ${r.target === 1 ? '< 1' : `≤ ${r.target}`}×)`);
}

export function peerMarkdown(rows: PeerRow[]): string {
  const lines = ['| model | case | Grad-CAM Studio (WASM) ms | PyTorch (CPU) ms | ours ÷ PyTorch (median / fastest) | target |', '| --- | --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    const target = r.target === undefined ? '' : `${r.target === 1 ? '< 1' : `≤ ${r.target}`} ${meetsTarget(r) ? '✓' : '✗'}`;
    lines.push(`| ${MODEL_NAMES[r.model] ?? r.model} | ${LABELS[r.case]} | ${Math.round(r.ours.median)} (${Math.round(r.ours.min)}) | ${Math.round(r.peer.median)} (${Math.round(r.peer.min)}) | ${r.ratio.toFixed(2)}× / ${r.ratioOfFastest.toFixed(2)}× | ${target} |`);
  }
  return lines.join('\n');
}
