/**
 * Which methods the grid shows (several at once), whether it compares methods or layers, and each
 * chosen method's settings — all read from the method registry (src/shared/methods.ts), so a new
 * method appears here with no change to this file.
 */
import { methodUnavailableReason } from '../shared/attention';
import { METHOD_FAMILIES, METHODS, methodFamily, methodInfo, methodNeedsGradient, type MethodId, type MethodInfo, type MethodOptionSpec, type MethodOptionValue } from '../shared/methods';
import { setGrid, setMethodOption, setSmoothing, toggleMethod } from '../store/actions';
import { useStore } from '../store/store';

const COST_NOTE: Partial<Record<MethodInfo['cost'], string>> = {
  'forward-per-channel': 'one forward pass per channel',
  'downstream-per-channel': 'the layers after the target once per channel',
  'pass-per-sample': 'a pass per sample',
  'forward-per-sample': 'a forward pass per perturbed image',
  'backward-per-block': 'a backward pass per block',
};

/** Grouped by family (shared/methods.ts): layer methods with and without gradients, input gradients, perturbation, then the transformers' attention. */
const GROUPS: { title: string; hint: string; methods: MethodInfo[] }[] = METHOD_FAMILIES.map((f) => ({ title: f.title, hint: f.hint, methods: METHODS.filter((m) => methodFamily(m) === f.family) }));

export function MethodPicker() {
  const chosen = useStore((s) => s.explanation.methods);
  const grid = useStore((s) => s.explanation.grid);
  const smoothing = useStore((s) => s.explanation.smoothing);
  const options = useStore((s) => s.explanation.methodOptions);
  const tree = useStore((s) => s.model.summary?.tree);
  const anyCam = chosen.some((m) => methodInfo(m).camOptions);
  // A model with an op that has no gradient (probed at load): only the gradient-free methods can run.
  const gradients = useStore((s) => s.model.summary?.gradients);
  const noGradient = gradients && !gradients.supported ? `Disabled: this model has an op without a gradient (${gradients.op}); only the gradient-free methods can explain it.` : null;
  return (
    <fieldset className="control-group method-picker" data-testid="method-picker">
      <legend>Methods</legend>
      <div className="grid-mode" role="radiogroup" aria-label="Compare">
        <label title="One panel per chosen method, at the chosen layer">
          <input type="radio" name="grid-mode" checked={grid === 'methods'} onChange={() => void setGrid('methods')} /> Compare methods
        </label>
        <label title={`${methodInfo(chosen[0] ?? 'gradcam').label} at the chosen layer and the last layer of each other resolution`}>
          <input type="radio" name="grid-mode" checked={grid === 'layers'} onChange={() => void setGrid('layers')} /> Compare layers
        </label>
      </div>
      {GROUPS.map((group) => (
        <div className="method-group" key={group.title} role="group" aria-label={group.title}>
          <div className="muted small" title={group.hint}>{group.title}</div>
          {group.methods.map((m) => {
            const on = chosen.includes(m.id);
            const cost = COST_NOTE[m.cost];
            const blocked = noGradient !== null && methodNeedsGradient(m.id);
            // Not for this model at all (the attention methods on a CNN): unchecked and disabled, with the reason.
            const unavailable = methodUnavailableReason(m.id, tree);
            return (
              <label key={m.id} className="method-choice" title={unavailable ?? `${blocked ? `${noGradient}
` : ''}${m.hint}${cost ? ` (${cost})` : ''}
${m.reference}`}>
                <input
                  type="checkbox"
                  checked={on && !unavailable}
                  // A blocked method that is chosen can still be unchosen.
                  disabled={(on && chosen.length === 1) || (blocked && !on) || unavailable !== null}
                  data-gradient-blocked={blocked || undefined}
                  data-method={m.id}
                  onChange={(e) => void toggleMethod(m.id, e.target.checked)}
                />{' '}
                {m.label}
                {cost && <span className="slow-tag">slow</span>}
              </label>
            );
          })}
        </div>
      ))}
      {noGradient && <p className="muted small" data-testid="gradient-note">{noGradient}</p>}
      {grid === 'layers' && chosen.length > 1 && <p className="muted small">The layers grid shows {methodInfo(chosen[0]!).label}, the first method chosen.</p>}
      {anyCam && (
        <div className="method-group" role="group" aria-label="CAM smoothing">
          <label title="Replace the channel sum by the first principal component of the weighted activations (less noise)">
            <input type="checkbox" checked={smoothing.eigenSmooth} onChange={(e) => void setSmoothing({ eigenSmooth: e.target.checked })} /> Eigen-smooth
          </label>
          <label title="Average with the map of the horizontally flipped image (test-time augmentation)">
            <input type="checkbox" checked={smoothing.augSmooth} onChange={(e) => void setSmoothing({ augSmooth: e.target.checked })} /> Flip-smooth
          </label>
        </div>
      )}
      {chosen
        .filter((m) => methodInfo(m).options.length > 0)
        .map((m) => (
          <div className="method-options" key={m} role="group" aria-label={`${methodInfo(m).label} settings`}>
            <div className="muted small">{methodInfo(m).label}</div>
            {methodInfo(m).options.map((spec) => (
              <OptionInput key={spec.name} method={m} spec={spec} value={options[m]?.[spec.name]} />
            ))}
          </div>
        ))}
    </fieldset>
  );
}

function OptionInput({ method, spec, value }: { method: MethodId; spec: MethodOptionSpec; value: MethodOptionValue | undefined }) {
  const label = `${methodInfo(method).label} ${spec.label.toLowerCase()}`;
  if (spec.type === 'choice') {
    return (
      <label title={spec.hint}>
        {spec.label}{' '}
        <select aria-label={label} value={String(value ?? spec.default)} onChange={(e) => void setMethodOption(method, spec.name, e.target.value)}>
          {spec.choices.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </select>
      </label>
    );
  }
  return (
    <label title={spec.hint}>
      {spec.label}{' '}
      <input
        type="number"
        aria-label={label}
        min={spec.min}
        max={spec.max}
        step={spec.type === 'integer' ? 1 : 0.01}
        defaultValue={Number(value ?? spec.default)}
        // Applied when the person leaves the field or presses Enter, not at every keystroke.
        onBlur={(e) => commitNumber(method, spec, e.target.value)}
        onKeyDown={(e) => e.key === 'Enter' && commitNumber(method, spec, (e.target as HTMLInputElement).value)}
      />
    </label>
  );
}

function commitNumber(method: MethodId, spec: MethodOptionSpec, text: string): void {
  if (spec.type === 'choice') return;
  const n = Number(text);
  if (!Number.isFinite(n)) return;
  const clamped = Math.min(spec.max, Math.max(spec.min, spec.type === 'integer' ? Math.round(n) : n));
  void setMethodOption(method, spec.name, clamped);
}
