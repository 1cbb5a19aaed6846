/**
 * The gallery view: many images explained at the current layer / method, as a virtualised grid of
 * thumbnails with their overlays (only the rows in view are in the DOM), sort and filter, progress
 * with pause / cancel, the images that could not be decoded, the confusion matrix and per class the
 * mean map beside the mean image. Clicking a thumbnail opens the single view on it; "Back to the
 * gallery" returns to the same place.
 */
import { memo, useCallback, useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import {
  cancelGallery, confusionMatrix, exportContactSheet, exportGalleryZip, followChoices, openInSingleView, pauseGallery, rememberScroll, runGallery, setClassMode,
  setGalleryFilter, setGallerySort, showGallery, useGallery, visibleEntries, type GalleryState,
} from '../store/gallery';
import { formatDuration, isMisclassified, SORT_LABELS, type GalleryEntryView, type GalleryFilter, type GallerySort } from '../store/gallery-view';
import { useStore } from '../store/store';
import type { GalleryClassMode } from '../protocol';

const CELL_WIDTH = 120;
const CELL_HEIGHT = 156;
/** Rows drawn above and below the visible ones (smooth scrolling). */
const OVERSCAN = 1;

export function GalleryView() {
  const view = useGallery((s) => s.view);
  const count = useGallery((s) => s.count);
  useEffect(() => followChoices(), []);
  if (count === 0) return null;
  if (view === 'single') {
    return (
      <div className="gallery-back-bar">
        <button type="button" onClick={showGallery} data-testid="gallery-back">
          ← Back to the gallery ({count} images)
        </button>
      </div>
    );
  }
  return (
    <section className="gallery" aria-label="Gallery" data-testid="gallery">
      <GalleryToolbar />
      <GalleryProgressBar />
      <FailedImages />
      <GalleryGrid />
      <GallerySummary />
    </section>
  );
}

function filterValue(f: GalleryFilter): string {
  switch (f.kind) {
    case 'true':
    case 'predicted':
      return `${f.kind}:${f.label}`;
    case 'cell':
      return 'cell';
    default:
      return f.kind;
  }
}

function parseFilter(value: string): GalleryFilter {
  const [kind, ...rest] = value.split(':');
  const label = rest.join(':');
  if (kind === 'true' || kind === 'predicted') return { kind, label };
  if (kind === 'misclassified' || kind === 'correct' || kind === 'errors') return { kind };
  return { kind: 'all' };
}

function GalleryToolbar() {
  const sort = useGallery((s) => s.sort);
  const filter = useGallery((s) => s.filter);
  const classMode = useGallery((s) => s.classMode);
  const trueLabels = useGallery((s) => s.trueLabels);
  const labels = useStore((s) => s.model.summary?.labels ?? []);
  const target = useStore((s) => s.explanation.target);
  return (
    <div className="gallery-toolbar">
      <label>
        Sort{' '}
        <select value={sort} onChange={(e) => setGallerySort(e.target.value as GallerySort)} data-testid="gallery-sort">
          {(Object.keys(SORT_LABELS) as GallerySort[]).map((k) => (
            <option key={k} value={k}>
              {SORT_LABELS[k]}
            </option>
          ))}
        </select>
      </label>
      <label>
        Show{' '}
        <select value={filterValue(filter)} onChange={(e) => setGalleryFilter(parseFilter(e.target.value))} data-testid="gallery-filter">
          <option value="all">All images</option>
          <option value="misclassified">Misclassified</option>
          <option value="correct">Correct</option>
          <option value="errors">Not decoded</option>
          {filter.kind === 'cell' && <option value="cell">{`True ${filter.trueLabel}, predicted ${filter.predicted}`}</option>}
          {trueLabels.map((l) => (
            <option key={`t${l}`} value={`true:${l}`}>{`True: ${l}`}</option>
          ))}
          {labels.map((l) => (
            <option key={`p${l}`} value={`predicted:${l}`}>{`Predicted: ${l}`}</option>
          ))}
        </select>
      </label>
      <label>
        Class explained{' '}
        <select value={classMode} onChange={(e) => void setClassMode(e.target.value as GalleryClassMode)} data-testid="gallery-class-mode">
          <option value="predicted">Predicted (top-1)</option>
          <option value="true" disabled={trueLabels.length === 0}>
            True label
          </option>
          <option value="fixed">{target === null ? 'Fixed class (pick one in the target panel)' : `Fixed: ${labels[target] ?? target}`}</option>
        </select>
      </label>
      <span className="gallery-toolbar-actions">
        <button type="button" onClick={() => void exportContactSheet()}>
          Contact sheet PNG
        </button>
        <button type="button" onClick={() => void exportGalleryZip()}>
          Export CSV + overlays (.zip)
        </button>
      </span>
    </div>
  );
}

function GalleryProgressBar() {
  const progress = useGallery((s) => s.progress);
  const running = useGallery((s) => s.running);
  const outcome = useGallery((s) => s.outcome);
  if (!progress) return null;
  const { done, total, imagesPerSecond, secondsLeft, paused } = progress;
  const rate = imagesPerSecond > 0 ? `${imagesPerSecond.toFixed(1)} images/s` : '';
  const left = running && secondsLeft !== null ? `${formatDuration(secondsLeft)} left` : '';
  const state = running ? (paused ? 'paused' : '') : outcome === 'cancelled' ? 'cancelled' : outcome === 'failed' ? 'failed' : 'done';
  return (
    <div className="gallery-progress" data-testid="gallery-progress" data-running={running ? 'true' : 'false'} data-outcome={outcome}>
      <progress max={total} value={done} aria-label="Gallery progress" />
      <span aria-live="polite">
        {done} / {total}
        {[rate, left, state].filter(Boolean).map((t) => ` · ${t}`)}
      </span>
      {running ? (
        <>
          <button type="button" onClick={() => void pauseGallery(!paused)}>
            {paused ? 'Resume' : 'Pause'}
          </button>
          <button type="button" onClick={cancelGallery}>
            Cancel
          </button>
        </>
      ) : (
        outcome !== 'done' && (
          <button type="button" onClick={() => void runGallery()}>
            Run again
          </button>
        )
      )}
    </div>
  );
}

function FailedImages() {
  // Deferred: a batch's new items render in an interruptible background render (React yields every few ms).
  const entries = useDeferredValue(useGallery((s) => s.entries));
  const failed = useMemo(() => entries.filter((e): e is GalleryEntryView => !!e?.record.error), [entries]);
  if (!failed.length) return null;
  return (
    <details className="gallery-failed" open data-testid="gallery-failed">
      <summary>
        {failed.length} image{failed.length === 1 ? '' : 's'} could not be explained
      </summary>
      <ul>
        {failed.map((e) => (
          <li key={e.index}>
            <strong>{e.record.file}</strong>: {e.record.error}
          </li>
        ))}
      </ul>
    </details>
  );
}

/** The element's width, from a ResizeObserver (never read synchronously: no forced layout in a render). */
function useWidth(ref: React.RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(800);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new ResizeObserver((entries) => setWidth(Math.round(entries[0]?.contentRect.width ?? 800)));
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

function GalleryGrid() {
  // Deferred: a batch's new items render in an interruptible background render (React yields every few ms).
  const entries = useDeferredValue(useGallery((s) => s.entries));
  const filter = useGallery((s) => s.filter);
  const sort = useGallery((s) => s.sort);
  const count = useGallery((s) => s.count);
  const shown = useMemo(() => visibleEntries(entries, filter, sort), [entries, filter, sort]);
  const scroller = useRef<HTMLDivElement>(null);
  const width = useWidth(scroller);
  const [scrollTop, setScrollTop] = useState(() => useGallery.getState().scrollTop);
  const [height, setHeight] = useState(600);
  const columns = Math.max(1, Math.floor(width / CELL_WIDTH));
  const rows = Math.ceil(shown.length / columns);

  // Back from the single view: the same place.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    el.scrollTop = useGallery.getState().scrollTop;
    setHeight(el.clientHeight);
  }, []);
  // A new filter or sort starts at the top.
  useEffect(
    () =>
      useGallery.subscribe((s: GalleryState, before: GalleryState) => {
        if ((s.filter !== before.filter || s.sort !== before.sort) && scroller.current) scroller.current.scrollTop = 0;
      }),
    [],
  );

  const open = useCallback((index: number) => void openInSingleView(index, scroller.current?.scrollTop), []);
  const first = Math.max(0, Math.floor(scrollTop / CELL_HEIGHT) - OVERSCAN);
  const last = Math.min(rows, Math.ceil((scrollTop + height) / CELL_HEIGHT) + OVERSCAN);
  const cells = shown.slice(first * columns, last * columns);
  return (
    <div
      className="gallery-grid"
      ref={scroller}
      data-testid="gallery-grid"
      data-shown={shown.length}
      data-explained={entries.filter(Boolean).length}
      onScroll={(e) => {
        const top = e.currentTarget.scrollTop;
        setScrollTop(top);
        setHeight(e.currentTarget.clientHeight);
        rememberScroll(top);
      }}
    >
      <div className="gallery-grid-inner" style={{ height: rows * CELL_HEIGHT }} role="list" aria-label={`${shown.length} of ${count} images`}>
        {cells.map((e, k) => {
          const i = first * columns + k;
          return <Thumb key={e.index} entry={e} left={(i % columns) * CELL_WIDTH} top={Math.floor(i / columns) * CELL_HEIGHT} open={open} />;
        })}
      </div>
      {shown.length === 0 && <p className="muted gallery-empty">{entries.some(Boolean) ? 'No image matches this filter.' : 'Explaining…'}</p>}
    </div>
  );
}

/** An object URL for a blob while the component shows it (cells out of view hold none). */
function useObjectUrl(blob: Blob | null): string | null {
  const url = useMemo(() => (blob ? URL.createObjectURL(blob) : null), [blob]);
  // Revoked a little later: an <img> still loading from it when the cell goes would log a failed load.
  useEffect(() => () => {
    if (url) setTimeout(() => URL.revokeObjectURL(url), 5000);
  }, [url]);
  return url;
}

/** One cell; memoised: a new batch re-renders only the new cells. */
const Thumb = memo(function Thumb({ entry, left, top, open }: { entry: GalleryEntryView; left: number; top: number; open: (index: number) => void }) {
  const r = entry.record;
  const thumbUrl = useObjectUrl(entry.thumb);
  const wrong = isMisclassified(r);
  const known = r.trueLabel !== null && r.error === null;
  const name = r.file.split('/').pop() ?? r.file;
  const probability = r.probability === null ? '' : `${(r.probability * 100).toFixed(0)} %`;
  return (
    <div className="gallery-cell" role="listitem" style={{ left, top }} data-index={entry.index} data-file={r.file} data-wrong={wrong ? 'true' : 'false'}>
      <button
        type="button"
        className="gallery-thumb"
        disabled={r.error !== null}
        onClick={() => open(entry.index)}
        aria-label={`${r.file}: ${r.error ? 'not decoded' : `predicted ${r.predicted} ${probability}${known ? `, true ${r.trueLabel}` : ''}`}. Open in the single view.`}
      >
        {thumbUrl ? <img src={thumbUrl} alt="" width={96} height={96} decoding="async" /> : <span className="gallery-thumb-error">✕</span>}
      </button>
      <div className="gallery-caption" title={r.error ?? r.file}>
        <span className="gallery-name">{name}</span>
        {r.error ? (
          <span className="gallery-wrong">not decoded</span>
        ) : (
          <span>
            {known && <span className={wrong ? 'gallery-badge gallery-wrong' : 'gallery-badge gallery-right'}>{wrong ? '✗' : '✓'}</span>} {r.predicted} {probability}
          </span>
        )}
        {known && <span className="muted">true: {r.trueLabel}</span>}
      </div>
    </div>
  );
});

function GallerySummary() {
  // Deferred: a batch's new items render in an interruptible background render (React yields every few ms).
  const entries = useDeferredValue(useGallery((s) => s.entries));
  const summary = useGallery((s) => s.summary);
  const running = useGallery((s) => s.running);
  const matrix = useMemo(() => confusionMatrix(entries), [entries]);
  return (
    <div className="gallery-summary">
      {matrix.labels.length > 0 && (
        <div>
          <h2>Confusion matrix {running && <span className="muted">(so far)</span>}</h2>
          <table className="confusion" data-testid="confusion-matrix">
            <thead>
              <tr>
                <th scope="col">true ↓ / predicted →</th>
                {matrix.labels.map((l) => (
                  <th key={l} scope="col">
                    {l}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {matrix.labels.map((t, ti) => (
                <tr key={t}>
                  <th scope="row">{t}</th>
                  {matrix.labels.map((p, pi) => {
                    const n = matrix.counts[ti]![pi]!;
                    return (
                      <td key={p} className={ti === pi ? 'diagonal' : n ? 'off-diagonal' : ''} data-true={t} data-predicted={p} data-count={n}>
                        {n ? (
                          <button type="button" className="link-button" onClick={() => setGalleryFilter({ kind: 'cell', trueLabel: t, predicted: p })} aria-label={`${n} images of ${t} predicted ${p}: show them`}>
                            {n}
                          </button>
                        ) : (
                          <span className="muted">0</span>
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {summary.length > 0 && (
        <div>
          <h2>Per class: mean map · mean image</h2>
          <div className="class-means" data-testid="class-means">
            {summary.map((c) => (
              <figure key={c.label}>
                <div>
                  <img src={c.meanMapUrl} alt={`mean map of ${c.label}`} width={96} height={96} />
                  <img src={c.meanImageUrl} alt={`mean image of ${c.label}`} width={96} height={96} />
                </div>
                <figcaption>
                  {c.label} ({c.count})
                </figcaption>
              </figure>
            ))}
          </div>
        </div>
      )}
    </div>
  );
}
