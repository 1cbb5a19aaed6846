/** The shared method registry: well-formed entries, option resolution and caption text. */
import { describe, expect, it } from 'vitest';
import {
  CLASSIC_METHODS, METHOD_FAMILIES, METHODS, methodFamily, methodNeedsGradient, methodsForModel, METHOD_IDS, isMethodId, methodInfo, methodLabel, methodOptionProblems, methodSettingsText, resolveMethodOptions,
} from './methods';

describe('METHODS', () => {
  it('lists each id once, keeps the original three spellings, and every entry is complete', () => {
    expect(new Set(METHOD_IDS).size).toBe(METHODS.length);
    expect(METHODS.length).toBe(41);
    for (const id of ['gradcam', 'guided-backprop', 'guided-gradcam']) expect(METHOD_IDS).toContain(id);
    expect(CLASSIC_METHODS).toEqual(['gradcam', 'guided-backprop', 'guided-gradcam']);
    for (const m of METHODS) {
      expect(m.label.length, m.id).toBeGreaterThan(0);
      expect(m.hint.length, m.id).toBeGreaterThan(10);
      expect(m.reference.length, m.id).toBeGreaterThan(0);
      // What a method uses comes before it (the engine runs them in this order).
      for (const used of m.uses ?? []) expect(METHOD_IDS.indexOf(used), `${m.id} uses ${used}`).toBeLessThan(METHOD_IDS.indexOf(m.id));
      // The CAM options are for layer heatmaps; input methods never need a layer.
      if (m.camOptions) expect(m.needs === 'layer' && m.output === 'heatmap', m.id).toBe(true);
      if (!m.classSpecific) expect(m.counterfactual, m.id).toBe(false);
      for (const o of m.options) {
        if (o.type === 'choice') expect(o.choices.map((c) => c.value), `${m.id}.${o.name}`).toContain(o.default);
        else expect(o.default >= o.min && o.default <= o.max, `${m.id}.${o.name}`).toBe(true);
      }
    }
  });

  it('answers ids and labels', () => {
    expect(isMethodId('gradcam-plus-plus')).toBe(true);
    expect(isMethodId('gradcam++')).toBe(false);
    expect(isMethodId(3)).toBe(false);
    expect(methodLabel('gradcam-plus-plus')).toBe('Grad-CAM++');
    expect(methodLabel('nope')).toBe('nope');
    expect(methodInfo('scorecam').cost).toBe('forward-per-channel');
    expect(() => methodInfo('nope' as never)).toThrow();
  });

  it('resolves options: defaults, clamping, integers, choices', () => {
    expect(resolveMethodOptions('smoothgrad')).toEqual({ samples: 25, noise: 0.15, base: 'gradient', batchSize: 8 });
    expect(resolveMethodOptions('smoothgrad', { samples: 2.6, noise: 7, base: 'guided-backprop', other: 1 })).toEqual({ samples: 3, noise: 1, base: 'guided-backprop', batchSize: 8 });
    expect(resolveMethodOptions('integrated-gradients', { steps: '128', baseline: 'purple' })).toMatchObject({ steps: 128, baseline: 'black' });
    expect(resolveMethodOptions('gradcam', { anything: 1 })).toEqual({});
    expect(methodOptionProblems('integrated-gradients', { steps: 0, baseline: 'blurred' })).toEqual(['steps must be an integer from 1 to 1000']);
    expect(methodOptionProblems('gradcam', { steps: 3 })[0]).toMatch(/Grad-CAM has no option "steps"/);
    expect(methodOptionProblems('smoothgrad', { base: 'x', noise: 0.5 })).toEqual(['base must be one of gradient, guided-backprop']);
  });

  it('writes captions with the settings that shape the map', () => {
    expect(methodSettingsText('gradcam')).toBe('Grad-CAM');
    expect(methodSettingsText('gradcam', { eigenSmooth: true, augSmooth: true, fusedLayers: 3 })).toBe('Grad-CAM (eigen-smoothed, flip-averaged, 3 layers fused)');
    expect(methodSettingsText('smoothgrad', {})).toBe('SmoothGrad (25 samples, noise level 15 %, over vanilla gradient)');
    expect(methodSettingsText('integrated-gradients', { steps: 32, baseline: 'blurred', batchSize: 4 })).toBe('Integrated Gradients (32 steps, baseline blurred image)');
    expect(methodSettingsText('scorecam', { batchSize: 4 })).toBe('Score-CAM');
    expect(methodSettingsText('guided-backprop', { eigenSmooth: true })).toBe('Guided backprop');
  });
});

describe('method families and gradient-free models', () => {
  it('every method is in one family; every family has methods; the perturbation family needs no gradient', () => {
    for (const f of METHOD_FAMILIES) expect(METHODS.filter((m) => methodFamily(m) === f.family).length, f.family).toBeGreaterThan(0);
    for (const m of METHODS.filter((info) => methodFamily(info) === 'perturbation')) expect(methodNeedsGradient(m.id), m.id).toBe(false);
    expect(methodNeedsGradient('guided-gradcam')).toBe(true);
    expect(methodNeedsGradient('scorecam')).toBe(false);
  });

  it('a model without a gradient keeps the gradient-free choices, else Occlusion', () => {
    expect(methodsForModel(['gradcam', 'rise', 'eigencam'], false)).toEqual(['rise', 'eigencam']);
    expect(methodsForModel(['gradcam', 'guided-gradcam'], false)).toEqual(['occlusion']);
    expect(methodsForModel(['gradcam'], true)).toEqual(['gradcam']);
  });
});
