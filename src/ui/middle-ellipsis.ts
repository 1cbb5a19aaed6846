/**
 * A layer name cut in the middle when its row is too narrow: the head may be ellipsised by CSS, the
 * tail always shows, as that is what tells rows apart (a graph model had sixteen rows reading
 * "expanded_co…", and block2_sepconv2_act / block2_sepconv2_bn both read "block2_sepconv2…").
 * Every name longer than a few characters is split; with room enough the two parts read as one.
 */

/** Names up to this long are never split. */
const WHOLE_UP_TO = 10;
/** The tail keeps at least this many characters… */
const MIN_TAIL = 6;
/** …and starts at a separator (_ / . : -) up to this many characters earlier, so it reads as a whole part. */
const REACH = 9;

/** [head, tail] of `name`; tail '' when the name is short. */
export function splitForMiddleEllipsis(name: string): [string, string] {
  if (name.length <= WHOLE_UP_TO) return [name, ''];
  let cut = name.length - MIN_TAIL;
  for (let i = cut; i >= cut - REACH && i > 0; i--) {
    if ('_/.:-'.includes(name.charAt(i - 1))) {
      cut = i;
      break;
    }
  }
  return [name.slice(0, cut), name.slice(cut)];
}
