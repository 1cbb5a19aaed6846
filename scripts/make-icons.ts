/**
 * The app's icons (public/icons/icon-192.png, icon-512.png): a turbo-coloured heat blob on a dark
 * square, made here so that the project owns them. `npx tsx scripts/make-icons.ts` rewrites them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { colormapLut } from '../src/render/colormaps';

const lut = colormapLut('turbo');
mkdirSync('public/icons', { recursive: true });
for (const size of [192, 512]) {
  const png = new PNG({ width: size, height: size });
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const [u, v] = [x / size - 0.42, y / size - 0.55];
      const heat = Math.exp(-(u * u + v * v) / 0.045);
      const k = Math.min(255, Math.round(heat * 255));
      const i = (y * size + x) * 4;
      const bg = [21, 23, 28];
      const t = Math.min(1, heat * 1.4);
      for (let c = 0; c < 3; c++) png.data[i + c] = Math.round(bg[c]! * (1 - t) + lut[k * 3 + c]! * t);
      png.data[i + 3] = 255;
    }
  }
  writeFileSync(`public/icons/icon-${size}.png`, PNG.sync.write(png));
}
