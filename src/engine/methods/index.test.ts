/**
 * The engine's registry and the shared one list the same methods: a METHODS entry without an
 * implementation (or an implementation without an entry) fails here.
 */
import { describe, expect, it } from 'vitest';
import { METHODS, METHOD_IDS } from '../../shared/methods';
import { METHOD_IMPLEMENTATIONS } from './index';

describe('method registry', () => {
  it('has an implementation for every shared entry, and an entry for every implementation', () => {
    const implemented = Object.keys(METHOD_IMPLEMENTATIONS).sort();
    const missing = METHOD_IDS.filter((id) => !(id in METHOD_IMPLEMENTATIONS));
    const unlisted = implemented.filter((id) => !METHOD_IDS.includes(id as never));
    expect(missing, 'METHODS entries without an engine implementation (src/engine/methods/index.ts)').toEqual([]);
    expect(unlisted, 'implementations without a METHODS entry (src/shared/methods.ts)').toEqual([]);
    expect(implemented).toEqual([...METHOD_IDS].sort());
  });

  it("maps each id to the implementation of that id, with a run function", () => {
    for (const info of METHODS) {
      const implementation = METHOD_IMPLEMENTATIONS[info.id];
      expect(implementation.id, info.id).toBe(info.id);
      expect(typeof implementation.run, info.id).toBe('function');
    }
  });
});
