import { describe, expect, it } from 'vitest';
import { progressText, timeLeft } from './eta';

describe('timeLeft / progressText', () => {
  it('extrapolates the time so far', () => {
    expect(timeLeft(10_000, 0.25)).toBe('about 30 s left');
    expect(timeLeft(60_000, 0.5)).toBe('about 1 min 0 s left');
    expect(timeLeft(30_000, 0.2)).toBe('about 2 min 0 s left');
  });
  it('says nothing before there is enough to go on, or when done', () => {
    expect(timeLeft(500, 0.5)).toBeNull();
    expect(timeLeft(5000, 0.01)).toBeNull();
    expect(timeLeft(5000, 1)).toBeNull();
    expect(timeLeft(5000, Number.NaN)).toBeNull();
  });
  it('percentage first', () => {
    expect(progressText(10_000, 0.25)).toBe('25 %, about 30 s left');
    expect(progressText(100, 0.999)).toBe('99 %');
  });
});
