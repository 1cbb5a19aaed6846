/**
 * "Can I trust this map?": the faithfulness scores of the maps on screen beside two reference maps
 * (deletion / insertion curves and their areas, ROAD, the image × map confidence change), and the
 * randomisation sanity check (a strip of maps per step, the similarity per step, a flag on the
 * methods whose map survives randomisation). Every plotted value is also in a table.
 */
import { useEffect, useRef } from 'react';
import { methodLabel, type MethodId } from '../shared/methods';
import { REFERENCE_LABELS, SANITY_FLAG_RHO, type MapFaithfulness, type ReferenceMapId } from '../shared/metrics';
import type { PanelImage } from '../protocol';
import { cancelMetrics, measureFaithfulness, runSanityCheck, setExportExtras, setMetricsSettings } from '../store/actions';
import { useStore } from '../store/store';
import { Plot, plotPictures, REFERENCE_COLOURS, SERIES_COLOURS, type PlotSeries } from './Plot';

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

  const running = metrics.running;
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
        {running && (
          <span className="metrics-progress" role="status">
            <progress max={1} value={metrics.progress ?? 0} aria-label={running === 'faithfulness' ? 'Faithfulness progress' : 'Sanity check progress'} />
            <button type="button" onClick={cancelMetrics}>Cancel</button>
          </span>
        )}
        {grid !== 'methods' && <span className="muted small">Choose “Compare methods” to measure.</span>}
      </div>
      {rows.length > 0 && <FaithfulnessScores rows={rows} />}
      {metrics.sanity && <SanityView />}
    </section>
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
              <td data-score="deletion">{f3(r.scores.deletion.auc)}</td>
              <td data-score="insertion">{f3(r.scores.insertion.auc)}</td>
              <td data-score="road">{f3(r.scores.road.combined)}</td>
              <td data-score="confidence">{signed(r.scores.confidenceChange)}</td>
            </tr>
          ))}
        </tbody>
      </table>
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
                <td key={i}>{f3(v)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function StripImage({ image, label }: { image: PanelImage; label: string }) {
  const ref = useRef<HTMLCanvasElement | null>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    canvas.width = image.width;
    canvas.height = image.height;
    canvas.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
  }, [image]);
  return <canvas ref={ref} className="strip-image" role="img" aria-label={label} title={label} />;
}

function SanityView() {
  const sanity = useStore((s) => s.metrics.sanity)!;
  const methods = Object.keys(sanity.methods) as MethodId[];
  const x = sanity.steps.map((_, i) => i);
  const stepLabel = (i: number) => (i === 0 ? 'original' : `${sanity.steps[i]!.randomised.length} random`);
  const series = (key: 'spearman' | 'ssim'): PlotSeries[] =>
    methods.map((id, i) => ({ label: methodLabel(id), values: sanity.methods[id]![key], colour: SERIES_COLOURS[i % SERIES_COLOURS.length]! }));
  return (
    <div className="sanity-result" data-testid="sanity-result">
      <p className="muted small">
        {sanity.mode === 'cascading' ? 'Weights randomised from the head down, one more layer each step' : 'One layer randomised at a time'} (on a copy; your
        model is unchanged). Class <strong>{sanity.classLabel}</strong>. A method is flagged when its rank correlation with the original map stays ≥ {SANITY_FLAG_RHO}{' '}
        {sanity.mode === 'cascading' ? 'once half of the layers are random' : 'on average'}.
      </p>
      <ul className="sanity-flags">
        {methods.map((id) => (
          <li key={id} data-testid={`sanity-verdict-${id}`} data-flagged={sanity.methods[id]!.flagged}>
            {sanity.methods[id]!.flagged ? (
              <span className="flag" data-testid={`sanity-flag-${id}`}>
                ⚠ {methodLabel(id)} survives randomisation: its map does not depend on what the model learned (it acts like an edge detector).
              </span>
            ) : (
              <span className="pass">✓ {methodLabel(id)} changes when the weights are randomised.</span>
            )}
          </li>
        ))}
      </ul>
      <div className="strip" data-testid="sanity-strip">
        {methods.map((id) => (
          <div className="strip-row" key={id} role="group" aria-label={`${methodLabel(id)} at each step`}>
            <span className="strip-label">{methodLabel(id)}</span>
            {(sanity.strip[id] ?? []).map((image, i) => (
              <figure key={i} className="strip-cell">
                <StripImage image={image} label={`${methodLabel(id)}, ${sanity.steps[i]?.label ?? ''}`} />
                <figcaption className="small muted" title={sanity.steps[i]?.label}>
                  {stepLabel(i)}
                </figcaption>
              </figure>
            ))}
          </div>
        ))}
      </div>
      <div className="plots">
        <Plot id="sanity-spearman" title="Rank correlation with the original map, per randomisation step" x={x} xLabel="step" yLabel="Spearman ρ" yRange={[-1, 1]} series={series('spearman')} />
        <Plot id="sanity-ssim" title="SSIM with the original map, per randomisation step" x={x} xLabel="step" yLabel="SSIM" yRange={[-0.2, 1]} series={series('ssim')} />
      </div>
      <div className="curve-table" tabIndex={0} role="region" aria-label="Similarity with the original map per step">
        <table className="scores" data-testid="sanity-table">
          <caption className="small">Spearman ρ / SSIM with the original map</caption>
          <thead>
            <tr>
              <th scope="col">step (layers randomised)</th>
              {methods.map((id) => (
                <th scope="col" key={id}>{methodLabel(id)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {sanity.steps.map((step, i) => (
              <tr key={i}>
                <th scope="row" title={step.randomised.join('\n')}>{i === 0 ? 'original' : `${step.label} (${step.randomised.length})`}</th>
                {methods.map((id) => (
                  <td key={id}>
                    {f3(sanity.methods[id]!.spearman[i]!)} / {f3(sanity.methods[id]!.ssim[i]!)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
