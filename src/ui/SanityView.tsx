/**
 * The randomisation sanity check's result: each method's verdict with the rule it follows, a strip of
 * maps per step (scrolling in its own box), the similarity per step as plots and as a table whose step
 * column is the layer's short name (the full paths in a tooltip).
 */
import { useEffect, useRef } from 'react';
import { methodLabel, type MethodId } from '../shared/methods';
import { describeSanityRule, type SanityVerdict } from '../shared/sanity-verdict';
import type { PanelImage } from '../protocol';
import { useStore } from '../store/store';
import { Plot, SERIES_COLOURS, type PlotSeries } from './Plot';

const f3 = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v.toFixed(3) : '—');

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

const VERDICT_TEXT: Record<SanityVerdict, (method: string) => string> = {
  pass: (m) => `✓ ${m} passes: its map changes once the top block is randomised.`,
  fail: (m) => `⚠ ${m} fails: its map survives randomising half of the layers, so it does not depend on what the model learned (it acts like an edge detector).`,
  inconclusive: (m) => `? ${m} is inconclusive: its map changes only after the top block is randomised.`,
};

export function SanityView() {
  const sanity = useStore((s) => s.metrics.sanity);
  if (!sanity) return null;
  const methods = Object.keys(sanity.methods) as MethodId[];
  const x = sanity.steps.map((_, i) => i);
  const stepLabel = (i: number) => (i === 0 ? 'original' : `${sanity.steps[i]?.randomised.length ?? 0} random`);
  const series = (key: 'spearman' | 'ssim'): PlotSeries[] =>
    methods.map((id, i) => ({ label: methodLabel(id), values: sanity.methods[id]?.[key] ?? [], colour: SERIES_COLOURS[i % SERIES_COLOURS.length] ?? 'currentColor' }));
  return (
    <div className="sanity-result" data-testid="sanity-result">
      <p className="muted small">
        {sanity.mode === 'cascading' ? 'Weights randomised from the head down, one more group of layers each step' : 'One group of layers randomised at a time'} (on a
        copy; your model is unchanged). Class <strong>{sanity.classLabel}</strong>.
      </p>
      <p className="small sanity-rule" data-testid="sanity-rule">Rule: {describeSanityRule(sanity.rule)}</p>
      <ul className="sanity-flags">
        {methods.map((id) => {
          const verdict = sanity.methods[id]?.verdict ?? 'inconclusive';
          return (
            <li key={id} data-testid={`sanity-verdict-${id}`} data-verdict={verdict} data-flagged={verdict === 'fail'}>
              <span className={verdict === 'pass' ? 'pass' : 'flag'} data-testid={verdict === 'fail' ? `sanity-flag-${id}` : undefined}>
                {VERDICT_TEXT[verdict](methodLabel(id))}
              </span>
            </li>
          );
        })}
      </ul>
      <div className="strip" data-testid="sanity-strip" tabIndex={0} role="region" aria-label="Maps at each randomisation step">
        {methods.map((id) => (
          <div className="strip-row" key={id} role="group" aria-label={`${methodLabel(id)} at each step`}>
            <span className="strip-label">{methodLabel(id)}</span>
            {(sanity.strip[id] ?? []).map((image, i) => (
              <figure key={i} className="strip-cell">
                <StripImage image={image} label={`${methodLabel(id)}, ${sanity.steps[i]?.label ?? ''}`} />
                <figcaption className="small muted" title={sanity.steps[i]?.randomised.join('\n')}>
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
          <caption className="small">Spearman ρ of |map| / SSIM with the original map</caption>
          <thead>
            <tr>
              <th scope="col">step</th>
              <th scope="col">random</th>
              {methods.map((id) => (
                <th scope="col" key={id}>{methodLabel(id)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {sanity.steps.map((step, i) => (
              <tr key={i} className={sanity.rule.topBlock.steps.includes(i) || (sanity.rule.mode === 'cascading' && i === sanity.rule.halfStep) ? 'rule-step' : undefined}>
                <th scope="row" className="step-label" title={step.randomised.join('\n') || 'the learned weights'}>
                  {i === 0 ? 'original' : `${i}. ${step.label}`}
                </th>
                <td className="num">{step.randomised.length}</td>
                {methods.map((id) => (
                  <td key={id} className="num">
                    {f3(sanity.methods[id]?.spearman[i])} / {f3(sanity.methods[id]?.ssim[i])}
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
