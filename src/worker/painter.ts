/**
 * Where the session's pixels meet canvases: the model's region of the image drawn at display size, and
 * a panel put on its (transferred) canvas. The worker uses OffscreenCanvas; a unit test in Node, which
 * has none, hands the session a plain-JS painter instead (src/test-support/js-painter.ts).
 */
import { drawPanel, drawRegion } from '../render/composite';
import type { PanelPixels, Region } from '../render/pixels';
import type { DecodedImage } from './image-decode';

export interface Painter {
  region(image: DecodedImage, region: Region, width: number, height: number): PanelPixels;
  paint(canvas: OffscreenCanvas, pixels: PanelPixels): void;
}

export const canvasPainter: Painter = {
  region: (image, region, width, height) => drawRegion(image.canvas, region, width, height),
  paint: drawPanel,
};
