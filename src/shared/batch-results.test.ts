import { describe, expect, it } from 'vitest';
import Papa from 'papaparse';
import { csvDocument, csvFiles, csvHeader, csvRow, labelFromPath, mapStatistics, parseBatchCsv, type BatchRecord } from './batch-results';

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

  const record = (file: string): BatchRecord => ({ file, trueLabel: 'cats', predicted: 'cats', probability: 0.5, top5: [{ label: 'cats', probability: 0.5 }, { label: 'dogs', probability: 0.25 }, { label: 'x;y', probability: 0.25 }], stats: { mean: 0.1, outsideCentre: 0.2, border: 0.3 }, error: null });
  const hostile = ['a\nb.png', 'c\r\nd.png', 'e, "f"\n.png', '=HYPERLINK("http://x","y").png', '+1.png', '-2.png', '@sum.png', '\tt.png', "'=already.png", "'plain.png", 'ok.png'];

  it('names with newlines, quotes and commas round-trip; formula starts are neutralised (OWASP)', () => {
    const csv = csvDocument(hostile.map(record));
    expect(csvFiles(csv)).toEqual(hostile);
    // What a spreadsheet sees: parsed by papaparse as any CSV reader would, no cell starts a formula.
    const cells = Papa.parse<string[]>(csv, { skipEmptyLines: true }).data.slice(1).map((row) => row[0] ?? '');
    expect(cells).toHaveLength(hostile.length);
    for (const cell of cells) expect(cell, cell).not.toMatch(/^[=+\-@\t\r]/);
    expect(cells).toContain(`'=HYPERLINK("http://x","y").png`);
    expect(cells).toContain('a\nb.png');
    // An error message starting with a minus sign is text too.
    expect(csvRow({ ...record('x.png'), error: '-1 is not a class' })).toMatch(/,'-1 is not a class$/);
  });

  it('a torn last row (a kill mid-append) is dropped, even when cut inside a quoted newline', () => {
    const whole = csvDocument(hostile.map(record));
    for (const cut of [1, 5, 20, whole.length - whole.lastIndexOf('a\nb') + 0]) {
      const torn = whole.slice(0, whole.length - cut);
      const parsed = parseBatchCsv(torn);
      expect(parsed.tornTail, `cut ${cut}`).toBe(true);
      expect(parsed.files).toEqual(hostile.slice(0, parsed.files.length));
      expect(parsed.files.length).toBeLessThan(hostile.length);
      // The kept text is whole rows: parsing it again changes nothing and tears nothing.
      expect(parseBatchCsv(parsed.complete)).toEqual({ files: parsed.files, complete: parsed.complete, tornTail: false });
    }
    // A row cut right after a newline inside its quoted name still counts as torn.
    const inside = whole.slice(0, whole.indexOf('c\r\n') + 3);
    expect(parseBatchCsv(inside).files).toEqual(['a\nb.png']);
    expect(parseBatchCsv(inside).tornTail).toBe(true);
    expect(parseBatchCsv(whole)).toEqual({ files: hostile, complete: whole, tornTail: false });
    expect(parseBatchCsv('file,tr').tornTail).toBe(true);
  });
});
