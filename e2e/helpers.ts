/**
 * Shared e2e helpers: browser flags, console-error collection, the app's ready state (the UI sets
 * `data-state` on <main> and exposes `window.__studio = { getState, client }`), panel pixels read
 * through the worker (the canvases are transferred, so the page cannot read them), fixtures.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { expect, type Page } from '@playwright/test';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/** WebGPU on SwiftShader (software): lets a GPU-less machine run the WebGPU backend. */
export const WEBGPU_SWIFTSHADER_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader', '--enable-unsafe-swiftshader'];

export const APP_URL = `http://localhost:${process.env.E2E_PORT ?? 4173}/`;

export const FIXTURES = resolve(process.cwd(), '../shared/fixtures');
export const fixturesAvailable = existsSync(FIXTURES);
export const FIXTURES_SKIP_REASON = `shared fixtures not found at ${FIXTURES} (a fresh clone has none)`;

export type PanelName = 'original' | 'gradcam' | 'guided-backprop' | 'guided-gradcam';

/** Every console error and uncaught page error, as text. Check `errors` at the end of a test. */
export function collectConsoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}

/** Wait until the app is idle after a load or an explanation; fails at once (with the status notices) on "error". */
export async function waitForReady(page: Page, timeout = 180_000): Promise<void> {
  await page.waitForFunction(() => !!(window as unknown as { __studio?: unknown }).__studio, undefined, { timeout });
  const until = Date.now() + timeout;
  let state: string | null;
  // Ready (or error) is read once more after it shows: a page that reloads itself (the service worker's
  // isolation reload) or starts new work in between is busy again, so wait for it again.
  for (;;) {
    await expect(page.locator('main[data-state="ready"], main[data-state="error"]')).toBeVisible({ timeout: Math.max(1, until - Date.now()) });
    state = await page.locator('main').getAttribute('data-state').catch(() => null);
    if (state === 'ready' || state === 'error' || Date.now() > until) break;
    await page.waitForFunction(() => !!(window as unknown as { __studio?: unknown }).__studio, undefined, { timeout: Math.max(1, until - Date.now()) });
  }
  if (state !== 'ready') {
    const notices = await page.evaluate(() =>
      (window as unknown as { __studio: { getState(): { status: { notices: { message: string }[] } } } }).__studio.getState().status.notices.map((n) => n.message),
    );
    throw new Error(`the app is in state "${state}": ${notices.join(' | ')}`);
  }
}

/** The store's state (plain data). */
export async function studioState<T = Record<string, unknown>>(page: Page): Promise<T> {
  return page.evaluate(() => (window as unknown as { __studio: { getState(): unknown } }).__studio.getState()) as Promise<T>;
}

export interface PanelStats {
  width: number;
  height: number;
  /** Fraction of pixels that differ from the original panel by more than 24 (sum over RGB). */
  changedFraction: number;
  /** Distinct colours, counted on a 4-bit-per-channel grid. */
  distinctColours: number;
  /** Centre of mass of the "hot" pixels (red-dominant), in [0,1] panel coordinates, or null. */
  hotCentre: { x: number; y: number } | null;
}

/**
 * Stats of the panels last drawn by the worker, computed in the page from `client.call('inspectPanels', [])`.
 * `where`: the app (`window.__studio.client`) or the harness (`window.client`).
 */
export async function panelStats(page: Page, where: 'app' | 'harness' = 'app'): Promise<Partial<Record<PanelName, PanelStats>>> {
  return page.evaluate(async (which) => {
    type Inspectable = PageClient;
    const w = window as unknown as { __studio?: { client: Inspectable }; client?: Inspectable };
    const client = (which === 'app' ? w.__studio?.client : w.client) as Inspectable;
    const panels = await client.call('inspectPanels', []);
    const original = panels.original;
    const out: Record<string, unknown> = {};
    for (const [name, p] of Object.entries(panels)) {
      let changed = 0;
      let hx = 0;
      let hy = 0;
      let hn = 0;
      const colours = new Set<number>();
      for (let i = 0, px = 0; i < p.data.length; i += 4, px++) {
        const [r, g, b] = [p.data[i], p.data[i + 1], p.data[i + 2]];
        if (original && original.data.length === p.data.length) {
          const d = Math.abs(r - original.data[i]) + Math.abs(g - original.data[i + 1]) + Math.abs(b - original.data[i + 2]);
          if (d > 24) changed++;
        }
        colours.add(((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4));
        if (r > 180 && r > g + 40 && r > b + 60) {
          hx += px % p.width;
          hy += Math.floor(px / p.width);
          hn++;
        }
      }
      out[name] = {
        width: p.width,
        height: p.height,
        changedFraction: changed / (p.width * p.height),
        distinctColours: colours.size,
        hotCentre: hn ? { x: hx / hn / p.width, y: hy / hn / p.height } : null,
      };
    }
    return out;
  }, where) as Promise<Partial<Record<PanelName, PanelStats>>>;
}

/** A file to hand to the page: name and bytes (base64 over the wire). */
export interface PageFile {
  name: string;
  base64: string;
}

export function pageFile(name: string, bytes: Uint8Array): PageFile {
  return { name, base64: Buffer.from(bytes).toString('base64') };
}

export function fixtureFiles(dir: string): PageFile[] {
  const full = join(FIXTURES, dir);
  return readdirSync(full)
    .filter((n) => !n.startsWith('LICENSE'))
    .map((n) => pageFile(n, readFileSync(join(full, n))));
}

/** A file for a picker (`locator.setInputFiles`), as a person picks it. */
export interface Upload {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

/** Bytes (or a PageFile's base64) as a picker upload. */
export function upload(name: string, bytes: Uint8Array | string, mimeType = 'application/octet-stream'): Upload {
  return { name, mimeType, buffer: typeof bytes === 'string' ? Buffer.from(bytes, 'base64') : Buffer.from(bytes) };
}

/** The Teachable Machine fixture's three files, as picked with "Open model…". */
export function tmUploads(): Upload[] {
  return ['model.json', 'weights.bin', 'metadata.json'].map((name) => upload(name, readFileSync(join(FIXTURES, 'models/tm-gestures', name))));
}

/** Page-side source that turns `PageFile[]` (in a variable named `files`) into TransferredFile[]. */
export const TO_TRANSFERRED = `files.map((f) => ({ file: new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name) }))`;

/**
 * Worker/client tests drive the app's own StudioClient (`window.__studio.client`) directly, once the
 * app has booted (demo loaded or not), as `window.client`; its events are collected in
 * `window.events`. With `preferred`, the client switches backend (a fresh worker, state restored).
 */
export async function setupHarness(page: Page, preferred: string | null = null): Promise<{ name: string; reason: string }> {
  await page.goto(APP_URL);
  await page.waitForFunction(
    () => {
      const studio = (window as unknown as { __studio?: { client?: { backend: unknown } } }).__studio;
      const state = document.querySelector('main')?.getAttribute('data-state');
      return !!studio?.client?.backend && (state === 'ready' || state === 'error');
    },
    undefined,
    { timeout: 180_000 },
  );
  return page.evaluate(async (backend) => {
    type Client = { on(l: (e: unknown) => void): void; init(p: string | null): Promise<{ name: string; reason: string }>; backend: { name: string; reason: string } };
    const w = window as unknown as { __studio: { client: Client }; client: Client; events: unknown[] };
    w.events = [];
    w.client = w.__studio.client;
    w.client.on((e) => w.events.push(e));
    return backend ? w.client.init(backend) : w.client.backend;
  }, preferred);
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.webmanifest': 'application/manifest+json', '.png': 'image/png', '.bin': 'application/octet-stream' };

/** A static file server for dist/ with no special headers (as a plain static host). */
export function staticServer(): Promise<Server> {
  const root = join(process.cwd(), 'dist');
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(root, path.endsWith('/') ? `${path}index.html` : path);
    readFile(file).then(
      (data) => {
        res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
        res.end(data);
      },
      () => {
        res.writeHead(404);
        res.end();
      },
    );
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

/** The worker client as the page exposes it (`window.__studio.client`): its one `call` bridge and its life. */
export type PageClient = import('../src/client/studio-client').StudioClientPort & { readonly backend: import('../src/shared/types').BackendInfo | null };
