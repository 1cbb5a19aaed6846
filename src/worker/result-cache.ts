/**
 * The worker's cache of explanations already made, so that what is on screen is never recomputed:
 * ticking a method computes only that method, unticking computes nothing, going back to a layer or a
 * class already seen redraws at once. Keyed by everything that decides a map — the model and image
 * (their tokens), preprocessing, layer(s), output, class, counterfactual, CAM smoothing, the method and
 * its settings — and bounded: least recently used maps go first past a byte budget. The session
 * empties it when the model or the image changes.
 */
import type { MethodId } from '../shared/methods';
import type { ExplainOptions, ExplainResult, MethodMap } from '../shared/types';

/**
 * 64 MB: a 224×224 model's heatmap costs ~0.2 MB (its upsampled copy), an RGB map ~0.8 MB, so a few
 * hundred maps — every method at a dozen layers and classes — fit, and the worker's memory stays far
 * below the model's own on anything but a toy model.
 */
export const RESULT_CACHE_BUDGET_BYTES = 64 * 2 ** 20;

/** What an explanation says besides its maps (the class, the predictions): kept per request, without methods. */
export type ExplanationHead = Omit<ExplainResult, 'maps' | 'warnings' | 'timings'>;

/** JSON with sorted keys: the same settings always give the same key. */
function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The key of a request without its methods: what decides the class and the predictions. */
export function headKey(tokens: { model: string | null; image: string | null }, options: ExplainOptions): string {
  return stable({
    model: tokens.model,
    image: tokens.image,
    layerPath: options.layerPaths?.length ? null : (options.layerPath ?? null),
    layerPaths: options.layerPaths ?? null,
    target: options.target ?? null,
    output: options.output ?? null,
    counterfactual: Boolean(options.counterfactual),
    preprocess: options.preprocess ?? {},
    eigenSmooth: Boolean(options.eigenSmooth),
    augSmooth: Boolean(options.augSmooth),
  });
}

function mapKey(head: string, method: MethodId, options: ExplainOptions): string {
  return `${head}|${method}|${stable(options.methodOptions?.[method] ?? {})}`;
}

function bytesOf(map: MethodMap): number {
  return map.kind === 'heatmap' ? map.map.data.byteLength + map.upsampled.data.byteLength : map.map.data.byteLength + map.saliency.data.byteLength;
}

export class ResultCache {
  private readonly maps = new Map<string, { map: MethodMap; bytes: number }>();
  private readonly heads = new Map<string, ExplanationHead>();
  private used = 0;
  /** Methods computed (not found here) since the worker started: tests count recomputations with it. */
  computed = 0;

  constructor(private readonly budgetBytes = RESULT_CACHE_BUDGET_BYTES) {}

  /** The kept map of `method` for this request, made the most recently used. */
  map(head: string, method: MethodId, options: ExplainOptions): MethodMap | undefined {
    const key = mapKey(head, method, options);
    const entry = this.maps.get(key);
    if (!entry) return undefined;
    this.maps.delete(key);
    this.maps.set(key, entry);
    return entry.map;
  }

  head(head: string): ExplanationHead | undefined {
    return this.heads.get(head);
  }

  /** Keep a fresh explanation's head and the maps of `methods`, dropping the least recently used past the budget. */
  store(head: string, result: ExplainResult, methods: MethodId[], options: ExplainOptions): void {
    const { maps, warnings: _warnings, timings: _timings, ...rest } = result;
    this.heads.set(head, rest);
    for (const method of methods) {
      const map = maps[method];
      if (!map) continue;
      this.computed++;
      const key = mapKey(head, method, options);
      const old = this.maps.get(key);
      if (old) this.used -= old.bytes;
      this.maps.delete(key);
      const bytes = bytesOf(map);
      this.maps.set(key, { map, bytes });
      this.used += bytes;
    }
    for (const [key, entry] of this.maps) {
      if (this.used <= this.budgetBytes) break;
      this.maps.delete(key);
      this.used -= entry.bytes;
    }
  }

  clear(): void {
    this.maps.clear();
    this.heads.clear();
    this.used = 0;
  }

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.maps.size;
  }
}
