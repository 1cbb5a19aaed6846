/**
 * The page: header, tree on the left, panels and controls in the middle, target on the right; on a
 * narrow window the explanation comes first and the tree and target are sheets below it.
 */
import { useEffect } from 'react';
import { boot } from '../store/actions';
import { appState, useStore } from '../store/store';
import { useGallery } from '../store/gallery';
import { GalleryView } from './Gallery';
import { Header, ShareButtons } from './Header';
import { LayerTree } from './LayerTree';
import { PanelControls, Panels } from './Panels';
import { Sheet } from './Sheet';
import { StatusRegion } from './StatusRegion';
import { TargetPanel } from './TargetPanel';
import { useWindowDrop } from './useWindowDrop';
import { LiveView } from './LiveView';
import { ColumnResizer } from './ColumnResizer';
import { CompactTarget } from './CompactTarget';

export function App() {
  const state = useStore(appState);
  const explainedLayer = useStore((s) => s.explanation.last?.layerPath ?? null);
  const explainedClass = useStore((s) => s.explanation.last?.classIndex ?? null);
  const explainedLabel = useStore((s) => s.explanation.last?.classLabel ?? null);
  const selectedPath = useStore((s) => s.explanation.selectedLayerPath ?? s.model.summary?.defaultLayerPath ?? null);
  const selectedName = selectedPath?.split('/').pop() ?? null;
  const dragging = useWindowDrop();
  const liveActive = useStore((s) => s.live.active);
  const galleryShown = useGallery((s) => s.view === 'gallery' && s.count > 0);

  useEffect(() => {
    void boot();
  }, []);

  // What e2e tests wait on; on the root and on <main> (the e2e helpers look for `main[data-state]`).
  const testAttributes = {
    'data-state': state,
    'data-explained-layer': explainedLayer ?? undefined,
    'data-explained-class': explainedClass ?? undefined,
    'data-explained-label': explainedLabel ?? undefined,
  };

  return (
    <div className="app" {...testAttributes} data-view={galleryShown ? 'gallery' : 'single'} aria-busy={state === 'busy'}>
      <Header />
      <div className="app-body">
        {/* Wide: tree | explanation | target. Narrow: the explanation first, tree and target as sheets below (app.css). */}
        <Sheet className="left-column" title="Layers" summary={selectedName && <code>{selectedName}</code>} defaultOpen={false}>
          <LayerTree />
        </Sheet>
        <ColumnResizer />
        <main className="main-column" {...testAttributes}>
          <div className="toolbar">
            <StatusRegion />
            <ShareButtons />
          </div>
          <GalleryView />
          {!galleryShown && <CompactTarget />}
          <Panels />
          <PanelControls />
        </main>
        <Sheet className="right-column" title="Target class" summary={explainedLabel} defaultOpen>
          <TargetPanel />
        </Sheet>
      </div>
      {liveActive && <LiveView />}
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <div>Drop a model, a folder, a .zip or an image</div>
        </div>
      )}
    </div>
  );
}
