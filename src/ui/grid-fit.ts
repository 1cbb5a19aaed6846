/**
 * How many columns the comparison grid gets, and how tall its rows are, so that its panels are as
 * large as the space allows: every panel visible at once where the window is tall enough, the
 * panels filling the width, a row never taller than a square picture needs. Pure (tested beside).
 */

export interface GridBox {
  /** The grid's width and the height available below its top (to the bottom of the visible area). */
  width: number;
  height: number;
  gap: number;
  /** What a panel adds around its square picture: padding and border (x), and its title as well (y). */
  chromeX: number;
  chromeY: number;
  /** Pictures are never smaller than this; below it the grid grows taller than the space instead. */
  minSide: number;
}

export interface GridFit {
  columns: number;
  rows: number;
  /** Row height in CSS pixels (the panel with its title). */
  rowHeight: number;
  /** The largest square picture that fits in a cell. */
  side: number;
}

export function fitGrid(count: number, box: GridBox): GridFit {
  const n = Math.max(1, Math.floor(count));
  const width = Math.max(0, box.width);
  const columnWidth = (columns: number) => (width - box.gap * (columns - 1)) / columns;
  let best: GridFit | null = null;
  for (let columns = 1; columns <= n; columns++) {
    const rows = Math.ceil(n / columns);
    const rowSpace = (box.height - box.gap * (rows - 1)) / rows;
    const side = Math.min(columnWidth(columns) - box.chromeX, rowSpace - box.chromeY);
    // Strictly larger wins: at equal size the fewer, wider columns leave the pictures their width.
    if (!best || side > best.side + 0.5) best = { columns, rows, rowHeight: Math.floor(Math.min(rowSpace, columnWidth(columns) - box.chromeX + box.chromeY)), side: Math.floor(side) };
  }
  if (best && best.side >= box.minSide) return best;
  // Not enough height for them all: as many columns of at least minSide as the width holds, square cells.
  const columns = Math.max(1, Math.min(n, Math.floor((width + box.gap) / (box.minSide + box.chromeX + box.gap))));
  const side = Math.floor(Math.max(box.minSide, columnWidth(columns) - box.chromeX));
  return { columns, rows: Math.ceil(n / columns), rowHeight: side + box.chromeY, side };
}
