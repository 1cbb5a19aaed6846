/**
 * Paths that came from outside (zip entry names, dropped folder paths) made safe to use as a path
 * inside a zip or a folder: no `..` or `.` segments, no absolute path, no drive letter, no control
 * characters, '/' separators. Used when zips are opened and when the gallery writes its zip.
 */

/** Control characters (C0, DEL, C1) are dropped: a NUL ends a name in C, a newline splits a listing. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export function sanitizeEntryName(name: string): string {
  const parts = name
    .replace(CONTROL, '')
    .replace(/\\/g, '/')
    .split('/')
    .map((part) => part.replace(/^[A-Za-z]:$/, '').trim())
    .filter((part) => part !== '' && part !== '.' && part !== '..');
  // A drive letter glued to a name ("C:foo") loses its colon.
  const first = parts[0];
  if (first !== undefined && /^[A-Za-z]:/.test(first)) parts[0] = first.slice(2) || 'file';
  return parts.join('/') || 'unnamed';
}

/**
 * `name`, or `name (2)`, `name (3)`… (before the extension) when `used` has it already; the name
 * returned is added to `used`. Case-insensitive, as on Windows and macOS file systems.
 */
export function uniqueEntryName(name: string, used: Set<string>): string {
  const dot = name.lastIndexOf('.');
  const slash = name.lastIndexOf('/');
  const [stem, ext] = dot > slash + 1 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  let candidate = name;
  for (let k = 2; used.has(candidate.toLowerCase()); k++) candidate = `${stem} (${k})${ext}`;
  used.add(candidate.toLowerCase());
  return candidate;
}

/**
 * The overlay's name in an export for the image at `path`: its sanitised path with its extension
 * kept, plus `.png` (as the batch command line writes them), so `a.png`, `a.jpg` and `a.webp` give
 * three files; a remaining clash (names differing only in case) gets a suffix.
 */
export function overlayEntryName(path: string, used: Set<string>): string {
  return uniqueEntryName(`overlays/${sanitizeEntryName(path)}.png`, used);
}
