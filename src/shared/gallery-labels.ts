/**
 * Folder names as true labels, when they are not the model's labels: a model without labels
 * ("class 0…4") marked every image of a folder "neutral" wrong, and the confusion matrix mixed the two
 * vocabularies. Here: whether any folder matches a label, and two ways out — ignore the folder names
 * (no truth: no ✓/✗, no matrix) or map them to the labels by order (sorted folders → label 0, 1, …).
 */

/** How folder names and labels are compared (the gallery worker's matchLabel uses the same key). */
export function labelKey(s: string): string {
  return s.trim().toLowerCase().replace(/[\s_-]+/g, ' ');
}

export type FolderLabelMode = 'folders' | 'ignore' | 'order';

/** True when there are folders and none of them names one of `labels`. */
export function noFolderMatches(folders: readonly string[], labels: readonly string[]): boolean {
  if (folders.length === 0) return false;
  const keys = new Set(labels.map(labelKey));
  return !folders.some((f) => keys.has(labelKey(f)));
}

/** Folder → label by order: the sorted folder names onto labels 0, 1, …; folders beyond the labels map to nothing. */
export function mappingByOrder(folders: readonly string[], labels: readonly string[]): Map<string, string> {
  const sorted = [...folders].sort((a, b) => a.localeCompare(b));
  return new Map(sorted.flatMap((f, i) => (i < labels.length ? [[f, labels[i] ?? '']] : [])));
}

/** `entries` with each record's true label as `mode` says (the same objects when nothing changes). */
export function relabelEntries<E extends { record: { trueLabel: string | null } }>(
  entries: ReadonlyArray<E | undefined>,
  mode: FolderLabelMode,
  mapping: ReadonlyMap<string, string>,
): (E | undefined)[] {
  if (mode === 'folders') return [...entries];
  return entries.map((e) => {
    if (!e || e.record.trueLabel === null) return e;
    const trueLabel = mode === 'ignore' ? null : (mapping.get(e.record.trueLabel) ?? null);
    return { ...e, record: { ...e.record, trueLabel } };
  });
}
