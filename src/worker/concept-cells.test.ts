/**
 * Deep Feature Factorization's concept cells: from a real DFF explanation (show = all concepts) on a
 * nested test model, one cell per concept after the combined one, each with its concept's map, its
 * classes and colour, drawn in that colour alone. CPU backend, no browser.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildTestModel, testImage } from '../test-support/test-models';
import { loadedModelFromLayersModel } from '../engine/model';
import type { HeatmapMethodMap } from '../shared/types';
import { conceptCells } from './concept-cells';
import { conceptIndexOfKey, conceptPanelKey } from '../shared/panels';
import { methodPictureAt } from '../render/upsample';
import { conceptLegend } from '../shared/concepts';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('DFF concept cells', () => {
  it('one cell per concept: its map, classes and colour; drawn in its colour only', async () => {
    const t = buildTestModel('c', { head: 'softmax', seed: 3 });
    const lm = await loadedModelFromLayersModel(t.model);
    const r = await lm.explain(testImage(), { methods: ['dff'], target: 1, methodOptions: { dff: { show: 'combined', concepts: 3 } } });
    const map = r.maps.dff as HeatmapMethodMap;
    const concepts = map.concepts!;
    expect(concepts.count).toBe(3);
    const labels = lm.summary.labels;
    const cells = conceptCells(map, { key: 'dff', method: 'dff', layerPaths: map.layerPaths, output: 'heatmap', settings: map.settings, concepts: conceptLegend(concepts, labels) });
    expect(cells.map((c) => c.info.key)).toEqual([0, 1, 2].map(conceptPanelKey));
    expect(cells.map((c) => conceptIndexOfKey(c.info.key))).toEqual([0, 1, 2]);
    const cellCount = concepts.width * concepts.height;
    const original = { width: 40, height: 40, data: new Uint8ClampedArray(40 * 40 * 4).fill(200) };
    for (const [j, { info, map: cell }] of cells.entries()) {
      expect(Array.from(cell.map.data)).toEqual(Array.from(concepts.maps.slice(j * cellCount, (j + 1) * cellCount)));
      expect(info.concept?.index).toBe(j);
      expect(info.concept?.entry.colour).toEqual(concepts.colours[j]);
      expect(info.concept?.entry.classes[0]?.label).toBe(labels[concepts.topClasses[j]![0]!.index]);
      expect(cell.upsampled.width).toBe(map.upsampled.width);
      // Drawn: where the concept is strong the pixel moves from the grey towards its colour, never another.
      const picture = methodPictureAt(original, cell, { colormap: 'jet', opacity: 0.5, threshold: 0 });
      const colour = concepts.colours[j]!;
      let tinted = 0;
      for (let i = 0; i < picture.data.length; i += 4) {
        const moved = [0, 1, 2].map((c) => (picture.data[i + c] ?? 0) - 200);
        if (moved.every((m) => m === 0)) continue;
        tinted++;
        // The move is (colour − grey) · α for one α ≥ 0: the same sign as colour − 200 on every channel.
        for (let c = 0; c < 3; c++) expect(Math.sign(moved[c]!) * Math.sign((colour[c] ?? 0) - 200)).toBeGreaterThanOrEqual(0);
      }
      expect(tinted).toBeGreaterThan(0);
    }
    lm.dispose();
  });

  it('none for a map without concepts', async () => {
    const t = buildTestModel('c', { head: 'softmax', seed: 3 });
    const lm = await loadedModelFromLayersModel(t.model);
    const r = await lm.explain(testImage(), { methods: ['dff'], target: 1 });
    const map = r.maps.dff as HeatmapMethodMap;
    expect(conceptCells(map, { key: 'dff', method: 'dff', layerPaths: map.layerPaths, output: 'heatmap', settings: map.settings })).toEqual([]);
    lm.dispose();
  });
});
