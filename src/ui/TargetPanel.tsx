/** Which class is explained: top-5 predictions, any label by typing, counterfactual toggle. */
import { useState, type FormEvent } from 'react';
import { setCounterfactual, setTarget } from '../store/actions';
import { useStore } from '../store/store';

const TOP_K = 5;

function percent(p: number): string {
  return `${(p * 100).toFixed(1)}%`;
}

export function TargetPanel() {
  const summary = useStore((s) => s.model.summary);
  const last = useStore((s) => s.explanation.last);
  const target = useStore((s) => s.explanation.target);
  const counterfactual = useStore((s) => s.explanation.counterfactual);
  const [typed, setTyped] = useState('');

  if (!summary) return <p className="muted">No model yet.</p>;
  const predictions = last ? [...last.predictions].sort((a, b) => b.probability - a.probability).slice(0, TOP_K) : [];
  const explainedIndex = last?.classIndex ?? null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void setTarget(typed).then((outcome) => {
      if (outcome === 'ok') setTyped('');
    });
  };

  return (
    <div className="target-panel">
      {last && (
        <p className="explained-class" data-testid="explained-class">
          Explaining <strong>{last.classLabel}</strong> <span className="muted">#{last.classIndex}</span>
          {last.counterfactual && <span className="badge">counterfactual</span>}
          <br />
          <span className="muted small">
            score {last.score.toFixed(3)} · p = {percent(last.probability)}
            {target === null ? ' · top-1' : ''}
          </span>
        </p>
      )}
      <ol className="predictions" aria-label="Top predictions">
        {predictions.map((p) => (
          <li key={p.index}>
            <button
              type="button"
              className={p.index === explainedIndex ? 'prediction active' : 'prediction'}
              aria-pressed={p.index === explainedIndex}
              data-class-index={p.index}
              onClick={() => void setTarget(p.index)}
              title={`Explain ${p.label} (logit ${p.logit.toFixed(3)})`}
            >
              <span className="prediction-label">{p.label}</span>
              <span className="prediction-value">{percent(p.probability)}</span>
              <span className="bar" aria-hidden="true">
                <span style={{ width: `${Math.max(0, Math.min(1, p.probability)) * 100}%` }} />
              </span>
            </button>
          </li>
        ))}
      </ol>
      {target !== null && (
        <button type="button" className="link-button" onClick={() => void setTarget(null)}>
          Back to the top-1 class
        </button>
      )}
      <form className="class-form" onSubmit={submit}>
        <label htmlFor="class-input">Any class (label or index)</label>
        <div className="row">
          <input
            id="class-input"
            list="class-labels"
            value={typed}
            placeholder={summary.labels[0] ?? 'label'}
            onChange={(e) => setTyped(e.target.value)}
            autoComplete="off"
          />
          <button type="submit" disabled={!typed.trim()}>
            Explain
          </button>
        </div>
        <datalist id="class-labels">
          {summary.labels.map((label, i) => (
            <option key={i} value={label}>
              {`#${i}`}
            </option>
          ))}
        </datalist>
        {!summary.labelsFromFile && <p className="muted small">No label file: classes are numbered.</p>}
      </form>
      <label className="toggle">
        <input type="checkbox" checked={counterfactual} onChange={(e) => void setCounterfactual(e.target.checked)} />
        <span>
          Counterfactual (what speaks <em>against</em> this class)
        </span>
      </label>
    </div>
  );
}
