/**
 * The README's table of bad inputs, made from the e2e table itself (e2e/bad-inputs.ts), so that the
 * two cannot drift apart: `npm run docs:bad-inputs` rewrites the README between its markers, and
 * scripts/bad-input-table.test.ts fails when the README's copy is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BAD_INPUT_CASES, type BadInputCase } from '../e2e/bad-inputs';

export const TABLE_START = '<!-- bad-inputs:start (made by npm run docs:bad-inputs) -->';
export const TABLE_END = '<!-- bad-inputs:end -->';

/** A message pattern read as text: escapes dropped, groups and wildcards shown as "…" or "N". */
export function patternText(pattern: RegExp): string {
  return pattern.source
    .replace(/^\^|\$$/g, '')
    .replace(/\(\\d\+\)|\\d\+|\\d/g, 'N')
    .replace(/\[\^"\][*+]/g, '…')
    .replace(/…+/g, '…')
    .replace(/\(\.\+\)|\.\+|\.\*/g, '…')
    .replace(/\(([^()|]*)\|[^()]*\)/g, '$1')
    .replace(/\\(.)/g, '$1')
    .replace(/\|/g, '\\|');
}

function effect(c: BadInputCase): string {
  if (c.keepsState) return 'refused; model, image and explanation kept';
  if (c.expectCode) return 'opened, with this warning';
  return 'opened';
}

export function badInputTable(cases: BadInputCase[] = BAD_INPUT_CASES): string {
  // Messages in code spans: some hold HTML on purpose (names that must be shown as text, never run).
  const rows = cases.map((c) => `| ${c.description.replace(/\|/g, '\\|')} | ${c.expectCode ? `\`${c.expectCode}\`` : '—'} | \`${patternText(c.expectText)}\` | ${effect(c)} |`);
  return ['| What you open | Code | Message (N: a number, …: a name) | What happens |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The README with the table between the markers replaced. */
export function withTable(readme: string, table = badInputTable()): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error('README.md has no bad-input table markers');
  return `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const path = resolve(process.cwd(), 'README.md');
  writeFileSync(path, withTable(readFileSync(path, 'utf8')));
  console.log(`README.md: bad-input table with ${BAD_INPUT_CASES.length} cases`);
}
