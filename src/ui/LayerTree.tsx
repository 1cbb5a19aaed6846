/**
 * The model as a WAI-ARIA tree: outer model, nested sub-models, leaf layers. Rows are a flat list
 * of visible items (aria-level / setsize / posinset) with a roving tabindex.
 */
import { memo, useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { LayerNode, ModelSummary } from '../shared/types';
import { selectLayer } from '../store/actions';
import { ancestorPaths, formatShape, indexTree } from '../store/layer-tree';
import { useStore } from '../store/store';
import { keyMove, typeAhead, visibleRows, type TreeKey, type TreeRow } from './tree-model';
import { splitForMiddleEllipsis } from './middle-ellipsis';

const NAV_KEYS: ReadonlySet<string> = new Set(['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End']);

// Each loaded model gets a fresh tree (expansion, focus, search) through a React key.
const summaryKeys = new WeakMap<ModelSummary, number>();
let nextSummaryKey = 1;
function keyOf(summary: ModelSummary): number {
  let k = summaryKeys.get(summary);
  if (k === undefined) {
    k = nextSummaryKey++;
    summaryKeys.set(summary, k);
  }
  return k;
}

export function LayerTree() {
  const summary = useStore((s) => s.model.summary);
  if (!summary) return <p className="muted tree-empty">No model yet.</p>;
  return <ModelTree key={keyOf(summary)} summary={summary} />;
}

function paramsText(n: number): string {
  return n.toLocaleString('en-US');
}

function ModelTree({ summary }: { summary: ModelSummary }) {
  const selectedPath = useStore((s) => s.explanation.selectedLayerPath) ?? summary.defaultLayerPath;
  const explainedPath = useStore((s) => s.explanation.last?.layerPath ?? null);
  const index = useMemo(() => indexTree(summary.tree), [summary]);

  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => {
    const open = new Set<string>([summary.tree.path]);
    if (summary.defaultLayerPath) for (const p of ancestorPaths(index, summary.defaultLayerPath)) open.add(p);
    return open;
  });
  const [query, setQuery] = useState('');
  const [focusedPath, setFocusedPath] = useState<string | null>(summary.defaultLayerPath ?? summary.tree.path);
  const rows = useMemo(() => visibleRows(summary.tree, expanded, query), [summary, expanded, query]);
  const matchCount = useMemo(() => (query.trim() ? rows.filter((r) => r.matches).length : 0), [rows, query]);

  const rowElements = useRef(new Map<string, HTMLDivElement>());
  const moveFocus = useRef(false);
  const typed = useRef({ text: '', at: 0 });

  const focusedIndex = Math.max(0, rows.findIndex((r) => r.node.path === focusedPath));
  const tabStopPath = rows[focusedIndex]?.node.path ?? null;

  // The default layer (or the current choice) is revealed on open, and kept in view when the
  // tree's box changes size (the page fills in around it as the first explanation arrives).
  const treeElement = useRef<HTMLDivElement>(null);
  const selectedRef = useRef(selectedPath);
  selectedRef.current = selectedPath;
  useEffect(() => {
    const reveal = () => {
      const path = selectedRef.current;
      if (path) rowElements.current.get(path)?.scrollIntoView({ block: 'nearest' });
    };
    const frame = requestAnimationFrame(reveal);
    const tree = treeElement.current;
    const observer = typeof ResizeObserver === 'function' && tree ? new ResizeObserver(reveal) : null;
    if (observer && tree) observer.observe(tree);
    return () => {
      cancelAnimationFrame(frame);
      observer?.disconnect();
    };
  }, []);

  // Keyboard moves put DOM focus on the new tab stop once it is rendered.
  useEffect(() => {
    if (!moveFocus.current || !tabStopPath) return;
    moveFocus.current = false;
    const el = rowElements.current.get(tabStopPath);
    el?.focus();
    el?.scrollIntoView({ block: 'nearest' });
  }, [tabStopPath, rows]);

  const setOpen = useCallback((path: string, open: boolean) => {
    setExpanded((prev) => {
      if (prev.has(path) === open) return prev;
      const next = new Set(prev);
      if (open) next.add(path);
      else next.delete(path);
      return next;
    });
  }, []);

  const choose = useCallback(
    (row: TreeRow) => {
      setFocusedPath(row.node.path);
      if (row.node.explainable) void selectLayer(row.node.path);
      else if (row.hasChildren) setOpen(row.node.path, !row.expanded);
    },
    [setOpen],
  );

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (!rows.length) return;
    if (NAV_KEYS.has(e.key)) {
      e.preventDefault();
      const move = keyMove(rows, focusedIndex, e.key as TreeKey);
      if (move.kind === 'focus') {
        moveFocus.current = true;
        setFocusedPath(rows[move.index].node.path);
      } else if (move.kind === 'expand') setOpen(move.path, true);
      else if (move.kind === 'collapse') setOpen(move.path, false);
      return;
    }
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      choose(rows[focusedIndex]);
      return;
    }
    if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
      // Type-ahead: letters typed within a second form one prefix.
      const now = Date.now();
      typed.current = { text: (now - typed.current.at < 1000 ? typed.current.text : '') + e.key, at: now };
      const hit = typeAhead(rows, focusedIndex, typed.current.text);
      if (hit >= 0) {
        moveFocus.current = true;
        setFocusedPath(rows[hit].node.path);
      }
    }
  };

  const registerRow = useCallback((path: string, el: HTMLDivElement | null) => {
    if (el) rowElements.current.set(path, el);
    else rowElements.current.delete(path);
  }, []);

  return (
    <div className="layer-tree">
      <div className="tree-search">
        <input
          type="search"
          placeholder="Search layers (name, class)"
          aria-label="Search layers"
          aria-controls="layer-tree"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        {query.trim() && (
          <span className="muted small" aria-live="polite">
            {matchCount} match{matchCount === 1 ? '' : 'es'}
          </span>
        )}
      </div>
      <div ref={treeElement} id="layer-tree" role="tree" aria-label={`Layers of ${summary.name}`} className="tree" onKeyDown={onKeyDown}>
        {rows.map((row) => (
          <TreeItem
            key={row.node.path}
            row={row}
            selected={row.node.path === selectedPath}
            explained={row.node.path === explainedPath}
            tabStop={row.node.path === tabStopPath}
            onChoose={choose}
            onToggle={setOpen}
            onFocusRow={setFocusedPath}
            register={registerRow}
          />
        ))}
        {!rows.length && <p className="muted small">No layer matches “{query}”.</p>}
      </div>
    </div>
  );
}

interface TreeItemProps {
  row: TreeRow;
  selected: boolean;
  explained: boolean;
  tabStop: boolean;
  onChoose: (row: TreeRow) => void;
  onToggle: (path: string, open: boolean) => void;
  onFocusRow: (path: string) => void;
  register: (path: string, el: HTMLDivElement | null) => void;
}

const TreeItem = memo(function TreeItem({ row, selected, explained, tabStop, onChoose, onToggle, onFocusRow, register }: TreeItemProps) {
  const { node } = row;
  const shape = formatShape(node.displayShape ?? node.outputShape);
  return (
    <div
      role="treeitem"
      ref={(el) => register(node.path, el)}
      data-path={node.path}
      aria-level={row.level}
      aria-setsize={row.setSize}
      aria-posinset={row.posInSet}
      aria-expanded={row.hasChildren ? row.expanded : undefined}
      aria-selected={selected}
      aria-disabled={node.explainable ? undefined : true}
      tabIndex={tabStop ? 0 : -1}
      className={[
        'tree-row',
        node.explainable ? '' : 'dimmed',
        node.note ? 'not-useful' : '',
        selected ? 'selected' : '',
        explained ? 'explained' : '',
        row.matches ? 'match' : '',
      ].join(' ')}
      style={{ paddingLeft: `${(row.level - 1) * 14 + 4}px` }}
      title={titleOf(node)}
      onFocus={() => onFocusRow(node.path)}
      onClick={() => onChoose(row)}
      onDoubleClick={() => row.hasChildren && onToggle(node.path, !row.expanded)}
    >
      <span
        className="twisty"
        aria-hidden="true"
        onClick={(e) => {
          if (!row.hasChildren) return;
          e.stopPropagation();
          onToggle(node.path, !row.expanded);
        }}
      >
        {row.hasChildren ? (row.expanded ? '▾' : '▸') : ''}
      </span>
      <TreeName name={node.name} />
      <span className="tree-class">{node.className}</span>
      <span className="tree-shape">{shape}</span>
      {node.note ? <span className="tree-note" aria-label="not useful for Grad-CAM">1×1</span> : null}
    </div>
  );
});

/** The name with a middle ellipsis: the head shrinks, the distinguishing end always shows (middle-ellipsis.ts). */
function TreeName({ name }: { name: string }) {
  const [head, tail] = splitForMiddleEllipsis(name);
  return (
    <span className="tree-name" data-name={name}>
      <span className="tree-name-head">{head}</span>
      {tail && <span className="tree-name-tail">{tail}</span>}
    </span>
  );
}

function titleOf(node: LayerNode): string {
  const lines = [node.path, `${node.className} → ${formatShape(node.displayShape ?? node.outputShape)}`, `${paramsText(node.params)} parameters`];
  if (!node.explainable) lines.push('No spatial output: Grad-CAM cannot run here');
  if (node.note) lines.push(`Not useful for Grad-CAM: ${node.note}`);
  return lines.join('\n');
}
