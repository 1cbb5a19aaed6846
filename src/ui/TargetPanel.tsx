/** Which class is explained: top-5 predictions, any label by typing, counterfactual toggle. */
import { useState, type FormEvent } from 'react';
import { setCounterfactual, setOutput, setTarget } from '../store/actions';
import { currentOutput, useStore } from '../store/store';
import type { HeadKind } from '../shared/types';

const TOP_K = 5;

function percent(p: number): string {
  return `${(p * 100).toFixed(1)}%`;
}

export function TargetPanel() {
  const summary = useStore((s) => s.model.summary);
  const last = useStore((s) => s.explanation.last);
  const target = useStore((s) => s.explanation.target);
  const counterfactual = useStore((s) => s.explanation.counterfactual);
  const chosenOutput = useStore((s) => s.explanation.output);
  const [typed, setTyped] = useState('');

  if (!summary) return <p className="muted">No model yet.</p>;
  const output = currentOutput(summary, chosenOutput);
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
      {summary.outputs.length > 1 && (
        <label className="output-chooser">
          <span>Output</span>
          <select data-testid="output-chooser" value={output.index} onChange={(e) => void setOutput(Number(e.target.value))}>
            {summary.outputs.map((o) => (
              <option key={o.index} value={o.index} disabled={!o.classification}>
                {`${o.name} [${o.shape.slice(1).join('×')}]${o.classification ? '' : ' (not classes)'}`}
              </option>
            ))}
          </select>
        </label>
      )}
      <HeadNote head={output.head} labels={output.labels} />
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
            placeholder={output.labels[0] ?? 'label'}
            onChange={(e) => setTyped(e.target.value)}
            autoComplete="off"
          />
          <button type="submit" disabled={!typed.trim()}>
            Explain
          </button>
        </div>
        <datalist id="class-labels">
          {output.labels.map((label, i) => (
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

/** What the probabilities mean for heads other than softmax. */
function HeadNote({ head, labels }: { head: HeadKind; labels: string[] }) {
  if (head === 'binary') {
    return (
      <p className="muted small" data-testid="head-note">
        One output unit: “{labels[0]}” is its logit, “{labels[1]}” its negation (p and 1 − p).
      </p>
    );
  }
  if (head === 'multi-label') {
    return (
      <p className="muted small" data-testid="head-note">
        Multi-label: each label has its own sigmoid probability; they need not add up to 100 %.
      </p>
    );
  }
  if (head === 'logits') {
    return (
      <p className="muted small" data-testid="head-note">
        The model outputs logits: probabilities shown are their softmax.
      </p>
    );
  }
  return null;
}
