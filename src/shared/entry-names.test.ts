import { describe, expect, it } from 'vitest';
import { overlayEntryName, sanitizeEntryName, uniqueEntryName } from './entry-names';

describe('entry names', () => {
  it('sanitised: no .., absolute paths, drive letters or control characters', () => {
    expect(sanitizeEntryName('../../etc/passwd')).toBe('etc/passwd');
    expect(sanitizeEntryName('/abs/root.png')).toBe('abs/root.png');
    expect(sanitizeEntryName('C:/Windows/x.png')).toBe('Windows/x.png');
    expect(sanitizeEntryName('C:\\Windows\\x.png')).toBe('Windows/x.png');
    expect(sanitizeEntryName('C:x.png')).toBe('x.png');
    expect(sanitizeEntryName('a\u0000b\nc\u007f.png')).toBe('abc.png');
    expect(sanitizeEntryName('cats/./a.png')).toBe('cats/a.png');
    expect(sanitizeEntryName('../..')).toBe('unnamed');
  });

  it('unique: a suffix before the extension, case-insensitive', () => {
    const used = new Set<string>();
    expect(['a.png', 'A.png', 'a.png', 'dir.v2/b'].map((n) => uniqueEntryName(n, used))).toEqual(['a.png', 'A (2).png', 'a (3).png', 'dir.v2/b']);
  });

  it('same-stem images get distinct overlays (the extension is kept)', () => {
    const used = new Set<string>();
    const names = ['cats/a.png', 'cats/a.jpg', 'cats/a.webp', '/abs/root.png', 'C:/x.png'].map((p) => overlayEntryName(p, used));
    expect(names).toEqual(['overlays/cats/a.png.png', 'overlays/cats/a.jpg.png', 'overlays/cats/a.webp.png', 'overlays/abs/root.png.png', 'overlays/x.png.png']);
  });
});
