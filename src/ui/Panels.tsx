/**
 * The comparison grid: the original, then one panel per chosen method — or, in the layers grid, the
 * first method at several layers — each titled, sized to the space (grid-fit.ts); click or Enter
 * opens a panel large (LargeView). The worker draws them: the client puts a canvas in
 * each container and transfers it (again whenever the grid's panels change). The controls below
 * only recolour (setView) or re-explain (methods, preprocessing).
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { COLORMAP_NAMES, colormapGradientCss } from '../render/colormaps';
import { METHODS, methodInfo, methodLabel, resolveMethodOptions, type MethodId } from '../shared/methods';
import { colourName, conceptClassesText, conceptTitle, type ConceptLegendEntry } from '../shared/concepts';
import type { ColormapName, NormalizationPreset, ResizeMode } from '../shared/types';
import { conceptIndexOfKey, conceptPanelKey, layerPanelKey } from '../shared/panels';
import type { PanelInfo, PanelName } from '../protocol';
import { attachPanels, cancelExplain, resetPreprocess, setPreprocess, setView } from '../store/actions';
import { formatDuration } from '../store/gallery-view';
import { gridLayers } from '../store/layer-tree';
import { useStore } from '../store/store';
import { fitGrid, type GridFit } from './grid-fit';
import { LargeView } from './LargeView';
import { MethodPicker } from './MethodPicker';
import { FaithfulnessPanel } from './FaithfulnessPanel';

interface PanelSpec {
  key: PanelName;
  title: string;
  hint: string;
  method?: MethodId;
  layer?: string;
  /** A DFF concept cell's colour (a swatch before its title). */
  swatch?: [number, number, number];
}

/**
 * Deep Feature Factorization showing all concepts: a cell per concept after the combined picture,
 * titled by the last explanation's classes for it once drawn ("Concept 1: circle 97 %").
 */
function conceptSpecs(count: number, panels: readonly PanelInfo[] | undefined): PanelSpec[] {
  return Array.from({ length: count }, (_, j) => {
    const key = conceptPanelKey(j);
    const entry = panels?.find((p) => p.key === key)?.concept?.entry;
    const title = entry ? conceptTitle(j, entry) : `Concept ${j + 1}`;
    return {
      key, title, method: 'dff', ...(entry ? { swatch: entry.colour } : {}),
      hint: `${title}\nDeep Feature Factorization's concept ${j + 1}: where the layer's activations hold it, in its colour; the title lists the classes the model's head links it with.`,
    };
  });
}

/** The grid's panels as the store describes them (the worker fills them when the explanation arrives). */
function usePanelSpecs(): PanelSpec[] {
  const methods = useStore((s) => s.explanation.methods);
  const grid = useStore((s) => s.explanation.grid);
  const tree = useStore((s) => s.model.summary?.tree ?? null);
  const imageSize = useStore((s) => s.model.summary?.imageSize);
  const selected = useStore((s) => s.explanation.selectedLayerPath ?? s.model.summary?.defaultLayerPath ?? null);
  const dffOptions = useStore((s) => s.explanation.methodOptions.dff);
  const lastPanels = useStore((s) => s.explanation.last?.panels);
  const original: PanelSpec = { key: 'original', title: 'Original', hint: 'The image as the model sees it (after resizing).' };
  if (grid === 'layers' && tree && methods.length > 0) {
    const method = methods[0]!;
    const layers = gridLayers(tree, selected, imageSize && [imageSize[0], imageSize[1]]);
    if (layers.length > 0) {
      return [original, ...layers.map((layer, i) => ({ key: layerPanelKey(i), title: `${methodLabel(method)} · ${layer.split('/').pop()}`, hint: `${methodInfo(method).hint}\nLayer: ${layer}`, method, layer }))];
    }
  }
  const dff = resolveMethodOptions('dff', dffOptions ?? {});
  const concepts = dff.show === 'combined' ? Number(dff.concepts) : 0;
  return [original, ...methods.flatMap((m): PanelSpec[] => [
    { key: m, title: methodLabel(m), hint: methodInfo(m).hint, method: m },
    ...(m === 'dff' ? conceptSpecs(concepts, lastPanels) : []),
  ])];
}

/** What a panel adds around its square picture (app.css: .panel padding + border; the title line). */
const PANEL_CHROME_X = 14;
const PANEL_CHROME_Y = 36;
const PANEL_GAP = 10;
const MIN_PICTURE = 140;

/** The nearest ancestor that scrolls, or null when the page itself does. */
function scrollParent(el: HTMLElement): HTMLElement | null {
  for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    const overflow = getComputedStyle(p).overflowY;
    if (overflow === 'auto' || overflow === 'scroll') return p;
  }
  return null;
}

/**
 * The grid's columns and row height for the space it has: its width, and the height from its top
 * to the bottom of whatever scrolls it (the main column on a wide window, the page on a narrow one),
 * so that the panels fill the first screen and grow with the window.
 */
function useGridFit(grid: React.RefObject<HTMLDivElement | null>, count: number): GridFit | null {
  const [fit, setFit] = useState<GridFit | null>(null);
  useLayoutEffect(() => {
    const el = grid.current;
    if (!el) return;
    const update = () => {
      const scroller = scrollParent(el);
      const top = el.getBoundingClientRect().top;
      const bottomGap = 12;
      const height = scroller
        ? scroller.clientHeight - (top - scroller.getBoundingClientRect().top + scroller.scrollTop) - bottomGap
        : window.innerHeight - (top + window.scrollY) - bottomGap;
      const next = fitGrid(count, { width: el.clientWidth, height, gap: PANEL_GAP, chromeX: PANEL_CHROME_X, chromeY: PANEL_CHROME_Y, minSide: MIN_PICTURE });
      setFit((old) => (old && old.columns === next.columns && old.rowHeight === next.rowHeight ? old : next));
    };
    update();
    const observer = new ResizeObserver(update);
    observer.observe(el);
    // What sits above the grid (the status region grows with its message) moves its top.
    const toolbar = document.querySelector('.toolbar');
    if (toolbar) observer.observe(toolbar);
    const scroller = scrollParent(el);
    observer.observe(scroller ?? document.documentElement);
    window.addEventListener('resize', update);
    return () => {
      observer.disconnect();
      window.removeEventListener('resize', update);
    };
  }, [grid, count]);
  return fit;
}

export function Panels() {
  const refs = useRef<Partial<Record<PanelName, HTMLDivElement | null>>>({});
  const gridRef = useRef<HTMLDivElement>(null);
  const last = useStore((s) => s.explanation.last);
  const defaultLayer = useStore((s) => s.model.summary?.defaultLayerPath ?? null);
  const specs = usePanelSpecs();
  const keys = specs.map((p) => p.key).join('|');
  const fit = useGridFit(gridRef, specs.length);
  const [large, setLarge] = useState<PanelSpec | null>(null);

  // Hand the containers over whenever the grid's panels change; the worker owns the canvases.
  useEffect(() => {
    const containers: Partial<Record<PanelName, HTMLElement>> = {};
    for (const key of keys.split('|')) {
      const el = refs.current[key];
      if (el) containers[key] = el;
    }
    attachPanels(containers);
  }, [keys]);

  const drawn = new Set((last?.panels ?? []).map((p) => p.key));
  const canOpen = (key: PanelName) => Boolean(last) && (key === 'original' || drawn.has(key));
  const closeLarge = () => {
    const key = large?.key;
    setLarge(null);
    // Back where the person was: the panel they opened.
    if (key) refs.current[key]?.focus();
  };
  const gridStyle = fit ? { gridTemplateColumns: `repeat(${fit.columns}, minmax(0, 1fr))`, gridAutoRows: `${fit.rowHeight}px` } : undefined;
  return (
    <section className="panels-area" aria-label="Explanation views">
      <div className="explained-line" data-testid="explained-line">
        {last ? (
          <>
            <span className="muted">Layer</span>{' '}
            {/* Long names are cut with an ellipsis on one line; the full name is in the tooltip. */}
            <code className="layer-path" title={last.layerPath ?? defaultLayer ?? undefined}>
              {last.layerPath ?? defaultLayer ?? '(default)'}
            </code>
            <span className="muted"> · class</span>{' '}
            <strong className="class-label" title={last.classLabel}>
              {last.classLabel}
            </strong>
            <span className="muted"> #{last.classIndex}</span>
            {last.counterfactual && <span className="badge">counterfactual</span>}
          </>
        ) : (
          <span className="muted">Nothing explained yet.</span>
        )}
      </div>
      <div
        className="panels"
        ref={gridRef}
        style={gridStyle}
        data-columns={fit?.columns}
        data-grid={specs.length > 1 && specs[1]!.key.startsWith('layer:') ? 'layers' : 'methods'}
      >
        {specs.map((p) => (
          <figure className="panel" key={p.key} data-panel-frame={p.key}>
            <figcaption className="panel-title" title={p.hint}>
              {p.swatch && <span className="concept-swatch" style={{ background: `rgb(${p.swatch.join(', ')})` }} aria-hidden="true" />}
              {p.title}
              {/* Chosen after the last explanation, or impossible for this model (no spatial layer): the warning says which. */}
            </figcaption>
            {/* Click or Enter opens the panel large (zoom, pan, readout, wipe). */}
            <div
              className="panel-frame"
              ref={(el) => void (refs.current[p.key] = el)}
              role="button"
              tabIndex={0}
              aria-label={`${p.title}: open large`}
              aria-disabled={!canOpen(p.key)}
              data-testid={`open-large-${p.key}`}
              onClick={() => canOpen(p.key) && setLarge(p)}
              onKeyDown={(e) => {
                if ((e.key === 'Enter' || e.key === ' ') && canOpen(p.key)) {
                  e.preventDefault();
                  setLarge(p);
                }
              }}
            />
            {p.key !== 'original' && !drawn.has(p.key) && <PanelState panelKey={p.key} explained={Boolean(last)} />}
            {drawn.has(p.key) && <ConceptLegend entries={last?.panels.find((i) => i.key === p.key)?.concepts} />}
          </figure>
        ))}
      </div>
      {large && <LargeView panelKey={large.key} title={large.title} onClose={closeLarge} />}
    </section>
  );
}

/**
 * Deep Feature Factorization's combined picture: which colour is which concept, and the classes the
 * head links it with (the most probable first; the others, down to 1 %, in the tooltip).
 */
function ConceptLegend({ entries }: { entries: ConceptLegendEntry[] | undefined }) {
  if (!entries || entries.length === 0) return null;
  return (
    <ul className="concept-legend" aria-label="Concepts" data-testid="concept-legend">
      {entries.map((e, j) => (
        <li key={j} title={`Concept ${j + 1} (${colourName(e.colour)}): ${conceptClassesText(e)}`}>
          <span className="concept-swatch" style={{ background: `rgb(${e.colour.join(', ')})` }} aria-hidden="true" />
          <span className="concept-name">{j + 1}. {e.classes[0]?.label ?? '—'}</span>{' '}
          <span className="muted">{Math.round((e.classes[0]?.probability ?? 0) * 100)} %</span>
        </li>
      ))}
    </ul>
  );
}

/**
 * What an undrawn panel says: its own progress while it is being computed (percentage, time left, and
 * Cancel), "waiting" while another method of the same request runs, "cancelled" or "failed" when the
 * request ended so, and "not computed" only for a panel no request asked for (chosen after the last
 * explanation, or impossible for this model).
 */
function PanelState({ panelKey, explained }: { panelKey: PanelName; explained: boolean }) {
  const running = useStore((s) => s.explanation.running);
  const unfinished = useStore((s) => s.explanation.unfinished);
  const progress = useStore((s) => s.status.explainProgress);
  // A concept cell follows its method (DFF); a method's own cell is keyed by the method.
  const method: MethodId = conceptIndexOfKey(panelKey) !== null ? 'dff' : (panelKey as MethodId);
  if (running?.methods.includes(method)) {
    if (running.method !== method || !progress || progress.method !== method) return <div className="muted small panel-state" data-testid={`panel-state-${panelKey}`}>waiting…</div>;
    const fraction = progress.fraction;
    const elapsed = (Date.now() - running.methodSince) / 1000;
    const left = fraction > 0.02 ? (elapsed * (1 - fraction)) / fraction : null;
    return (
      <div className="panel-state small" data-testid={`panel-state-${panelKey}`}>
        computing <progress max={1} value={fraction} aria-label={`${methodLabel(method)} progress`} /> {Math.round(fraction * 100)} %
        {left !== null && <span className="muted"> · {formatDuration(left)} left</span>}{' '}
        <button type="button" className="link-button" data-testid={`cancel-panel-${panelKey}`} onClick={cancelExplain}>
          Cancel
        </button>
      </div>
    );
  }
  if (unfinished?.methods.includes(method)) {
    return <div className="muted small panel-state" data-testid={`panel-state-${panelKey}`}>{unfinished.outcome === 'cancelled' ? 'cancelled' : 'failed: see the status line'}</div>;
  }
  return explained ? <div className="muted small panel-state" data-testid={`panel-state-${panelKey}`}>not computed</div> : null;
}

/** Below the grid: methods, overlay and preprocessing, and what the last explanation ran. */
export function PanelControls() {
  const last = useStore((s) => s.explanation.last);
  return (
    <>
      <div className="controls">
        <MethodPicker />
        <ViewControls />
        <PreprocessControls />
      </div>
      {last && (
        <p className="muted small methods-line">
          {[...new Set(last.methods)].map(methodLabel).join(' · ')}
          {typeof last.timings.total === 'number' ? ` · ${Math.round(last.timings.total)} ms` : ''}
        </p>
      )}
      <FaithfulnessPanel />
    </>
  );
}

const NORMALIZATIONS: { value: NormalizationPreset; label: string }[] = [
  { value: 'unit', label: 'x / 255 → [0, 1]' },
  { value: 'symmetric', label: 'x / 127.5 − 1 → [−1, 1]' },
  { value: 'imagenet', label: 'ImageNet mean / std' },
  { value: 'caffe', label: 'Caffe (BGR, mean subtracted)' },
  { value: 'raw', label: 'Raw 0–255' },
];

const RESIZES: { value: ResizeMode; label: string }[] = [
  { value: 'stretch', label: 'Stretch to input size' },
  { value: 'center-crop', label: 'Centre crop, then resize' },
];

function ViewControls() {
  const view = useStore((s) => s.view);
  // The outline switch only where a drawn panel has superpixels (LIME, KernelSHAP, Shapley sampling, feature ablation).
  const segmented = useStore((s) => (s.explanation.last?.panels ?? []).some((p) => SUPERPIXEL_METHODS.has(p.method)));
  return (
    <fieldset className="control-group">
      <legend>Overlay</legend>
      <label>
        Colour map
        <select value={view.colormap} onChange={(e) => void setView({ colormap: e.target.value as ColormapName })}>
          {COLORMAP_NAMES.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Opacity <output>{Math.round(view.opacity * 100)}%</output>
        <input
          type="range"
          min={0}
          max={1}
          step={0.05}
          value={view.opacity}
          aria-label="Overlay opacity"
          onChange={(e) => void setView({ opacity: Number(e.target.value) })}
        />
      </label>
      <label>
        Threshold <output>{view.threshold.toFixed(2)}</output>
        <input
          type="range"
          min={0}
          max={0.95}
          step={0.05}
          value={view.threshold}
          aria-label="Overlay threshold"
          onChange={(e) => void setView({ threshold: Number(e.target.value) })}
        />
      </label>
      {segmented && (
        <label className="checkbox-label">
          <input
            type="checkbox"
            checked={view.segmentOutlines !== false}
            data-testid="segment-outlines"
            onChange={(e) => void setView({ segmentOutlines: e.target.checked })}
          />{' '}
          Superpixel outlines
        </label>
      )}
      <ColorBar name={view.colormap} threshold={view.threshold} />
    </fieldset>
  );
}

/** Methods whose panels outline the superpixels they perturbed. */
const SUPERPIXEL_METHODS: ReadonlySet<MethodId> = new Set(METHODS.filter((m) => m.options.some((o) => o.name === 'segments')).map((m) => m.id));

/** The colour map from 0 (left) to 1 (right); values under the threshold are shown as hidden. */
export function ColorBar({ name, threshold }: { name: ColormapName; threshold: number }) {
  return (
    <div className="colorbar" role="img" aria-label={`Colour map ${name}, from 0 on the left to 1 on the right`}>
      <div className="colorbar-strip" style={{ backgroundImage: colormapGradientCss(name) }}>
        {threshold > 0 && <div className="colorbar-cut" style={{ width: `${threshold * 100}%` }} title="Below the threshold: transparent" />}
      </div>
      <div className="colorbar-scale" aria-hidden="true">
        <span>0</span>
        <span>0.5</span>
        <span>1</span>
      </div>
    </div>
  );
}

function PreprocessControls() {
  const defaults = useStore((s) => s.model.summary?.preprocess ?? null);
  const overrides = useStore((s) => s.preprocess);
  if (!defaults) return null;
  const normalization = overrides.normalization ?? defaults.normalization;
  const resize = overrides.resize ?? defaults.resize;
  const overridden = Boolean(overrides.normalization || overrides.resize);
  return (
    <fieldset className="control-group">
      <legend>Preprocessing</legend>
      <label>
        Normalisation
        <select value={normalization} onChange={(e) => void setPreprocess({ normalization: e.target.value as NormalizationPreset })}>
          {NORMALIZATIONS.map((n) => (
            <option key={n.value} value={n.value}>
              {n.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Resize
        <select value={resize} onChange={(e) => void setPreprocess({ resize: e.target.value as ResizeMode })}>
          {RESIZES.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
      </label>
      <p className="muted small">
        Default: {defaults.normalization}, {defaults.resize} — {defaults.source}
        {overridden && (
          <>
            {' '}
            <button
              type="button"
              className="link-button"
              onClick={() => void resetPreprocess()}
            >
              reset
            </button>
          </>
        )}
      </p>
    </fieldset>
  );
}
