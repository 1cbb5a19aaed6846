/**
 * Opening: dropped files (a model, images, zips, folders), the built-in demo and this browser's cache.
 * Every open takes a ticket of the OpenCoordinator when it arrives (its rules: open-coordinator.ts);
 * what it decides is committed here, one commit at a time: explanations and gallery runs using the
 * old model stop first, the new parts swap in, the version grows, the panels show the new original.
 */
import { notice, studioError, type StudioNotice } from '../../shared/errors';
import type { LoadProgress } from '../../shared/types';
import { fromBrowserFile, fromBytes, type InputFile } from '../../engine/files';
import { classifyFiles } from '../../engine/formats/index';
import { checkModelSize } from '../../engine/formats/memory-estimate';
import { loadModel, type LoadedModel } from '../../engine/model';
import type { DemoOptions, DemoSample, DroppedResult, OpenOptions, OpenPart, TransferredFile } from '../../protocol/open';
import type { GalleryOpened } from '../../protocol/gallery';
import { decodeImage, type DecodedImage } from '../image-decode';
import { demoSamplePath } from '../demo-samples';
import { fetchDemo, loadDemoModel, loadDemoSamples } from '../demo';
import { forgetAll, loadCurrent, type RestoredModel } from '../model-cache';
import { OpenCoordinator, type Loaders, type OpenTicket } from '../open-coordinator';
import { rememberCommitted, type OpenSource } from '../remember';
import { delay, guard, throwIfAborted } from '../guard';
import type { Lanes } from '../lane';
import { imageInfo, WorkerSession } from '../session';

interface ModelPart {
  loaded: LoadedModel;
  token: string;
  ignored: string[];
  source: OpenSource;
  files: InputFile[];
}

interface ImagePart {
  decoded: DecodedImage;
  token: string;
  source: OpenSource;
  file: InputFile | null;
}

type Progress = ((p: LoadProgress) => void) | undefined;

/** Progress of a part's load that stops it (at its next phase) once a newer open superseded it. */
function partProgress(signal: AbortSignal, onProgress: Progress): (p: LoadProgress) => void {
  return (p) => {
    if (signal.aborted && p.phase !== 'done') throw studioError('CANCELLED');
    onProgress?.(p);
  };
}

/** The name a person knows a dropped model by: its model.json's folder or file, else the first model file. */
function modelFilesName(files: InputFile[]): string {
  const main = files.find((f) => /\.(json|h5|hdf5|keras)$/i.test(f.name)) ?? files[0];
  return main ? main.path || main.name : 'model';
}

export function makeOpenApi(session: WorkerSession, lanes: Lanes) {
  /** Swap in what the coordinator decided; the old model is freed only once the new one is in. */
  async function commitParts(change: { model?: ModelPart; image?: ImagePart }): Promise<void> {
    // An explanation or measurement still running uses the old model and image: stop it first.
    lanes.explain.abort();
    await lanes.explain.idle();
    // A gallery run uses the old model too: it stops (the page starts a new run for the new model).
    if (change.model) {
      lanes.gallery.abort();
      await lanes.gallery.idle();
      const old = session.model;
      session.model = change.model.loaded;
      session.modelToken = change.model.token;
      session.modelIgnored = change.model.ignored;
      old?.dispose();
      session.demoLoaded = change.model.source === 'demo';
    }
    if (change.image) {
      session.image = change.image.decoded;
      session.imageToken = change.image.token;
      session.imageFile = change.image.file;
    }
    session.version++;
    session.results.clear(); // its maps were of the old model or image
    await lanes.draw.run(async () => session.resetPanels());
    rememberCommitted(session, change);
  }

  const opens = new OpenCoordinator<ModelPart, ImagePart>({
    commit: commitParts,
    discardModel: (part) => part.loaded.dispose(),
  });

  const loadProgressOf = (requestId: number) => (load: LoadProgress) => session.sendProgress({ requestId, load });

  /** The result an open hands back: what it brought, what was superseded, and the state now. */
  function openResult(outcome: { model?: ModelPart; image?: ImagePart; cancelled: OpenPart[] }, names: Record<OpenPart, string>, notices: StudioNotice[]): DroppedResult {
    const result: DroppedResult = { notices, state: session.committedState() };
    if (outcome.model) result.model = { summary: outcome.model.loaded.summary, ignored: outcome.model.ignored };
    if (outcome.image) result.image = imageInfo(outcome.image.decoded);
    if (outcome.cancelled.length) result.cancelled = outcome.cancelled.map((part) => ({ part, name: names[part] }));
    return result;
  }

  /** Sort the files, then load the model and decode the image as parts of the coordinator. */
  async function openFileList(ticket: OpenTicket, requestId: number, files: TransferredFile[], options: OpenOptions | undefined, source: OpenSource): Promise<DroppedResult> {
    const onProgress = loadProgressOf(requestId);
    return session.requests.run(requestId, async (signal) => {
      let modelFiles: InputFile[];
      let images: InputFile[];
      let notices: StudioNotice[];
      let ignored: string[];
      try {
        onProgress({ phase: 'reading', message: `Reading ${files.length} file${files.length === 1 ? '' : 's'}` });
        const classified = await classifyFiles(files.map((f) => fromBrowserFile(f.file, f.path)));
        throwIfAborted(signal);
        modelFiles = options?.only === 'image' ? [] : classified.modelFiles;
        images = options?.only === 'model' ? [] : classified.images;
        notices = classified.ignored.map((f) => notice('UNKNOWN_FILE', { file: f.path || f.name }));
        ignored = classified.ignored.map((f) => f.path || f.name);
        if (modelFiles.length === 0 && images.length === 0) throw studioError('NO_MODEL_FILE');
      } catch (e) {
        opens.abandon(ticket);
        throw e;
      }
      const token = WorkerSession.token(requestId, options);
      // Several images (a folder, a zip, a multiple drop): the gallery takes them all; the single view keeps its image.
      let galleryOpened: GalleryOpened | undefined;
      if (images.length > 1) {
        lanes.gallery.abort();
        galleryOpened = session.gallery.setFiles(images);
        images = [];
      }
      const imageFile = images[0] ?? null;
      const loaders: Loaders<ModelPart, ImagePart> = {};
      if (modelFiles.length) {
        const chosen = modelFiles;
        loaders.model = async (partSignal) => {
          await delay(session.testLoadDelayMs, partSignal);
          // Said before any weight is read: a model too large may take the worker down while loading.
          const tooLarge = await checkModelSize(chosen, session.memoryBudgetMb);
          if (tooLarge) onProgress({ phase: 'reading', message: tooLarge.message, notice: tooLarge });
          const loaded = await loadModel(chosen, { onProgress: partProgress(partSignal, onProgress) });
          return { loaded, token, ignored, source, files: chosen };
        };
      }
      if (imageFile) loaders.image = async () => ({ decoded: await decodeImage(imageFile), token, source, file: imageFile });
      if (!loaders.model && !loaders.image) opens.abandon(ticket);
      const outcome = loaders.model || loaders.image ? await opens.run(ticket, loaders, signal) : { cancelled: [] };
      onProgress({ phase: 'done', message: 'Loaded' });
      const result = openResult(outcome, { model: modelFilesName(modelFiles), image: imageFile ? imageFile.path || imageFile.name : '' }, notices);
      return galleryOpened ? { ...result, gallery: galleryOpened } : result;
    });
  }

  return {
    /** Anything dropped/picked/pasted: model files, zips, folders' files and/or images, told apart by content and name. */
    openFiles(requestId: number, files: TransferredFile[], options?: OpenOptions): Promise<DroppedResult> {
      const ticket = opens.begin(); // in arrival order, before anything is awaited
      return guard(() => openFileList(ticket, requestId, files, options, 'files'), 'opening files');
    },

    /** Load the built-in demo (fetched from the app's own origin), or just another of its samples. */
    openDemo(requestId: number, options?: DemoOptions): Promise<DroppedResult> {
      const ticket = opens.begin();
      const onProgress = loadProgressOf(requestId);
      return guard(
        () =>
          session.requests.run(requestId, async (signal) => {
            const wantModel = options?.only !== 'image' && !(options?.sample && session.demoLoaded && session.model && !options.only);
            const wantImage = options?.only !== 'model';
            let sample: string | undefined;
            try {
              if (wantImage) {
                sample = options?.sample ?? (await loadDemoSamples())[0]?.file;
                // No sample listed: the demo model still opens, and the user drops an image.
                if (!sample && !wantModel) throw studioError('DEMO_UNAVAILABLE', { file: 'samples/index.json', reason: 'no sample listed' });
              }
            } catch (e) {
              opens.abandon(ticket);
              throw e;
            }
            const token = WorkerSession.token(requestId, options);
            const loaders: Loaders<ModelPart, ImagePart> = {};
            if (wantModel) {
              loaders.model = async (partSignal) => ({ loaded: await loadDemoModel(partProgress(partSignal, onProgress)), token, ignored: [], source: 'demo', files: [] });
            }
            if (sample) {
              const file = sample;
              loaders.image = async () => {
                const bytes = await fetchDemo(demoSamplePath(file));
                if (!bytes) throw studioError('DEMO_UNAVAILABLE', { file, reason: 'missing' });
                return { decoded: await decodeImage(fromBytes(file, bytes)), token, source: 'demo', file: null };
              };
            }
            const outcome = await opens.run(ticket, loaders, signal);
            onProgress({ phase: 'done', message: 'Demo loaded' });
            return openResult(outcome, { model: 'the demo', image: sample ?? '' }, []);
          }),
        'opening the demo',
      );
    },

    /** The demo's samples (from demo/samples/index.json); [] when there is none. */
    demoSamples(_requestId: number): Promise<DemoSample[]> {
      return guard(loadDemoSamples);
    },

    /** The model (and image) last dropped, from this browser's IndexedDB cache; null when there is none. */
    restoreCached(requestId: number, options?: OpenOptions): Promise<DroppedResult | null> {
      const ticket = opens.begin();
      return guard(async () => {
        let restored: RestoredModel | null;
        try {
          restored = await loadCurrent();
        } catch {
          restored = null; // no IndexedDB (private mode, blocked storage): nothing to restore
        }
        if (!restored) {
          opens.abandon(ticket);
          return null;
        }
        const files: TransferredFile[] = restored.model.files.map((f) => ({ file: new File([f.bytes], f.name), path: f.path }));
        if (restored.image && options?.only !== 'model') files.push({ file: new File([restored.image.bytes], restored.image.name) });
        // Already stored: the 'cache' source is not stored again.
        const result = await openFileList(ticket, requestId, files, options, 'cache');
        return { ...result, fromCache: true };
      }, 'restoring the cached model');
    },

    /** Empty the IndexedDB model cache (the model on screen stays). */
    forgetCachedModels(_requestId: number): Promise<void> {
      return guard(forgetAll);
    },
  };
}
