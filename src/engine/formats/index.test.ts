import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { zipSync } from 'fflate';
import jpeg from 'jpeg-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCode } from '../../test-support/expect-code';
import { fromBytes, type InputFile } from '../files';
import { encodePng } from '../node/image';
import { filesFromPaths } from '../node/files';
import { buildLayersModel, classifyFiles, disposeLayersModel, modelReaders, openModel, registerReader } from './index';
import { sniffImage } from '../image-sniff';
import type { ModelReader } from './reader';

const enc = (text: string) => new TextEncoder().encode(text);
const names = (files: InputFile[]) => files.map((f) => f.path).sort();

const png = encodePng({ width: 2, height: 2, data: new Uint8Array(16).fill(200) });
const jpg = new Uint8Array(jpeg.encode({ width: 2, height: 2, data: Buffer.alloc(16, 120) }, 90).data);
const hdf5 = new Uint8Array([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
const gif = enc('GIF89a\x01\x00\x01\x00');
const webp = new Uint8Array([...enc('RIFF'), 0, 0, 0, 0, ...enc('WEBPVP8 ')]);
const bmp = new Uint8Array([...enc('BM'), ...new Array(40).fill(0)]);
const svg = enc('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('sniffImage', () => {
  it('recognises PNG, JPEG, GIF, WebP, BMP and SVG by content, nothing else', () => {
    expect([png, jpg, gif, webp, bmp, svg].map((b) => sniffImage(b).kind)).toEqual(['png', 'jpeg', 'gif', 'webp', 'bmp', 'svg']);
    expect(sniffImage(hdf5).kind).toBe('unknown');
    expect(sniffImage(enc('{"svg": "<svg>"}')).kind).toBe('unknown');
    expect(sniffImage(new Uint8Array(0)).kind).toBe('unknown');
  });
});

describe('classifyFiles', () => {
  it('tells images from model files by magic bytes first and by name second; ignores the rest', async () => {
    const files = [
      fromBytes('photo.jpg', png), // a PNG misnamed .jpg: still an image
      fromBytes('cat', jpg), // no extension: content decides
      fromBytes('broken.png', enc('not really')), // named as an image: the decoder will say why it fails
      fromBytes('drawing.svg', svg),
      fromBytes('model.json', enc('{}')),
      fromBytes('group1-shard1of2', new Uint8Array([0xff, 0xd8, 0xff, 0])), // a shard that happens to start like a JPEG
      fromBytes('weights.bin', new Uint8Array(8)),
      fromBytes('labels.txt', enc('a\n')),
      fromBytes('fer.hdf5', hdf5),
      fromBytes('mystery', hdf5), // HDF5 by content
      fromBytes('model.keras', zipSync({ 'config.json': enc('{}'), 'model.weights.h5': hdf5 })),
      fromBytes('README.md', enc('# hi')),
      fromBytes('.DS_Store', new Uint8Array(4)),
    ];
    const { modelFiles, images, ignored } = await classifyFiles(files);
    expect(names(images)).toEqual(['broken.png', 'cat', 'drawing.svg', 'photo.jpg']);
    expect(names(modelFiles)).toEqual(['fer.hdf5', 'group1-shard1of2', 'labels.txt', 'model.json', 'model.keras', 'mystery', 'weights.bin']);
    expect(names(ignored)).toEqual(['.DS_Store', 'README.md']);
  });

  it('expands zips (also nested), skipping __MACOSX/ and dot files, and keeps a .keras inside a zip whole', async () => {
    const inner = zipSync({ 'deep.png': png });
    const keras = zipSync({ 'config.json': enc('{}'), 'metadata.json': enc('{}'), 'model.weights.h5': hdf5 });
    const zip = zipSync({
      'tm/model.json': enc('{}'),
      'tm/weights.bin': new Uint8Array(4),
      'tm/metadata.json': enc('{}'),
      'tm/.hidden': enc('x'),
      '__MACOSX/tm/._model.json': enc('junk'),
      'tm/': new Uint8Array(0),
      'photos/cat.png': png,
      'photos/inner.zip': inner,
      'mnist.keras': keras,
      'notes.md': enc('hi'),
    });
    const { modelFiles, images, ignored } = await classifyFiles([fromBytes('export.zip', zip), fromBytes('loose.jpeg', jpg)]);
    expect(names(modelFiles)).toEqual(['export/mnist.keras', 'export/tm/metadata.json', 'export/tm/model.json', 'export/tm/weights.bin']);
    expect(names(images)).toEqual(['export/photos/cat.png', 'export/photos/inner/deep.png', 'loose.jpeg']);
    expect(names(ignored)).toEqual(['export/notes.md']);
    const keras2 = modelFiles.find((f) => f.name === 'mnist.keras') as InputFile;
    expect(await keras2.bytes()).toEqual(keras);
  });

  it('TIFF and HEIC count as images (the decoder says browsers cannot read them), not as "no model"', async () => {
    const tiff = new Uint8Array([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0]);
    const heic = new Uint8Array([0, 0, 0, 24, ...enc('ftypheic'), 0, 0, 0, 0, ...enc('mif1heic')]);
    const { images, modelFiles } = await classifyFiles([fromBytes('scan.tif', tiff), fromBytes('IMG_0001.HEIC', heic), fromBytes('noext', tiff)]);
    expect(names(images)).toEqual(['IMG_0001.HEIC', 'noext', 'scan.tif']);
    expect(modelFiles).toEqual([]);
  });

  it('reads only the first bytes of a large file to sort it (a .h5 is not read whole)', async () => {
    const big: InputFile = {
      name: 'vgg16.h5',
      path: 'vgg16.h5',
      size: 60_000_000,
      bytes: async () => {
        throw new Error('read whole');
      },
      head: async (n) => hdf5.subarray(0, n),
    };
    const { modelFiles } = await classifyFiles([big]);
    expect(modelFiles).toEqual([big]);
  });

  it('a .h5 / .keras whose signature is damaged → KERAS_UNSUPPORTED saying so, not NO_MODEL_FILE', async () => {
    const damaged = hdf5.slice();
    damaged[1] = 0x00;
    const e = await expectCode(openModel([fromBytes('model.h5', damaged)]), 'KERAS_UNSUPPORTED');
    expect(e.message).toMatch(/model\.h5 is not an HDF5 file: it starts with 89 00 44 46 0d 0a 1a 0a, not the signature/);
    const notZip = await expectCode(openModel([fromBytes('model.keras', enc('not a zip'))]), 'KERAS_UNSUPPORTED');
    expect(notZip.message).toMatch(/model\.keras is not a zip archive \(Keras 3\)/);
  });

  it('a .zip that does not unzip → ZIP_INVALID naming it', async () => {
    const e = await expectCode(classifyFiles([fromBytes('model.zip', enc('PK\x03\x04 this is not a zip at all'))]), 'ZIP_INVALID');
    expect(e.message).toContain('model.zip');
    await expectCode(openModel([fromBytes('model.zip', new Uint8Array([1, 2, 3]))]), 'ZIP_INVALID');
  });
});

describe('modelReaders / registerReader', () => {
  it('openModel uses the first reader whose match is true; registering twice is a no-op', async () => {
    const fake: ModelReader = {
      name: 'test-fake',
      match: (files) => files.some((f) => f.name.endsWith('.fake')),
      open: async () => ({ name: 'fake', format: 'fake', artifacts: {}, warnings: [] }),
    };
    registerReader(fake);
    registerReader(fake);
    expect(modelReaders.filter((r) => r.name === 'test-fake')).toHaveLength(1);
    expect((await openModel([fromBytes('x.fake', enc(''))])).format).toBe('fake');
    modelReaders.splice(modelReaders.indexOf(fake), 1);
    await expectCode(openModel([fromBytes('x.fake', enc(''))]), 'NO_MODEL_FILE');
  });
});

const fixtures = resolve(process.cwd(), '../shared/fixtures');
const haveFixtures = existsSync(fixtures);

describe.skipIf(!haveFixtures)('real fixtures (../shared/fixtures; skipped when absent)', () => {
  it('tm-gestures opens with TM labels and preprocessing defaults, and builds', async () => {
    const files = await filesFromPaths([resolve(fixtures, 'models/tm-gestures/model.json')]);
    const opened = await openModel(files);
    expect(opened.format).toBe('tfjs-layers');
    expect(opened.name).toBe('tm-gestures');
    expect(opened.labels).toEqual(['Peace', 'Stop', 'Thumbs Up']);
    expect(opened.preprocess).toEqual({ normalization: 'symmetric', resize: 'center-crop', source: 'metadata.json (Teachable Machine)' });
    expect(opened.warnings).toEqual([]);
    const model = await buildLayersModel(opened);
    expect(model.outputs[0].shape).toEqual([null, 3]);
    // tfjs's own dispose() leaves 3 of the 263 weights of this nested model: ours frees them all.
    const before = tf.memory().numTensors;
    model.dispose();
    expect(before - tf.memory().numTensors).toBe(263);
    const plain = await tf.loadLayersModel(tf.io.fromMemory(opened.artifacts));
    disposeLayersModel(plain);
    expect(tf.memory().numTensors).toBe(before - 263);

  });

  it('darknet-tiny-imagenet (legacy, 31 groups without .bin) opens with 1000 labels from labels.txt', async () => {
    const files = await filesFromPaths([resolve(fixtures, 'models/darknet-tiny-imagenet')]);
    const opened = await openModel(files);
    expect(opened.format).toBe('tfjs-layers (legacy)');
    expect(opened.labels).toHaveLength(1000);
    expect(opened.labels?.[0]).toBe('kit fox');
    expect(opened.labels?.[173]).toBe('tabby');
    expect(opened.preprocess).toBeUndefined();
    const manifest = JSON.parse(await (files.find((f) => f.name === 'model.json') as InputFile).bytes().then((b) => new TextDecoder().decode(b)));
    expect(manifest.weightsManifest).toHaveLength(31);
    expect((opened.artifacts.weightData as ArrayBuffer).byteLength).toBe(files.filter((f) => f.name.startsWith('group')).reduce((s, f) => s + f.size, 0));
  });

  it('the fer .hdf5 is classified as a model file, photos as images, licences ignored', async () => {
    const files = await filesFromPaths([resolve(fixtures, 'models/fer-mini-xception-h5'), resolve(fixtures, 'images')]);
    const { modelFiles, images, ignored } = await classifyFiles(files);
    expect(modelFiles.map((f) => f.name)).toEqual(['fer2013_mini_XCEPTION.102-0.66.hdf5']);
    expect(images.map((f) => f.name).sort()).toEqual(['skimage_astronaut.png', 'skimage_chelsea_cat.png', 'skimage_coffee_cup.png', 'skimage_rocket.jpg']);
    expect(ignored.map((f) => f.name)).toEqual(['LICENSE']);
  });

  it('the TM export zipped with fflate (plus a photo) classifies and opens', async () => {
    const dir = resolve(fixtures, 'models/tm-gestures');
    const members: Record<string, Uint8Array> = {};
    for (const f of await filesFromPaths([dir])) members[f.path] = await f.bytes();
    const zip = zipSync(members);
    const { modelFiles, images } = await classifyFiles([fromBytes('tm.zip', zip), ...(await filesFromPaths([resolve(fixtures, 'images/skimage_rocket.jpg')]))]);
    expect(modelFiles.map((f) => f.name).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);
    expect(images.map((f) => f.name)).toEqual(['skimage_rocket.jpg']);
    const opened = await openModel([fromBytes('tm.zip', zip)]);
    expect(opened.labels).toEqual(['Peace', 'Stop', 'Thumbs Up']);
  });
});
