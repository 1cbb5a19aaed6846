/**
 * What an exported picture's file name starts with, so that it says what is shown: one method → its
 * id (`gradcam-…`), several → `methods-<ids>-…`, the layers grid → `layers-<method>-…`. Before, every
 * export was `gradcam-….png`, even with six methods on screen.
 */
import type { MethodId } from './methods';

const MAX_SUBJECT = 32;

export function exportSubject(grid: 'methods' | 'layers', methods: readonly MethodId[]): string {
  const first = methods[0] ?? 'gradcam';
  if (grid === 'layers') return `layers-${first}`;
  if (methods.length <= 1) return first;
  // The ids while they are short (a file name stays under 160 characters with the model and layer parts), else their count.
  const named = `methods-${methods.join('+')}`;
  return named.length <= MAX_SUBJECT ? named : `methods-${methods.length}`;
}
