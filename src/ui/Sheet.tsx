/**
 * A side column on a wide window; on a narrow one a collapsible sheet below the explanation (its
 * title a toggle button saying what is inside). One component, the layout decides.
 */
import { useId, useState, type ReactNode } from 'react';
import { useNarrowLayout } from './useMediaQuery';

export function Sheet({ title, summary, defaultOpen, className, children }: { title: string; summary?: ReactNode; defaultOpen: boolean; className: string; children: ReactNode }) {
  const narrow = useNarrowLayout();
  const [open, setOpen] = useState(defaultOpen);
  const bodyId = useId();
  const shown = !narrow || open;
  return (
    <aside className={`${className} sheet`} aria-label={title} data-collapsed={shown ? undefined : 'true'}>
      {narrow ? (
        <h2 className="sheet-title">
          <button type="button" className="sheet-toggle" aria-expanded={open} aria-controls={bodyId} onClick={() => setOpen(!open)}>
            <span className="sheet-chevron" aria-hidden="true">
              {open ? '▾' : '▸'}
            </span>
            {title}
            {summary && <span className="sheet-summary"> {summary}</span>}
          </button>
        </h2>
      ) : (
        <h2 className="sheet-title">{title}</h2>
      )}
      <div id={bodyId} className="sheet-body" hidden={!shown}>
        {children}
      </div>
    </aside>
  );
}
