/**
 * On a phone or tablet the target column is a sheet far below the maps (the top-5 sat ~1,750 px down
 * at 390×844): this strip above the panels shows the top class and its probability on the first
 * screen, and the full top-5 one tap away (a disclosure). Hidden on a wide window, where the target
 * column is beside the maps.
 */
import { useStore } from '../store/store';
import { useNarrowLayout } from './useMediaQuery';

const TOP_K = 5;
const percent = (p: number) => `${(p * 100).toFixed(1)} %`;

export function CompactTarget() {
  const narrow = useNarrowLayout();
  const last = useStore((s) => s.explanation.last);
  if (!narrow || !last || last.predictions.length === 0) return null;
  const top = [...last.predictions].sort((a, b) => b.probability - a.probability).slice(0, TOP_K);
  const [first] = top;
  if (!first) return null;
  return (
    <details className="compact-target" data-testid="compact-target">
      <summary>
        <span className="compact-target-label">{first.label}</span> <span className="num">{percent(first.probability)}</span>
        <span className="muted small"> · top-{top.length}</span>
      </summary>
      <ol className="compact-target-list" aria-label="Top predictions">
        {top.map((p) => (
          <li key={p.index}>
            <span>{p.label}</span> <span className="num muted">{percent(p.probability)}</span>
          </li>
        ))}
      </ol>
    </details>
  );
}
