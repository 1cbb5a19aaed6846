/**
 * Deep Feature Factorization's concepts as cells of the methods grid (issue 26: "k concept maps, each
 * titled with its top classes through the model's head and coloured distinctly, plus one combined
 * picture"): with "show all concepts" the DFF panel is the combined picture, and each concept gets a
 * cell of its own after it — that concept alone, in its colour, over the grey image (the combined
 * picture's drawing with one concept), its map for the large view's readout.
 */
import type { Concepts, HeatmapMethodMap } from '../shared/types';
import { conceptLegend } from '../shared/concepts';
import { conceptPanelKey } from '../shared/panels';
import { upsampleBilinear } from '../render/upsample';
import type { PanelInfo } from '../protocol/explain';

/** One cell per concept of `map` (none when it carries no concepts): its info and its one-concept map. */
export function conceptCells(map: HeatmapMethodMap, base: Omit<PanelInfo, 'key'>, labels: readonly string[]): Array<{ info: PanelInfo; map: HeatmapMethodMap }> {
  const concepts = map.concepts;
  if (!concepts) return [];
  const legend = conceptLegend(concepts, labels);
  const cells = concepts.width * concepts.height;
  return Array.from({ length: concepts.count }, (_, j) => {
    const data = concepts.maps.slice(j * cells, (j + 1) * cells);
    const single: Concepts = { width: concepts.width, height: concepts.height, count: 1, maps: data, topClasses: [concepts.topClasses[j] ?? []], colours: [concepts.colours[j] ?? [0, 0, 0]] };
    const { width, height } = map.upsampled;
    const upsampled = upsampleBilinear(data, concepts.width, concepts.height, 1, width, height);
    let rawMax = 0;
    for (const v of data) rawMax = Math.max(rawMax, v);
    const conceptMap: HeatmapMethodMap = {
      ...map,
      map: { width: concepts.width, height: concepts.height, data },
      upsampled: { width, height, data: upsampled },
      rawMax,
      concepts: single,
    };
    const { concepts: _legend, ...rest } = base;
    void _legend;
    const entry = legend[j] ?? { colour: [0, 0, 0], classes: [] };
    return { info: { ...rest, key: conceptPanelKey(j), concept: { index: j, entry } }, map: conceptMap };
  });
}
