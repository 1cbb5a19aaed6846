import { describe, expect, it } from 'vitest';
import { exportSubject } from './export-names';

describe('exportSubject', () => {
  it('one method → its id; several → methods-…; the layers grid → layers-<method>', () => {
    expect(exportSubject('methods', ['layercam'])).toBe('layercam');
    expect(exportSubject('methods', ['gradcam', 'guided-backprop'])).toBe('methods-gradcam+guided-backprop');
    expect(exportSubject('layers', ['scorecam', 'gradcam'])).toBe('layers-scorecam');
    expect(exportSubject('methods', ['gradcam', 'gradcam-plus-plus', 'layercam', 'scorecam', 'guided-backprop', 'integrated-gradients'])).toBe('methods-6');
  });
});
