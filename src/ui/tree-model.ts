/**
 * The layer tree as a flat list of visible rows (fast for 155+ layers: the view renders one list,
 * keyboard moves are index arithmetic). Pure: no React, no DOM.
 */
import type { LayerNode } from '../shared/types';

export interface TreeRow {
  node: LayerNode;
  /** 1 for the root (aria-level). */
  level: number;
  parentPath: string | null;
  /** Among the siblings shown (aria-setsize / aria-posinset). */
  setSize: number;
  posInSet: number;
  hasChildren: boolean;
  expanded: boolean;
  /** The row itself matches the search (as opposed to being shown as an ancestor of a match). */
  matches: boolean;
}

export function nodeMatches(node: LayerNode, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  return node.name.toLowerCase().includes(q) || node.className.toLowerCase().includes(q) || node.path.toLowerCase().includes(q);
}

/**
 * Visible rows in display order. Without a query, children show when their parent is expanded.
 * With a query, only matching rows and their ancestors show, and those ancestors are open, so
 * a match inside a collapsed sub-model is revealed.
 */
export function visibleRows(root: LayerNode, expanded: ReadonlySet<string>, query: string): TreeRow[] {
  const rows: TreeRow[] = [];
  const searching = query.trim() !== '';
  // With a search, which subtrees hold a match (memoised per call).
  const holdsMatch = new Map<LayerNode, boolean>();
  const keep = (node: LayerNode): boolean => {
    let hit = holdsMatch.get(node);
    if (hit === undefined) {
      hit = nodeMatches(node, query) || (node.children ?? []).some(keep);
      holdsMatch.set(node, hit);
    }
    return hit;
  };
  const walk = (siblings: LayerNode[], level: number, parentPath: string | null): void => {
    const shown = searching ? siblings.filter(keep) : siblings;
    shown.forEach((node, i) => {
      const children = node.children ?? [];
      const hasChildren = children.length > 0;
      const childrenHoldMatch = searching && children.some(keep);
      const isOpen = hasChildren && (searching ? childrenHoldMatch || expanded.has(node.path) : expanded.has(node.path));
      rows.push({
        node,
        level,
        parentPath,
        setSize: shown.length,
        posInSet: i + 1,
        hasChildren,
        expanded: isOpen,
        matches: searching && nodeMatches(node, query),
      });
      if (isOpen) walk(children, level + 1, node.path);
    });
  };
  walk([root], 1, null);
  return rows;
}

export type TreeKey = 'ArrowUp' | 'ArrowDown' | 'ArrowLeft' | 'ArrowRight' | 'Home' | 'End';

export type TreeMove =
  | { kind: 'focus'; index: number }
  | { kind: 'expand'; path: string }
  | { kind: 'collapse'; path: string }
  | { kind: 'none' };

/** What a navigation key does on the row at `index` (WAI-ARIA tree view pattern). */
export function keyMove(rows: TreeRow[], index: number, key: TreeKey): TreeMove {
  if (!rows.length) return { kind: 'none' };
  const row = rows[index];
  switch (key) {
    case 'ArrowDown':
      return index < rows.length - 1 ? { kind: 'focus', index: index + 1 } : { kind: 'none' };
    case 'ArrowUp':
      return index > 0 ? { kind: 'focus', index: index - 1 } : { kind: 'none' };
    case 'Home':
      return { kind: 'focus', index: 0 };
    case 'End':
      return { kind: 'focus', index: rows.length - 1 };
    case 'ArrowRight':
      if (!row?.hasChildren) return { kind: 'none' };
      if (!row.expanded) return { kind: 'expand', path: row.node.path };
      return { kind: 'focus', index: index + 1 };
    case 'ArrowLeft': {
      if (!row) return { kind: 'none' };
      if (row.hasChildren && row.expanded) return { kind: 'collapse', path: row.node.path };
      const parent = row.parentPath === null ? -1 : rows.findIndex((r) => r.node.path === row.parentPath);
      return parent >= 0 ? { kind: 'focus', index: parent } : { kind: 'none' };
    }
  }
}

/** Type-ahead: the next row after `from` whose name starts with `prefix` (wrapping). */
export function typeAhead(rows: TreeRow[], from: number, prefix: string): number {
  const p = prefix.toLowerCase();
  for (let step = 1; step <= rows.length; step++) {
    const i = (from + step) % rows.length;
    if (rows[i].node.name.toLowerCase().startsWith(p)) return i;
  }
  return -1;
}
