/**
 * Deep Feature Factorization's concepts as cells of the methods grid (issue 26: "k concept maps, each
 * titled with its top classes through the model's head and coloured distinctly, plus one combined
 * picture"): with "show all concepts" the DFF panel is the combined picture, and each concept gets a
 * cell of its own after it — that concept alone, in its colour, over the grey image (the combined
 * picture's drawing with one concept), its map for the large view's readout.
 */
import type { Concepts, HeatmapMethodMap } from '../shared/types';
import { conceptPanelKey } from '../shared/panels';
import { upsampleBilinear } from '../render/upsample';
import type { PanelInfo } from '../protocol/explain';

/**
 * One cell per concept of `map` (none when it carries no concepts): its info and its one-concept map.
 * `base` is the combined cell's info; its legend (colours and classes) titles the concept cells.
 */
export function conceptCells(map: HeatmapMethodMap, base: PanelInfo): Array<{ info: PanelInfo; map: HeatmapMethodMap }> {
  const concepts = map.concepts;
  if (!concepts) return [];
  const { concepts: legend = [], ...rest } = base;
  const cells = concepts.width * concepts.height;
  return Array.from({ length: concepts.count }, (_, j) => {
    const data = concepts.maps.slice(j * cells, (j + 1) * cells);
    const single: Concepts = { width: concepts.width, height: concepts.height, count: 1, maps: data, topClasses: [concepts.topClasses[j] ?? []], colours: [concepts.colours[j] ?? [0, 0, 0]] };
    const { width, height } = map.upsampled;
    let rawMax = 0;
    for (const v of data) rawMax = Math.max(rawMax, v);
    const conceptMap: HeatmapMethodMap = {
      ...map,
      map: { width: concepts.width, height: concepts.height, data },
      upsampled: { width, height, data: upsampleBilinear(data, concepts.width, concepts.height, 1, width, height) },
      rawMax,
      concepts: single,
    };
    const entry = legend[j] ?? { colour: concepts.colours[j] ?? [0, 0, 0], classes: [] };
    return { info: { ...rest, key: conceptPanelKey(j), concept: { index: j, entry } }, map: conceptMap };
  });
}
