/** Whether a CSS media query matches now, following changes (window resized, phone rotated). */
import { useSyncExternalStore } from 'react';

/** Below this width the tree and the target are sheets and the header's actions a menu (app.css uses the same). */
export const NARROW_LAYOUT_QUERY = '(max-width: 999px)';

export function useMediaQuery(query: string): boolean {
  return useSyncExternalStore(
    (notify) => {
      const list = window.matchMedia(query);
      list.addEventListener('change', notify);
      return () => list.removeEventListener('change', notify);
    },
    () => window.matchMedia(query).matches,
    () => false,
  );
}

export function useNarrowLayout(): boolean {
  return useMediaQuery(NARROW_LAYOUT_QUERY);
}
