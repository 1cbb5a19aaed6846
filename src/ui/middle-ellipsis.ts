/**
 * A long layer name cut in the middle: the head may be ellipsised by CSS, the tail always shows, as
 * that is what tells rows apart (a graph model had sixteen rows reading "expanded_co…" that differed
 * only at the end).
 */

/** How many characters the tail keeps (a name no longer than twice this is not split). */
export const TAIL_CHARS = 12;

/** [head, tail]: the tail is the last TAIL_CHARS characters, moved to start at a separator (_ / . : -) when one is near. */
export function splitForMiddleEllipsis(name: string, tailChars = TAIL_CHARS): [string, string] {
  if (name.length <= tailChars * 2) return [name, ''];
  let cut = name.length - tailChars;
  // Start the tail at a word boundary up to 4 characters earlier, so it reads as a whole part.
  for (let i = cut; i >= cut - 4 && i > 0; i--) {
    if ('_/.:-'.includes(name.charAt(i - 1))) {
      cut = i;
      break;
    }
  }
  return [name.slice(0, cut), name.slice(cut)];
}
