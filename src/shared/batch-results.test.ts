import { describe, expect, it } from 'vitest';
import { csvFiles, csvHeader, csvRow, labelFromPath, mapStatistics, type BatchRecord } from './batch-results';

function map(width: number, height: number, at: (x: number, y: number) => number) {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = at(x, y);
  return { width, height, data };
}

describe('batch results', () => {
  it('map statistics: all mass in the centre, all on the border, uniform', () => {
    const centre = mapStatistics(map(20, 20, (x, y) => (x >= 5 && x < 15 && y >= 5 && y < 15 ? 1 : 0)));
    expect(centre).toEqual({ mean: 0.25, outsideCentre: 0, border: 0 });
    const frame = mapStatistics(map(20, 20, (x, y) => (x < 2 || x >= 18 || y < 2 || y >= 18 ? 1 : 0)));
    expect(frame.outsideCentre).toBe(1);
    expect(frame.border).toBe(1);
    const uniform = mapStatistics(map(20, 20, () => 0.5));
    expect(uniform.outsideCentre).toBeCloseTo(0.75, 10); // the centre box is a quarter of the area
    expect(uniform.border).toBeCloseTo(1 - 0.64, 10); // the inner 80 % × 80 % is not border
    expect(mapStatistics(map(4, 4, () => 0))).toEqual({ mean: 0, outsideCentre: 0, border: 0 });
  });

  it('true labels from the folder below the root', () => {
    expect(labelFromPath('cats/img1.png')).toBe('cats');
    expect(labelFromPath('train/dogs/a.jpg')).toBe('dogs');
    expect(labelFromPath('loose.png')).toBeNull();
  });

  it('CSV rows quote what needs quoting, and the file column reads back for resuming', () => {
    const rows: BatchRecord[] = [
      { file: 'cats/a, "b".png', trueLabel: 'cats', predicted: 'dogs', probability: 0.75, top5: [{ label: 'dogs', probability: 0.75 }, { label: 'cats', probability: 0.25 }], stats: { mean: 0.5, outsideCentre: 0.1, border: 0 }, error: null },
      { file: 'broken.png', trueLabel: null, predicted: null, probability: null, top5: [], stats: null, error: 'IMAGE_CORRUPT: the file is damaged' },
    ];
    const csv = [csvHeader(), ...rows.map(csvRow)].join('\n');
    expect(csv.split('\n')[0]).toBe('file,true,predicted,probability,correct,top5,map_mean,map_outside_centre,map_border,error');
    expect(csv.split('\n')[1]).toBe('"cats/a, ""b"".png",cats,dogs,0.750000,0,dogs:0.7500;cats:0.2500,0.500000,0.100000,0,');
    expect(csv.split('\n')[2]).toBe('broken.png,,,,,,,,,IMAGE_CORRUPT: the file is damaged');
    expect(csvFiles(csv + '\n')).toEqual(['cats/a, "b".png', 'broken.png']);
  });
});
