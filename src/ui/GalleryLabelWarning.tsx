/**
 * Above the gallery's grid when none of its folder names is one of the model's labels: says so, and
 * offers to ignore the folder names (no ✓/✗, no confusion matrix) or to map them onto the labels by order.
 */
import { mappingByOrder, noFolderMatches, type FolderLabelMode } from '../shared/gallery-labels';
import { useGallery } from '../store/gallery';
import { currentFolderLabelMode, setFolderLabelMode, useFolderLabels } from '../store/gallery-labels';
import { useStore } from '../store/store';

export function GalleryLabelWarning() {
  const folders = useGallery((s) => s.trueLabels);
  const labels = useStore((s) => s.model.summary?.labels ?? []);
  const mode = currentFolderLabelMode(folders, useFolderLabels());
  if (!noFolderMatches(folders, labels)) return null;
  const mapping = [...mappingByOrder(folders, labels)].map(([f, l]) => `${f} → ${l}`).join(', ');
  const preview = labels.slice(0, 4).join(', ') + (labels.length > 4 ? ', …' : '');
  return (
    <div className="gallery-label-warning" role="status" data-testid="gallery-label-warning" data-mode={mode}>
      <p>
        None of the folder names ({folders.join(', ')}) is one of the model's labels ({preview}), so “true” labels cannot be compared with
        predictions.
      </p>
      <fieldset>
        <legend className="small">Folder names</legend>
        {(
          [
            ['ignore', 'Ignore folder names (no ✓/✗, no confusion matrix)'],
            ['order', `Map by order: ${mapping}`],
            ['folders', 'Use them as they are (every image counts as wrong)'],
          ] as Array<[FolderLabelMode, string]>
        ).map(([value, text]) => (
          <label key={value}>
            <input type="radio" name="folder-labels" value={value} checked={mode === value} onChange={() => setFolderLabelMode(value)} data-testid={`folder-labels-${value}`} /> {text}
          </label>
        ))}
      </fieldset>
    </div>
  );
}
