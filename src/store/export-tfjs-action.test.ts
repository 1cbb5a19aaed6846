/** The page side of "Export TF.js": the zip it downloads and its name (the worker side is tested in e2e/keras.spec.ts). */
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { tfjsZipName, zipExportedFiles } from './actions';
import { initialState } from './store';
import { nestedSummary } from './test-fixtures';

describe('Export TF.js zip', () => {
  it('holds the exported files byte for byte, weights stored uncompressed', () => {
    const weights = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256);
    const modelJson = new TextEncoder().encode(JSON.stringify({ format: 'layers-model', pad: 'x'.repeat(2000) }));
    const metadata = new TextEncoder().encode('{"labels":["a","b"]}');
    const zip = zipExportedFiles([
      { name: 'model.json', data: modelJson },
      { name: 'weights.bin', data: weights },
      { name: 'metadata.json', data: metadata },
    ]);
    const back = unzipSync(zip);
    expect(Object.keys(back).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);
    expect(back['weights.bin']).toEqual(weights);
    expect(back['model.json']).toEqual(modelJson);
    expect(back['metadata.json']).toEqual(metadata);
    // The JSON is deflated (smaller than stored), the weights are not: the zip is at least their size.
    expect(zip.byteLength).toBeGreaterThan(weights.byteLength);
    expect(zip.byteLength).toBeLessThan(weights.byteLength + modelJson.byteLength);
  });

  it('is named after the model, without its file extension and unsafe characters', () => {
    const state = initialState();
    expect(tfjsZipName(state)).toBe('model-tfjs.zip');
    state.model.summary = { ...nestedSummary(), name: 'fer2013 mini XCEPTION.102-0.66.hdf5' };
    expect(tfjsZipName(state)).toBe('fer2013_mini_XCEPTION.102-0.66-tfjs.zip');
    state.model.summary = { ...nestedSummary(), name: 'keras_model.h5' };
    expect(tfjsZipName(state)).toBe('keras_model-tfjs.zip');
  });
});
