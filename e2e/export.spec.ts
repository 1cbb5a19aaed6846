/**
 * Issue 3 / 11: "Export PNG" downloads a valid PNG: the grid as shown — the titled panels (the very
 * pixels on screen), the colour bar — plus a caption strip, sized accordingly (src/render/composite.ts
 * gridLayout), whose caption — drawn, and stored as PNG text — names the layer path, the class and
 * the methods that were explained.
 */
import { expect, test, type Page } from '@playwright/test';
import { PNG } from 'pngjs';
import { collectConsoleErrors, waitForReady, type PageClient } from './helpers';
import { appState, downloadBytes, explanationId, waitForNewExplanation } from './studio-flows';
import { CAPTION_LINE_HEIGHT, CAPTION_PADDING, gridLayout } from '../src/render/composite';

const PNG_SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

/** Text chunks of a PNG (tEXt: latin-1; iTXt: UTF-8, uncompressed), keyword → text. */
function pngTexts(png: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (let at = 8; at + 8 <= png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    if (type === 'tEXt') {
      const nul = data.indexOf(0);
      out[data.toString('latin1', 0, nul)] = data.toString('latin1', nul + 1);
    } else if (type === 'iTXt') {
      const nul = data.indexOf(0);
      const keyword = data.toString('latin1', 0, nul);
      const compressed = data[nul + 1] === 1;
      const languageEnd = data.indexOf(0, nul + 3);
      const translatedEnd = data.indexOf(0, languageEnd + 1);
      if (!compressed) out[keyword] = data.toString('utf8', translatedEnd + 1);
    }
    if (type === 'IEND') break;
    at += 12 + length;
  }
  return out;
}

interface Panel {
  name: string;
  width: number;
  height: number;
  data: number[];
}

async function drawnPanels(page: Page): Promise<Panel[]> {
  return page.evaluate(async () => {
    type Inspectable = PageClient;
    const panels = await (window as unknown as { __studio: { client: Inspectable } }).__studio.client.call('inspectPanels', []);
    // Left to right as on screen and in the export.
    return ['original', 'gradcam', 'guided-backprop', 'guided-gradcam'].map((name) => ({ name, width: panels[name].width, height: panels[name].height, data: Array.from(panels[name].data) }));
  });
}

test('Export PNG downloads the panels with a caption naming the layer path and class', async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto('/');
  await waitForReady(page);

  // Something other than the defaults, chosen as a person would: another layer in the tree, another class.
  const start = await appState(page);
  const summary = start.model.summary!;
  // An explainable leaf layer that is not the default one.
  const candidates = page.locator('[role=treeitem]:not([aria-disabled=true]):not([aria-expanded]):not([aria-selected=true])');
  await expect(candidates.first()).toBeVisible();
  const layerRow = candidates.first();
  const layerPath = (await layerRow.getAttribute('data-path')) ?? '';
  expect(layerPath).not.toBe(summary.defaultLayerPath);
  let previous = await explanationId(page);
  await layerRow.click();
  let state = await waitForNewExplanation(page, previous);
  expect(state.explanation.last?.layerPath).toBe(layerPath);

  const second = [...state.explanation.last!.predictions].sort((a, b) => b.probability - a.probability)[1];
  previous = await explanationId(page);
  await page.locator(`.predictions button[data-class-index="${second.index}"]`).click();
  state = await waitForNewExplanation(page, previous);
  const last = state.explanation.last!;
  expect(last.classIndex).toBe(second.index);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export PNG' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^gradcam-.+\.png$/);
  const bytes = await downloadBytes(download);
  expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE), 'PNG signature').toBe(true);
  const png = PNG.sync.read(bytes); // also checks every chunk's CRC

  // Size: the titled panels in a row of four, the colour bar, then the caption strip.
  const panels = await drawnPanels(page);
  const caption = pngTexts(bytes).Description;
  expect(caption, 'the caption is stored as PNG text').toBeTruthy();
  const lines = caption.split('\n');
  const layout = gridLayout(panels, lines.length, true);
  expect(png.width).toBe(panels.reduce((sum, p) => sum + p.width, 0));
  expect([png.width, png.height]).toEqual([layout.width, layout.height]);
  const captionTop = layout.gridHeight + layout.colorbarHeight;

  // The caption names the layer path and the class (label and index) that were explained.
  expect(lines).toContain(`Layer: ${layerPath}`);
  expect(caption).toContain(`Class: ${last.classLabel} (#${last.classIndex})`);
  expect(caption).toContain(`Model: ${summary.name}`);

  expect(caption).toContain('Methods: Grad-CAM; Guided backprop; Guided Grad-CAM');

  // The picture holds the very pixels drawn on screen, left to right, each under its title.
  panels.forEach((panel, k) => {
    const { x: x0, y: y0 } = layout.positions[k]!;
    let worst = 0;
    for (let y = 0; y < panel.height; y += 3) {
      for (let x = 0; x < panel.width; x += 3) {
        const i = (y * panel.width + x) * 4;
        const j = ((y0 + y) * png.width + x0 + x) * 4;
        for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(panel.data[i + c] - png.data[j + c]));
      }
    }
    expect(worst, `the ${panel.name} panel in the PNG matches the screen`).toBeLessThanOrEqual(2);
    let titleInk = 0;
    for (let y = y0 - 20; y < y0; y++) for (let x = x0; x < x0 + panel.width; x++) if (png.data[(y * png.width + x) * 4]! < 100) titleInk++;
    expect(titleInk, `the ${panel.name} panel has its title drawn above it`).toBeGreaterThan(20);
  });
  // The colour bar: many distinct colours along its strip.
  const barColours = new Set<number>();
  for (let x = 0; x < png.width; x++) {
    const j = ((layout.gridHeight + 15) * png.width + x) * 4;
    barColours.add((png.data[j]! << 16) | (png.data[j + 1]! << 8) | png.data[j + 2]!);
  }
  expect(barColours.size, 'the colour bar is drawn').toBeGreaterThan(60);

  // Each caption line is drawn: dark text pixels on the white strip, in that line's band.
  for (let line = 0; line < lines.length; line++) {
    const top = captionTop + CAPTION_PADDING + line * CAPTION_LINE_HEIGHT;
    let dark = 0;
    for (let y = top; y < top + CAPTION_LINE_HEIGHT; y++) {
      for (let x = 0; x < png.width; x++) {
        const j = (y * png.width + x) * 4;
        if (png.data[j] + png.data[j + 1] + png.data[j + 2] < 200) dark++;
      }
    }
    expect(dark, `caption line ${line + 1} ("${lines[line]}") is drawn`).toBeGreaterThan(30);
  }
  expect(errors).toEqual([]);
});
