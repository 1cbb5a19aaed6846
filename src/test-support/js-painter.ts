/**
 * A plain-JS Painter for unit tests in Node (no OffscreenCanvas there): the region is sampled from the
 * image's RGBA pixels (nearest neighbour, on white like the canvas painter), and a canvas "paint"
 * records the pixels put on it, by canvas, so a test can read what the session drew.
 */
import type { PanelPixels, Region } from '../render/pixels';
import type { DecodedImage } from '../worker/image-decode';
import type { Painter } from '../worker/painter';

export class JsPainter implements Painter {
  readonly painted = new Map<OffscreenCanvas, PanelPixels>();

  region(image: DecodedImage, region: Region, width: number, height: number): PanelPixels {
    const { raw } = image;
    const data = new Uint8ClampedArray(width * height * 4);
    for (let y = 0; y < height; y++) {
      const sy = Math.min(raw.height - 1, Math.floor(region.y + ((y + 0.5) * region.height) / height));
      for (let x = 0; x < width; x++) {
        const sx = Math.min(raw.width - 1, Math.floor(region.x + ((x + 0.5) * region.width) / width));
        const from = (sy * raw.width + sx) * 4;
        const to = (y * width + x) * 4;
        const alpha = (raw.data[from + 3] ?? 255) / 255;
        for (let c = 0; c < 3; c++) data[to + c] = Math.round((raw.data[from + c] ?? 0) * alpha + 255 * (1 - alpha));
        data[to + 3] = 255;
      }
    }
    return { width, height, data };
  }

  paint(canvas: OffscreenCanvas, pixels: PanelPixels): void {
    this.painted.set(canvas, pixels);
  }
}

/** A decoded image made from raw pixels (its canvas is never touched by the JsPainter). */
export function decodedImage(name: string, raw: DecodedImage['raw']): DecodedImage {
  return { name, raw, canvas: undefined as unknown as OffscreenCanvas, notices: [] };
}
