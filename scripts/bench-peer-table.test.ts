import { describe, expect, it } from 'vitest';
import { meetsTarget, peerMarkdown, peerRows, peerTargetMisses } from './bench-peer-table';

describe('bench:peer table', () => {
  const rows = peerRows([
    { model: 'resnet50', ours: { forward: [150, 140, 160], gradcam_last: [150, 152, 148], guided_backprop: [340, 330] }, peer: { forward: [50, 49, 51], gradcam_last: [200, 180, 220], guided_backprop: [200, 210] } },
    { model: 'vgg16', ours: { gradcam_last: [500, 520] }, peer: { gradcam_last: [2000, 1990] } },
  ]);

  it('pairs medians and fastest runs, ratio = ours ÷ PyTorch', () => {
    const gradcam = rows.find((r) => r.model === 'resnet50' && r.case === 'gradcam_last')!;
    expect(gradcam.ours.median).toBe(150);
    expect(gradcam.peer.median).toBe(200);
    expect(gradcam.ratio).toBe(0.75);
    expect(gradcam.ratioOfFastest).toBe(0.82); // 148 / 180
    expect(rows.filter((r) => r.model === 'vgg16').map((r) => r.case)).toEqual(['gradcam_last']);
  });

  it('checks the issue targets on both ratios: Grad-CAM < 1, guided backprop ≤ 1.5, forward none', () => {
    const byCase = (model: string, c: string) => rows.find((r) => r.model === model && r.case === c)!;
    expect(meetsTarget(byCase('resnet50', 'forward'))).toBe(true); // 3× slower, but no target
    expect(meetsTarget(byCase('resnet50', 'gradcam_last'))).toBe(true);
    expect(meetsTarget(byCase('resnet50', 'guided_backprop'))).toBe(false); // 335 / 205 = 1.63
    const misses = peerTargetMisses(rows);
    expect(misses).toHaveLength(1);
    expect(misses[0]).toMatch(/^ResNet50 guided backprop: 335 vs PyTorch 205 ms = 1\.63×/);
    // A ratio of exactly 1 is not "faster than PyTorch".
    expect(meetsTarget({ ...byCase('vgg16', 'gradcam_last'), ratio: 1, ratioOfFastest: 0.9 })).toBe(false);
  });

  it('prints one Markdown row per model and case', () => {
    const md = peerMarkdown(rows).split('\n');
    expect(md).toHaveLength(2 + rows.length);
    expect(md[3]).toBe('| ResNet50 | Grad-CAM, last conv | 150 (148) | 200 (180) | 0.75× / 0.82× | < 1 ✓ |');
  });
});
