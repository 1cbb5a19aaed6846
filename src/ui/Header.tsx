/** Top bar: model name, open buttons (model, folder, image, demo), share buttons, backend. */
import { useEffect, useRef, useState } from 'react';
import { openLive } from '../store/live';
import { canCopyImages, copyImage, dropFiles, exportPng, exportTfjs, forgetCachedModels, openDemo, share, shareRoute, type ShareRoute } from '../store/actions';
import { useStore } from '../store/store';
import { filesFromInput } from './collect-files';
import { BackendIndicator } from './StatusRegion';
import { useNarrowLayout } from './useMediaQuery';

/** Model files by extension; shard files often have no extension, so octet-stream is allowed too. */
const MODEL_ACCEPT = '.json,.bin,.zip,.h5,.hdf5,.keras,.onnx,.data,.txt,application/octet-stream,application/json,application/zip';
const IMAGE_ACCEPT = 'image/png,image/jpeg,image/webp,image/bmp,image/gif,.png,.jpg,.jpeg,.webp,.bmp,.gif';

function Picker({ label, accept, multiple, folder, testId }: { label: string; accept?: string; multiple?: boolean; folder?: boolean; testId: string }) {
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    // React has no prop for directory pickers; the DOM property does it.
    if (folder && input.current) input.current.webkitdirectory = true;
  }, [folder]);
  return (
    <>
      <button type="button" onClick={() => input.current?.click()}>
        {label}
      </button>
      <input
        ref={input}
        type="file"
        hidden
        accept={accept}
        multiple={multiple}
        data-testid={testId}
        onChange={(e) => {
          const files = filesFromInput(e.target.files);
          // Clear so that picking the same file again still fires a change.
          e.target.value = '';
          void dropFiles(files);
        }}
      />
    </>
  );
}

export function Header() {
  const summary = useStore((s) => s.model.summary);
  const image = useStore((s) => s.image);
  const narrow = useNarrowLayout();
  const [menuOpen, setMenuOpen] = useState(false);
  // On a narrow window the actions fold into a menu; a pick or Escape closes it.
  const actionsShown = !narrow || menuOpen;
  return (
    <header
      className="app-header"
      onKeyDown={(e) => {
        if (narrow && menuOpen && e.key === 'Escape') setMenuOpen(false);
      }}
    >
      <div className="brand">
        <h1>Grad-CAM Studio</h1>
        <span className="model-name" data-testid="model-name" title={summary ? `${summary.format} · ${summary.params.toLocaleString('en-US')} parameters` : undefined}>
          {summary ? summary.name : 'no model'}
          {image && <span className="muted"> · {image.name} ({image.width}×{image.height})</span>}
        </span>
      </div>
      {narrow && (
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="header-actions"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          <span aria-hidden="true">☰</span> Menu
        </button>
      )}
      <div
        id="header-actions"
        className={narrow ? 'header-actions folded' : 'header-actions'}
        hidden={!actionsShown}
        onChange={() => narrow && setMenuOpen(false)}
      >
      <nav className="open-buttons" aria-label="Open">
        <Picker label="Open model…" accept={MODEL_ACCEPT} multiple testId="open-model" />
        <Picker label="Open folder…" folder multiple testId="open-folder" />
        <Picker label="Open image…" accept={IMAGE_ACCEPT} testId="open-image" />
        <DemoPicker />
        <CameraButton />
        <button type="button" data-testid="forget-cache" title="Models you open are kept in this browser so a reload brings them back" onClick={() => void forgetCachedModels()}>
          Forget cached models
        </button>
      </nav>
      <BackendIndicator />
      </div>
    </header>
  );
}

/** Live mode: the camera's frames explained as they come (needs a model and a camera API). */
function CameraButton() {
  const hasModel = useStore((s) => s.model.summary !== null);
  const canCamera = typeof navigator !== 'undefined' && Boolean(navigator.mediaDevices?.getUserMedia);
  return (
    <button
      type="button"
      data-testid="open-camera"
      disabled={!hasModel || !canCamera}
      title={canCamera ? 'Explain the camera live (frames stay in this browser)' : 'This browser gives no camera access'}
      onClick={() => openLive()}
    >
      Camera
    </button>
  );
}

/** The built-in demo: its model with a chosen sample (some hold two shapes, to compare classes). */
function DemoPicker() {
  const samples = useStore((s) => s.demoSamples);
  if (!samples.length) {
    return (
      <button type="button" onClick={() => void openDemo()}>
        Demo
      </button>
    );
  }
  return (
    <select
      aria-label="Open a demo sample"
      value=""
      onChange={(e) => {
        if (e.target.value) void openDemo(e.target.value);
      }}
    >
      <option value="">Demo sample…</option>
      {samples.map((sample) => (
        <option key={sample.file} value={sample.file}>
          {sample.file.replace(/^.*\//, '')} — {sample.shapes.map((shape) => shape.label).join(' + ')}
        </option>
      ))}
    </select>
  );
}

export function ShareButtons() {
  const hasResult = useStore((s) => s.explanation.last !== null);
  const hasModel = useStore((s) => s.model.summary !== null);
  const isGraph = useStore((s) => s.model.summary?.format === 'tfjs-graph' || s.model.summary?.format === 'onnx');
  const route = useStore((s) => shareRoute(s));
  return (
    <div className="share-buttons" role="group" aria-label="Share">
      <button type="button" disabled={!hasResult} onClick={() => void exportPng()}>
        Export PNG
      </button>
      <CopyShareButtons disabled={!hasResult} route={route} onCopy={() => void copyImage()} onShare={() => void share()} />
      {/* A graph model already is TF.js files, and an ONNX graph has no Keras layers to write: nothing to convert. */}
      {hasModel && !isGraph && (
        <button
          type="button"
          data-testid="export-tfjs"
          title="Download this model as TF.js files (model.json, weights.bin, metadata.json) in a .zip"
          onClick={() => void exportTfjs()}
        >
          Export TF.js
        </button>
      )}
    </div>
  );
}

const SHARE_TITLES: Record<ShareRoute, string> = {
  share: 'Share the PNG (with its caption) through this device\'s share sheet',
  copy: 'This browser cannot share files: Share copies the PNG to the clipboard instead',
  none: 'This browser can neither share files nor copy images: use Export PNG',
};

/** Copy image and Share: Share goes through the Web Share API where it can take a file, else it copies (see ShareRoute). */
export function CopyShareButtons({ disabled, route, onCopy, onShare }: { disabled: boolean; route: ShareRoute; onCopy: () => void; onShare: () => void }) {
  const canCopy = canCopyImages();
  return (
    <>
      <button type="button" disabled={disabled || !canCopy} title={canCopy ? 'Copy the picture and caption as a PNG' : 'This browser cannot put images on the clipboard'} onClick={onCopy}>
        Copy image
      </button>
      {/* Enabled even with no route: pressing it says why, instead of a silent grey button. */}
      <button type="button" disabled={disabled} data-share-route={route} title={SHARE_TITLES[route]} onClick={onShare}>
        Share
      </button>
    </>
  );
}
