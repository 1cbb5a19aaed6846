/** The page: header, tree on the left, panels and controls in the middle, target on the right. */
import { useEffect } from 'react';
import { boot } from '../store/actions';
import { appState, useStore } from '../store/store';
import { useGallery } from '../store/gallery';
import { GalleryView } from './Gallery';
import { Header, ShareButtons } from './Header';
import { LayerTree } from './LayerTree';
import { Panels } from './Panels';
import { StatusRegion } from './StatusRegion';
import { TargetPanel } from './TargetPanel';
import { useWindowDrop } from './useWindowDrop';
import { LiveView } from './LiveView';

export function App() {
  const state = useStore(appState);
  const explainedLayer = useStore((s) => s.explanation.last?.layerPath ?? null);
  const explainedClass = useStore((s) => s.explanation.last?.classIndex ?? null);
  const explainedLabel = useStore((s) => s.explanation.last?.classLabel ?? null);
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
        <aside className="left-column" aria-label="Layers">
          <h2>Layers</h2>
          <LayerTree />
        </aside>
        <main className="main-column" {...testAttributes}>
          <div className="toolbar">
            <StatusRegion />
            <ShareButtons />
          </div>
          <GalleryView />
          <Panels />
        </main>
        <aside className="right-column" aria-label="Target">
          <TargetPanel />
        </aside>
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
