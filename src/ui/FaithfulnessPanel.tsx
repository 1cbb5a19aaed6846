/**
 * "Can I trust this map?": the faithfulness scores of the maps on screen beside two reference maps
 * (deletion / insertion curves and their areas, ROAD, the image × map confidence change), and the
 * randomisation sanity check (a strip of maps per step, the similarity per step, a flag on the
 * methods whose map survives randomisation). Every plotted value is also in a table.
 */
import { useEffect, useRef, useState } from 'react';
import { methodLabel, type MethodId } from '../shared/methods';
import { REFERENCE_LABELS, type MapFaithfulness, type ReferenceMapId } from '../shared/metrics';
import { readFaithfulness } from '../shared/faithfulness-reading';
import { cancelMetrics, measureFaithfulness, runSanityCheck, setExportExtras, setMetricsSettings } from '../store/actions';
import { useStore } from '../store/store';
import { Plot, plotPictures, REFERENCE_COLOURS, SERIES_COLOURS, type PlotSeries } from './Plot';
import { SanityView } from './SanityView';
import { progressText } from './eta';

const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '—');
const signed = (v: number) => (v >= 0 ? '+' : '') + f3(v);

interface Row {
  key: string;
  label: string;
  scores: MapFaithfulness;
  colour: string;
  reference: boolean;
}

function useRows(): Row[] {
  const result = useStore((s) => s.metrics.faithfulness);
  if (!result) return [];
  const methods = (Object.entries(result.methods) as Array<[MethodId, MapFaithfulness]>).map(([id, scores], i) => ({
    key: id, label: methodLabel(id), scores, colour: SERIES_COLOURS[i % SERIES_COLOURS.length]!, reference: false,
  }));
  const references = (Object.entries(result.references) as Array<[ReferenceMapId, MapFaithfulness]>).map(([id, scores], i) => ({
    key: `reference-${id}`, label: REFERENCE_LABELS[id], scores, colour: REFERENCE_COLOURS[i % REFERENCE_COLOURS.length]!, reference: true,
  }));
  return [...methods, ...references];
}

export function FaithfulnessPanel() {
  const metrics = useStore((s) => s.metrics);
  const hasExplanation = useStore((s) => s.explanation.last !== null);
  const grid = useStore((s) => s.explanation.grid);
  const rows = useRows();
  const shown = rows.length > 0 || metrics.sanity !== null;

  // While plots are on screen they go into the exported PNG.
  useEffect(() => {
    setExportExtras(shown ? plotPictures : null);
    return () => setExportExtras(null);
  }, [shown]);

  const disabled = !hasExplanation || grid !== 'methods';
  return (
    <section className="faithfulness" aria-label="Faithfulness" data-testid="faithfulness-panel">
      <h2>Can I trust this map?</h2>
      <div className="faithfulness-controls">
        <label>
          Steps{' '}
          <input
            type="number" min={2} max={100} value={metrics.steps} aria-label="Curve steps"
            onChange={(e) => setMetricsSettings({ steps: Number(e.target.value) })}
          />
        </label>
        <label>
          Baseline{' '}
          <select value={metrics.baseline} aria-label="Removed pixels become" onChange={(e) => setMetricsSettings({ baseline: e.target.value as 'blur' | 'mean' })}>
            <option value="blur">blurred image</option>
            <option value="mean">mean colour</option>
          </select>
        </label>
        <button type="button" data-testid="measure-faithfulness" disabled={disabled} onClick={() => void measureFaithfulness()}
          title="Deletion and insertion curves, ROAD and the confidence change of every map on screen, with a random and a centre-Gaussian map for reference (each curve point is a forward pass)">
          Measure faithfulness
        </button>
        <label>
          Randomise{' '}
          <select value={metrics.sanityMode} aria-label="Sanity check mode" onChange={(e) => setMetricsSettings({ sanityMode: e.target.value as 'cascading' | 'independent' })}>
            <option value="cascading">from the head down (cascading)</option>
            <option value="independent">one layer at a time</option>
          </select>
        </label>
        <button type="button" data-testid="run-sanity" disabled={disabled} onClick={() => void runSanityCheck()}
          title="Re-explain with the weights randomised layer by layer (on a copy): a map that does not change does not depend on what the model learned">
          Sanity check
        </button>
        <MetricsProgress />
        {grid !== 'methods' && <span className="muted small">Choose “Compare methods” to measure.</span>}
      </div>
      {rows.length > 0 && <FaithfulnessScores rows={rows} />}
      {metrics.sanity && <SanityView />}
    </section>
  );
}

const RUN_NAMES = { faithfulness: 'Faithfulness', sanity: 'Sanity check' } as const;

/** The measurement in flight: percentage, time left (from the time so far) and Cancel; after a Cancel, a line saying so. */
function MetricsProgress() {
  const running = useStore((s) => s.metrics.running);
  const fraction = useStore((s) => s.metrics.progress ?? 0);
  const started = useRef<{ kind: string; at: number } | null>(null);
  const [cancelled, setCancelled] = useState<string | null>(null);
  const [, setTick] = useState(0);
  if (running && started.current?.kind !== running) started.current = { kind: running, at: performance.now() };
  if (!running) started.current = null;
  useEffect(() => {
    if (!running) return;
    setCancelled(null);
    // Re-read the clock each second so the time left moves between progress events.
    const timer = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(timer);
  }, [running]);
  if (!running) {
    return cancelled ? <span className="small muted" role="status" data-testid="metrics-cancelled">{cancelled}</span> : null;
  }
  const elapsed = started.current ? performance.now() - started.current.at : 0;
  const text = progressText(elapsed, fraction);
  return (
    <span className="metrics-progress" role="status" data-testid="metrics-progress">
      <progress max={1} value={fraction} aria-label={`${RUN_NAMES[running]} progress`} />
      <span className="num small">{text}</span>
      <button
        type="button"
        onClick={() => {
          setCancelled(`${RUN_NAMES[running]} cancelled at ${Math.floor(fraction * 100)} %; the results on screen are from the last complete run.`);
          cancelMetrics();
        }}
      >
        Cancel
      </button>
    </span>
  );
}

function FaithfulnessScores({ rows }: { rows: Row[] }) {
  const result = useStore((s) => s.metrics.faithfulness)!;
  const x = rows[0]!.scores.deletion.x.map((v) => v * 100);
  const series = (pick: (s: MapFaithfulness) => number[]): PlotSeries[] => rows.map((r) => ({ label: r.label, values: pick(r.scores), colour: r.colour, dashed: r.reference }));
  const road = rows[0]!.scores.road.percents;
  return (
    <div className="faithfulness-result" data-testid="faithfulness-result">
      <p className="muted small">
        Class <strong>{result.classLabel}</strong> (p = {f3(result.probability)}); {result.settings.steps} steps, removed pixels become the{' '}
        {result.settings.baseline === 'blur' ? 'blurred image' : 'mean colour'}; {result.forwardPasses} forward passes.
      </p>
      <div className="curve-table" tabIndex={0} role="region" aria-label="Faithfulness scores">
      <table className="scores" data-testid="faithfulness-table">
        <caption className="muted small">Deletion: lower is better · insertion, ROAD, confidence change: higher is better</caption>
        <thead>
          <tr>
            <th scope="col">map</th>
            <th scope="col">deletion AUC ↓</th>
            <th scope="col">insertion AUC ↑</th>
            <th scope="col">ROAD ↑</th>
            <th scope="col">p(image × map) − p ↑</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-map={r.key} className={r.reference ? 'reference' : undefined}>
              <th scope="row">
                <span className="swatch" style={{ background: r.colour }} aria-hidden="true" /> {r.label}
              </th>
              <td className="num" data-score="deletion">{f3(r.scores.deletion.auc)}</td>
              <td className="num" data-score="insertion">{f3(r.scores.insertion.auc)}</td>
              <td className="num" data-score="road">{f3(r.scores.road.combined)}</td>
              <td className="num" data-score="confidence">{signed(r.scores.confidenceChange)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
      <ul className="faithfulness-readings" data-testid="faithfulness-readings">
        {(Object.entries(result.methods) as Array<[MethodId, MapFaithfulness]>).map(([id, scores]) => (
          <li key={id} data-method={id}>
            <strong>{methodLabel(id)}</strong>: {readFaithfulness(scores, result.references.random, result.references.centre).text}
          </li>
        ))}
      </ul>
      {result.caveats && result.caveats.length > 0 && (
        // A score of a map that ranks nothing would read as a verdict: say why it is not one.
        <ul className="faithfulness-caveats" role="note" data-testid="faithfulness-caveats">
          {result.caveats.map((c) => <li key={c.message} data-code={c.code}>⚠ {c.message}</li>)}
        </ul>
      )}
      <div className="plots">
        <Plot id="deletion" title="Deletion curve (most relevant pixels removed first)" x={x} xLabel="% removed" yLabel="p(class)" yRange={[0, 1]} series={series((s) => s.deletion.y)} />
        <Plot id="insertion" title="Insertion curve (most relevant pixels inserted first)" x={x} xLabel="% inserted" yLabel="p(class)" yRange={[0, 1]} series={series((s) => s.insertion.y)} />
      </div>
      <details className="curve-points">
        <summary>Curve points</summary>
        <CurveTable title="Deletion" x={x} rows={rows} pick={(s) => s.deletion.y} />
        <CurveTable title="Insertion" x={x} rows={rows} pick={(s) => s.insertion.y} />
        <CurveTable title="ROAD, most relevant first (MoRF)" x={road} rows={rows} pick={(s) => s.road.morf} />
        <CurveTable title="ROAD, least relevant first (LeRF)" x={road} rows={rows} pick={(s) => s.road.lerf} />
      </details>
    </div>
  );
}

function CurveTable({ title, x, rows, pick }: { title: string; x: number[]; rows: Row[]; pick: (s: MapFaithfulness) => number[] }) {
  return (
    <div className="curve-table" tabIndex={0} role="region" aria-label={`${title}: class probability per % of pixels`}>
      <table className="scores">
        <caption className="small">{title}: p(class) at each % of pixels</caption>
        <thead>
          <tr>
            <th scope="col">map</th>
            {x.map((v) => (
              <th scope="col" key={v}>{Math.round(v)} %</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key}>
              <th scope="row">{r.label}</th>
              {pick(r.scores).map((v, i) => (
                <td key={i} className="num">{f3(v)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
