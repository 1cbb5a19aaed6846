/**
 * The randomisation sanity check's verdict, from one stated rule (Adebayo et al. 2018, whose figures
 * compare Spearman's ρ of |map| with the original's as the weights are randomised from the head down):
 *
 * - cascading: a method PASSES when ρ is below SANITY_RHO_THRESHOLD at the step where the top block
 *   (the head down to the end of the deepest named block) is random; it FAILS when ρ stays at or above
 *   the threshold at every step through the one where half of the layers are random; anything between
 *   (ρ falls only after the top block) is INCONCLUSIVE.
 * - independent (one group of layers random at a time): PASSES when randomising a group inside the top
 *   block alone brings ρ below the threshold; FAILS when no step does; otherwise INCONCLUSIVE.
 *
 * The old rule averaged ρ over the steps with at least half of the layers random; on a Teachable
 * Machine export guided backprop stayed at ρ 0.99, 0.99, 0.92, 0.93, 0.91 with 16 of 54 layers random,
 * then dipped, and the mean passed it. Here a method that survives the top block and half the
 * network cannot pass.
 */

/** ρ of |map| with the original below this counts as "changed" (the paper's figures read it this way). */
export const SANITY_RHO_THRESHOLD = 0.5;

export type SanityVerdict = 'pass' | 'fail' | 'inconclusive';

export interface SanityRule {
  mode: 'cascading' | 'independent';
  threshold: number;
  /** The top block: its name (e.g. "block_16"), its layers, and the first step at which all of them are random (cascading) or the steps randomising one of them (independent). */
  topBlock: { name: string; layers: string[]; steps: number[] };
  /** Cascading: the first step with at least half of the layers random. */
  halfStep: number;
  /** Layers that can be randomised. */
  layerCount: number;
}

/** A block's name in a layer path's last segment: block_16_project → block_16, conv5_block3_2_conv → conv5_block3, block5_conv3 → block5. */
export function blockName(path: string): string | null {
  const last = path.split('/').at(-1) ?? path;
  const match = /^(.*?block_?\d+)(?=_|$)/i.exec(last);
  return match?.[1] ?? null;
}

/** The short name of a layer path: its last segment. */
export function layerShortName(path: string): string {
  return path.split('/').at(-1) ?? path;
}

/**
 * The top block's layers among `layers` (head first): every layer from the head down to the last layer
 * of the first named block met (the head and any unnamed layers above it belong to it). A network
 * without block names: its first eighth, at least two layers (the head and the layer below it).
 */
export function topBlockLayers(layers: readonly string[]): { name: string; layers: string[] } {
  const first = layers.findIndex((l) => blockName(l) !== null);
  if (first >= 0) {
    const name = blockName(layers[first] ?? '') ?? '';
    let end = first;
    while (end + 1 < layers.length && blockName(layers[end + 1] ?? '') === name) end++;
    // A small network whose top block is most of it (the demo: 4 of 6 layers): the block's part within
    // the top half, so that the top-block step never comes after the half-way step.
    const half = Math.max(1, Math.floor(layers.length / 2));
    if (end + 1 > half) return { name: `${name} (its part in the top half)`, layers: layers.slice(0, half) };
    return { name, layers: layers.slice(0, end + 1) };
  }
  const count = Math.min(layers.length, Math.max(2, Math.ceil(layers.length / 8)));
  const top = layers.slice(0, count);
  return { name: layerShortName(top.at(-1) ?? 'head'), layers: top };
}

/**
 * The rule for one run: `layers` are the randomisable layers head first, `randomised[i]` the layers
 * random at step i (step 0 is the original: none).
 */
export function sanityRule(mode: 'cascading' | 'independent', layers: readonly string[], randomised: readonly (readonly string[])[]): SanityRule {
  const top = topBlockLayers(layers);
  const inTop = new Set(top.layers);
  const steps: number[] = [];
  if (mode === 'cascading') {
    const step = randomised.findIndex((r, i) => i > 0 && top.layers.every((l) => r.includes(l)));
    steps.push(step < 0 ? randomised.length - 1 : step);
  } else {
    randomised.forEach((r, i) => {
      if (i > 0 && r.some((l) => inTop.has(l))) steps.push(i);
    });
  }
  const half = randomised.findIndex((r, i) => i > 0 && r.length * 2 >= layers.length);
  return {
    mode,
    threshold: SANITY_RHO_THRESHOLD,
    topBlock: { name: top.name, layers: top.layers, steps },
    halfStep: half < 0 ? randomised.length - 1 : half,
    layerCount: layers.length,
  };
}

/** The verdict of one method's ρ per step (ρ[0] = 1, the original) under `rule`. */
export function sanityVerdict(rho: readonly number[], rule: SanityRule): SanityVerdict {
  const below = (i: number) => (rho[i] ?? Number.NaN) < rule.threshold;
  const measured = rho.length - 1;
  if (measured < 1) return 'inconclusive';
  if (rule.mode === 'cascading') {
    const topStep = rule.topBlock.steps[0] ?? measured;
    if (topStep <= measured && below(topStep)) return 'pass';
    const through = Math.min(rule.halfStep, measured);
    for (let i = 1; i <= through; i++) if (below(i)) return 'inconclusive';
    return 'fail';
  }
  if (rule.topBlock.steps.some((i) => i <= measured && below(i))) return 'pass';
  for (let i = 1; i <= measured; i++) if (below(i)) return 'inconclusive';
  return 'fail';
}

/** The rule in words, for beside the verdict. */
export function describeSanityRule(rule: SanityRule): string {
  const t = rule.threshold;
  const top = `the top block (${rule.topBlock.name}: ${rule.topBlock.layers.length} of ${rule.layerCount} layers from the head down)`;
  if (rule.mode === 'cascading') {
    const step = rule.topBlock.steps[0];
    return (
      `Passes when Spearman ρ of |map| with the original falls below ${t} by step ${step ?? '—'}, where ${top} is random; ` +
      `fails when ρ stays ≥ ${t} through step ${rule.halfStep} (half of the layers random); otherwise inconclusive.`
    );
  }
  return `Passes when randomising a layer of ${top} alone brings Spearman ρ of |map| below ${t}; fails when no step does; otherwise inconclusive.`;
}
