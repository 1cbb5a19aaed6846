/**
 * Models the person dropped, kept in this browser's IndexedDB (from the worker) so that a reload
 * brings the last model back without dropping it again: the model files' bytes keyed by a SHA-256
 * content hash, plus which model (and image) was current. Oldest models go first above a size cap.
 * Best effort: any storage failure (private mode, quota) only means no restore.
 */
const DB_NAME = 'gradcam-studio';
const DB_VERSION = 1;
const MODELS = 'models';
const META = 'meta';
const CURRENT = 'current';
/** Above this, the least recently used models are evicted (the current one is always kept). */
export const MODEL_CACHE_CAP_BYTES = 400 * 2 ** 20;

export interface CachedFile {
  name: string;
  path?: string;
  bytes: ArrayBuffer;
}

export interface CachedModel {
  hash: string;
  name: string;
  files: CachedFile[];
  bytes: number;
  usedAt: number;
}

interface CurrentRecord {
  hash: string;
  image?: CachedFile;
}

export interface RestoredModel {
  model: CachedModel;
  image?: CachedFile;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
  });
}

let opening: Promise<IDBDatabase> | null = null;

function openDb(): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined') return Promise.reject(new Error('no IndexedDB here'));
  opening ??= new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(MODELS)) db.createObjectStore(MODELS, { keyPath: 'hash' });
      if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened'));
  }).catch((e: unknown) => {
    opening = null;
    throw e;
  });
  return opening;
}

/** SHA-256 over every file's name, size and own SHA-256 (in name order), hex. Hashing file by file
 *  keeps the peak memory at one file, not a joined copy of the whole model. */
export async function contentHash(files: CachedFile[]): Promise<string> {
  const hex = (digest: ArrayBuffer) => Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  const lines: string[] = [];
  for (const f of [...files].sort((a, b) => (a.path ?? a.name).localeCompare(b.path ?? b.name))) {
    lines.push(`${f.path ?? f.name}\u0000${f.bytes.byteLength}\u0000${hex(await crypto.subtle.digest('SHA-256', f.bytes))}`);
  }
  return hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(lines.join('\n'))));
}

/** Store the model's files (if new) and make it current, with the image it came with. */
export async function rememberModel(name: string, files: CachedFile[], image?: CachedFile): Promise<string | null> {
  const bytes = files.reduce((n, f) => n + f.bytes.byteLength, 0);
  if (bytes > MODEL_CACHE_CAP_BYTES) {
    // Too large to keep: a reload must not bring back the previous model as if it were current.
    await forgetCurrent();
    return null;
  }
  const hash = await contentHash(files);
  const db = await openDb();
  const tx = db.transaction([MODELS, META], 'readwrite');
  const record: CachedModel = { hash, name, files, bytes, usedAt: Date.now() };
  tx.objectStore(MODELS).put(record);
  const current: CurrentRecord = image ? { hash, image } : { hash };
  tx.objectStore(META).put(current, CURRENT);
  await done(tx);
  await evict(hash);
  return hash;
}

/** A new image for the current (cached) model. */
export async function rememberImage(image: CachedFile): Promise<void> {
  const db = await openDb();
  const tx = db.transaction(META, 'readwrite');
  const store = tx.objectStore(META);
  const current = (await request(store.get(CURRENT))) as CurrentRecord | undefined;
  if (current) store.put({ ...current, image }, CURRENT);
  await done(tx);
}

/** The demo (served by the app itself) became current: nothing to restore on reload. */
export async function forgetCurrent(): Promise<void> {
  const db = await openDb();
  const tx = db.transaction(META, 'readwrite');
  tx.objectStore(META).delete(CURRENT);
  await done(tx);
}

/** The current model and image, or null. */
export async function loadCurrent(): Promise<RestoredModel | null> {
  const db = await openDb();
  const tx = db.transaction([MODELS, META], 'readwrite');
  const current = (await request(tx.objectStore(META).get(CURRENT))) as CurrentRecord | undefined;
  if (!current) return null;
  const model = (await request(tx.objectStore(MODELS).get(current.hash))) as CachedModel | undefined;
  if (!model) return null;
  tx.objectStore(MODELS).put({ ...model, usedAt: Date.now() });
  await done(tx);
  return current.image ? { model, image: current.image } : { model };
}

/** Every cached model and the current pointer go. */
export async function forgetAll(): Promise<void> {
  const db = await openDb();
  const tx = db.transaction([MODELS, META], 'readwrite');
  tx.objectStore(MODELS).clear();
  tx.objectStore(META).clear();
  await done(tx);
}


/** Least recently used first, until under the cap; `keep` stays whatever its size. */
async function evict(keep: string): Promise<void> {
  const db = await openDb();
  const tx = db.transaction(MODELS, 'readwrite');
  const store = tx.objectStore(MODELS);
  const all = ((await request(store.getAll())) as CachedModel[]).sort((a, b) => a.usedAt - b.usedAt);
  let total = all.reduce((n, m) => n + m.bytes, 0);
  for (const m of all) {
    if (total <= MODEL_CACHE_CAP_BYTES) break;
    if (m.hash === keep) continue;
    store.delete(m.hash);
    total -= m.bytes;
  }
  await done(tx);
}
