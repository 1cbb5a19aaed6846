/**
 * "A new version is ready — Reload": shown once when a new deployment's service worker takes control
 * of an open tab. Plain DOM (no store, no React) so that it works whatever state the app is in; the
 * tab goes on working on its own version until the user reloads.
 */
export function showUpdatePrompt(): void {
  if (document.querySelector('[data-testid=update-prompt]')) return;
  const bar = document.createElement('div');
  bar.setAttribute('role', 'status');
  bar.dataset.testid = 'update-prompt';
  bar.className = 'update-prompt';
  bar.style.cssText = 'position:fixed;left:50%;bottom:16px;transform:translateX(-50%);z-index:1000;background:#1d2433;color:#fff;padding:8px 12px;border-radius:6px;box-shadow:0 2px 8px rgba(0,0,0,.3);font:14px system-ui,sans-serif;display:flex;gap:12px;align-items:center';
  const text = document.createElement('span');
  text.textContent = 'A new version is ready';
  const reload = document.createElement('button');
  reload.type = 'button';
  reload.textContent = 'Reload';
  reload.addEventListener('click', () => location.reload());
  const later = document.createElement('button');
  later.type = 'button';
  later.textContent = 'Later';
  later.setAttribute('aria-label', 'Dismiss: keep this version until the next reload');
  later.addEventListener('click', () => bar.remove());
  bar.append(text, reload, later);
  document.body.append(bar);
}
