/** The built app served by `vite preview` for the benches (npm run bench, npm run bench:soak). */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export async function waitForServer(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`vite preview did not answer at ${url}`);
}

/** `vite preview` of dist/ on `port`, in its own process group. */
export function startPreview(port: number): ChildProcess {
  if (!existsSync('dist/index.html')) throw new Error('dist/ is missing: run `npx vite build` first (npm run bench does).');
  const child = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort'], { stdio: 'ignore', detached: true });
  child.unref(); // never keeps the bench alive once it is done
  return child;
}

export function stopPreview(child: ChildProcess): void {
  // Its own process group (detached): npx and vite go together, nothing else is touched.
  if (child.pid) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

