/**
 * Which class a person means: the one rule for the app's class box, the engine and the CLI, so that
 * they cannot disagree. Accepts an index (a number, or digits typed as text) or a label — exact
 * first, then ignoring case and surrounding spaces. A label that is itself digits ("3") wins over
 * the index 3 only when it matches exactly.
 */
export function resolveClass(query: number | string, labels: readonly string[]): number | null {
  if (typeof query === 'number') return Number.isInteger(query) && query >= 0 && query < labels.length ? query : null;
  const text = query.trim();
  if (!text) return null;
  const exact = labels.indexOf(text);
  if (exact >= 0) return exact;
  const untrimmed = labels.indexOf(query);
  if (untrimmed >= 0) return untrimmed;
  const lower = text.toLowerCase();
  const loose = labels.findIndex((l) => l.trim().toLowerCase() === lower);
  if (loose >= 0) return loose;
  if (/^\d+$/.test(text)) {
    const i = Number(text);
    return i < labels.length ? i : null;
  }
  return null;
}
