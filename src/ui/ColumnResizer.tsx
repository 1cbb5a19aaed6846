/**
 * The tree column's right edge on a desktop: drag it, or focus it and press ←/→ (Shift: 10× steps), to
 * make the column wider for long layer names. The width is the `--tree-width` property of .app-body
 * (app.css) and is remembered in localStorage; on narrow screens the edge is hidden (the tree is a sheet).
 */
import { useEffect, useState, type KeyboardEvent, type PointerEvent } from 'react';

const KEY = 'gradcam-studio:tree-width';
const MIN = 200;
const STEP = 16;

const maxWidth = () => Math.max(MIN, Math.round(window.innerWidth * 0.5));
const clamp = (w: number) => Math.min(maxWidth(), Math.max(MIN, Math.round(w)));

function storedWidth(): number | null {
  try {
    const v = Number(localStorage.getItem(KEY));
    return Number.isFinite(v) && v > 0 ? v : null;
  } catch {
    return null; // storage blocked (private mode): the default width
  }
}

export function ColumnResizer() {
  const [width, setWidth] = useState<number | null>(storedWidth);
  useEffect(() => {
    const body = document.querySelector<HTMLElement>('.app-body');
    if (!body) return;
    if (width === null) body.style.removeProperty('--tree-width');
    else body.style.setProperty('--tree-width', `${clamp(width)}px`);
    try {
      if (width === null) localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, String(clamp(width)));
    } catch {
      // storage blocked: the width holds for this visit only
    }
  }, [width]);
  const current = () => width ?? document.querySelector('.left-column')?.getBoundingClientRect().width ?? 280;
  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    e.preventDefault();
    const startX = e.clientX;
    const startWidth = current();
    const move = (ev: globalThis.PointerEvent) => setWidth(clamp(startWidth + ev.clientX - startX));
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const step = e.shiftKey ? STEP * 10 : STEP;
    if (e.key === 'ArrowLeft') setWidth(clamp(current() - step));
    else if (e.key === 'ArrowRight') setWidth(clamp(current() + step));
    else if (e.key === 'Home') setWidth(null);
    else return;
    e.preventDefault();
  };
  return (
    <div
      className="column-resizer"
      role="separator"
      aria-orientation="vertical"
      aria-label="Layer tree width"
      aria-valuemin={MIN}
      aria-valuemax={maxWidth()}
      aria-valuenow={Math.round(current())}
      tabIndex={0}
      title="Drag (or ←/→) to resize the layer tree; Home resets"
      data-testid="tree-resizer"
      onPointerDown={onPointerDown}
      onKeyDown={onKeyDown}
    />
  );
}
