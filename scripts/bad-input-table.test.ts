/** The README's bad-input table is the e2e table (scripts/bad-input-table.ts): a new case must appear there. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { badInputTable, patternText, withTable } from './bad-input-table';
import { BAD_INPUT_CASES } from '../e2e/bad-inputs';

describe('the README bad-input table', () => {
  it('reads patterns as text', () => {
    expect(patternText(/Weight file "weights\.bin" is missing/)).toBe('Weight file "weights.bin" is missing');
    expect(patternText(/"weights\.bin" has (\d+) bytes but the manifest says (\d+)/)).toBe('"weights.bin" has N bytes but the manifest says N');
    expect(patternText(/Layer "[^"]*relu[^"]*" uses class Lambda/)).toBe('Layer "…relu…" uses class Lambda');
    expect(patternText(/Layer "[^"]+" has strides/)).toBe('Layer "…" has strides');
  });

  it('is up to date with e2e/bad-inputs.ts (run npm run docs:bad-inputs after adding a case)', () => {
    const readme = readFileSync(resolve(process.cwd(), 'README.md'), 'utf8');
    expect(withTable(readme)).toBe(readme);
    const table = badInputTable();
    for (const c of BAD_INPUT_CASES) expect(table).toContain(c.description.replace(/\|/g, '\\|'));
  });
});
