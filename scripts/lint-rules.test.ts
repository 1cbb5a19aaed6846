/**
 * The lint rules that hold the architecture fail when broken: a scratch import cycle and a scratch
 * store file importing tfjs are written to disk, linted with the repo's own config, and removed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');
const eslint = new ESLint({ cwd: ROOT });
const scratch: string[] = [];

function scratchDir(under: string): string {
  const dir = mkdtempSync(join(ROOT, under, 'lint-scratch-'));
  scratch.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('the architecture lint rules', () => {
  it('import-x/no-cycle fails on a cycle of two modules', async () => {
    const dir = scratchDir('src/shared');
    writeFileSync(join(dir, 'a.ts'), "import { b } from './b';\nexport const a = (): number => b() + 1;\n");
    writeFileSync(join(dir, 'b.ts'), "import { a } from './a';\nexport const b = (): number => (Math.random() > 2 ? a() : 0);\n");
    const [result] = await eslint.lintFiles([join(dir, 'a.ts')]);
    expect(result?.messages.map((m) => m.ruleId)).toContain('import-x/no-cycle');
  });

  it('the store may not import tfjs or the engine', async () => {
    const dir = scratchDir('src/store');
    writeFileSync(join(dir, 'uses-tf.ts'), "import * as tf from '@tensorflow/tfjs';\nexport const n = tf.memory().numTensors;\n");
    const [result] = await eslint.lintFiles([join(dir, 'uses-tf.ts')]);
    expect(result?.messages.map((m) => m.ruleId)).toContain('@typescript-eslint/no-restricted-imports');
  });
});
