import { describe, expect, it } from 'vitest';
import { fitGrid, type GridBox } from './grid-fit';

const box = (width: number, height: number): GridBox => ({ width, height, gap: 10, chromeX: 14, chromeY: 36, minSide: 140 });

describe('fitGrid', () => {
  it('puts four panels in two rows on a desktop main column, rows filling the height', () => {
    const fit = fitGrid(4, box(1360, 950));
    expect(fit).toMatchObject({ columns: 2, rows: 2 });
    expect(fit.rowHeight).toBe(470);
    expect(fit.side).toBe(434);
  });

  it('on a phone: two columns of square cells (no row taller than its picture needs)', () => {
    const fit = fitGrid(4, box(366, 660));
    expect(fit.columns).toBe(2);
    expect(fit.side).toBe(164);
    expect(fit.rowHeight).toBe(164 + 36);
  });

  it('one panel takes the whole box; a wide box takes panels side by side', () => {
    expect(fitGrid(1, box(800, 600))).toMatchObject({ columns: 1, rows: 1, side: 564 });
    expect(fitGrid(4, box(2000, 400)).columns).toBe(4);
  });

  it('many panels in a low box: at least minSide each, the grid grows taller instead', () => {
    const fit = fitGrid(17, box(1000, 300));
    expect(fit.side).toBeGreaterThanOrEqual(140);
    expect(fit.columns).toBe(6);
    expect(fit.rows).toBe(3);
  });
});
