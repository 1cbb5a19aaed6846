/** The built-in demo: its files fetched from the app's own origin (model, weights, samples). */
import { studioError } from '../shared/errors';
import type { LoadProgress } from '../shared/types';
import { fromBytes, type InputFile } from '../engine/files';
import { loadModel, type LoadedModel } from '../engine/model';
import type { DemoSample } from '../protocol/open';
import { parseSamples } from './demo-samples';

function demoUrl(path: string): string {
  const base = import.meta.env.BASE_URL || '/';
  // A relative base ('./') is relative to the page; the built worker lives one level down, in assets/.
  const relativeTo = base.startsWith('/') || /^[a-z]+:/i.test(base) ? self.location.href : new URL('../', self.location.href).href;
  return new URL(`${base}demo/${path}`, relativeTo).href;
}

export async function fetchDemo(path: string, optional = false): Promise<Uint8Array | null> {
  let response: Response;
  try {
    response = await fetch(demoUrl(path));
  } catch (e) {
    throw studioError('DEMO_UNAVAILABLE', { file: path, reason: e instanceof Error ? e.message : String(e) });
  }
  // A single-page-app server answers a missing file with index.html: that is a 404 too.
  const missing = !response.ok || (/text\/html/i.test(response.headers.get('content-type') ?? '') && !path.endsWith('.html'));
  if (missing) {
    if (optional) return null;
    throw studioError('DEMO_UNAVAILABLE', { file: path, reason: response.ok ? 'not found' : `HTTP ${response.status}` });
  }
  return new Uint8Array(await response.arrayBuffer());
}

async function requireDemo(path: string): Promise<Uint8Array> {
  const bytes = await fetchDemo(path);
  if (!bytes) throw studioError('DEMO_UNAVAILABLE', { file: path, reason: 'missing' });
  return bytes;
}

export async function loadDemoSamples(): Promise<DemoSample[]> {
  const bytes = await fetchDemo('samples/index.json', true);
  if (!bytes) return [];
  try {
    return parseSamples(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    return [];
  }
}

/** `progress` is called synchronously (it may throw CANCELLED to stop the load). */
export async function loadDemoModel(progress: (p: LoadProgress) => void): Promise<LoadedModel> {
  const modelJson = await requireDemo('model.json');
  let paths: string[];
  try {
    const manifest = (JSON.parse(new TextDecoder().decode(modelJson)) as { weightsManifest?: { paths?: string[] }[] }).weightsManifest ?? [];
    paths = manifest.flatMap((group) => group.paths ?? []);
  } catch (e) {
    throw studioError('DEMO_UNAVAILABLE', { file: 'model.json', reason: e instanceof Error ? e.message : String(e) });
  }
  const files: InputFile[] = [fromBytes('model.json', modelJson)];
  for (const path of paths) files.push(fromBytes(path, await requireDemo(path)));
  const metadata = await fetchDemo('metadata.json', true);
  if (metadata) files.push(fromBytes('metadata.json', metadata));
  return loadModel(files, { onProgress: progress });
}
