/** "42 %, about 12 s left" for a long measurement: the time left extrapolated from the time so far. */

/** The time left in words, or null before there is enough to go on (under 2 % done or under a second spent). */
export function timeLeft(elapsedMs: number, fraction: number): string | null {
  if (!(fraction >= 0.02) || fraction >= 1 || elapsedMs < 1000) return null;
  const seconds = Math.round((elapsedMs * (1 - fraction)) / fraction / 1000);
  if (seconds < 60) return `about ${Math.max(1, seconds)} s left`;
  const minutes = Math.floor(seconds / 60);
  return `about ${minutes} min ${seconds % 60} s left`;
}

export function progressText(elapsedMs: number, fraction: number): string {
  const left = timeLeft(elapsedMs, fraction);
  return `${Math.floor(Math.min(1, Math.max(0, fraction)) * 100)} %${left ? `, ${left}` : ''}`;
}
