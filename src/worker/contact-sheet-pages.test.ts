import { describe, expect, it } from 'vitest';
import { contactSheetPages } from './gallery';

describe('contact sheet pages', () => {
  it('10,000 images: pages of at most 8 × 64, in order, each image once', () => {
    const indices = Array.from({ length: 10_000 }, (_, i) => i);
    const pages = contactSheetPages(indices, 8, 64);
    expect(pages).toHaveLength(Math.ceil(10_000 / 512));
    expect(Math.max(...pages.map((p) => p.length))).toBe(512);
    expect(pages.flat()).toEqual(indices);
    expect(contactSheetPages([3, 1], 8, 64)).toEqual([[3, 1]]);
    expect(contactSheetPages([], 8, 64)).toEqual([[]]);
  });
});
