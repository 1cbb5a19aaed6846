/** A label file with far more (or fewer) lines than the model has classes is said, not silently used. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { fromBytes } from '../files';
import { loadModel } from '../model';
import { buildTestModel, writeModelFiles } from '../../test-support/test-models';
import { labelCountNotice } from './labels';

describe('label count', () => {
  it('the notice: more, fewer, equal, binary', () => {
    expect(labelCountNotice(['a', 'b'], 2, 'softmax')).toBeNull();
    expect(labelCountNotice(undefined, 4, 'softmax')).toBeNull();
    expect(labelCountNotice(['a', 'b'], 1, 'binary')).toBeNull();
    expect(labelCountNotice(Array.from({ length: 10_000 }, (_, i) => `l${i}`), 4, 'softmax')?.message).toMatch(/names 10000 classes but the model has 4; the first 4 are used/);
    expect(labelCountNotice(['a'], 4, 'softmax')?.code).toBe('LABELS_COUNT_MISMATCH');
  });

  it('a 10,000-line labels.txt beside a 4-class model loads with LABELS_COUNT_MISMATCH among its warnings', async () => {
    await tf.setBackend('cpu');
    const dir = mkdtempSync(join(tmpdir(), 'gradcam-labels-'));
    try {
      const { model } = buildTestModel('e');
      const classes = (model.outputs[0]?.shape[1] as number | undefined) ?? 0;
      await writeModelFiles(model, dir);
      model.dispose();
      const labels = Array.from({ length: 10_000 }, (_, i) => `label ${i}`).join('\n');
      const loaded = await loadModel([
        fromBytes('model.json', new Uint8Array(readFileSync(join(dir, 'model.json')))),
        fromBytes('weights.bin', new Uint8Array(readFileSync(join(dir, 'weights.bin')))),
        fromBytes('labels.txt', new TextEncoder().encode(labels)),
      ]);
      try {
        expect(loaded.summary.labels).toHaveLength(classes);
        expect(loaded.summary.warnings.map((w) => w.code)).toContain('LABELS_COUNT_MISMATCH');
      } finally {
        loaded.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
