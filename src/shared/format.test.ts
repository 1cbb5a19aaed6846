import { describe, expect, it } from 'vitest';
import { formatBytes } from './format';

describe('formatBytes', () => {
  it('bytes, KB, MB and GB as people read them', () => {
    expect([69, 49_600, 1_550_000, 256 * 1024 ** 2, 120_000_000_000].map(formatBytes)).toEqual(['69 bytes', '48 KB', '1.5 MB', '256 MB', '111.8 GB']);
  });
});
