/** Test helpers: a result's maps of the three classic methods, read from `maps` by method id. */
import type { ExplainResult, Heatmap, RgbMap } from '../shared/types';

export function camOf(r: ExplainResult): Heatmap | undefined {
  const m = r.maps.gradcam;
  return m?.kind === 'heatmap' ? m.map : undefined;
}

export function camUpsampledOf(r: ExplainResult): Heatmap | undefined {
  const m = r.maps.gradcam;
  return m?.kind === 'heatmap' ? m.upsampled : undefined;
}

export function camRawMaxOf(r: ExplainResult): number | undefined {
  const m = r.maps.gradcam;
  return m?.kind === 'heatmap' ? m.rawMax : undefined;
}

export function guidedBackpropOf(r: ExplainResult): RgbMap | undefined {
  const m = r.maps['guided-backprop'];
  return m?.kind === 'rgb' ? m.map : undefined;
}

export function guidedGradcamOf(r: ExplainResult): RgbMap | undefined {
  const m = r.maps['guided-gradcam'];
  return m?.kind === 'rgb' ? m.map : undefined;
}
