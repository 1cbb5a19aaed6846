/**
 * The table of bad inputs, as test data (in the spirit of Netron's list of broken models): what a
 * person may drop, and the coded message each must give. Every file is made here in Node, from small
 * tfjs models, or read from the shared fixtures (those cases are skipped when the fixtures are absent).
 * `e2e/bad-inputs.spec.ts` drops each case on the running app.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { zipSync } from 'fflate';
import type { ErrorCode } from '../src/shared/errors';
import { exportLayersModelAsTfjs } from '../src/engine/formats/export-tfjs';
import jpeg from 'jpeg-js';
import { withExifOrientation } from '../src/engine/node/image';
import { FIXTURES } from './helpers';
import { tinyImage, tinyModelFiles } from './tiny-model';
import { encodeOnnx, seeded as seededValues, type ModelSpec } from '../src/engine/node/onnx-builder';

export interface CaseFile {
  name: string;
  data: Uint8Array;
}

export interface BadInputCase {
  id: string;
  description: string;
  files: () => Promise<CaseFile[]>;
  /** The code the status region must show; null when the drop simply works (an SVG that rasterises). */
  expectCode: ErrorCode | null;
  /** On the message of `expectCode` (or, with no code, on the header's model/image line). */
  expectText: RegExp;
  /**
   * true: the drop is refused and the previous model, image and explanation stay on screen.
   * false: the drop is taken (with a warning, see `warningOnly`) and replaces what was shown.
   */
  keepsState: boolean;
  /** The drop loads and is explained; the code comes as a warning. */
  warningOnly?: boolean;
  /** Needs ../shared/fixtures. */
  needsFixtures?: boolean;
  /** Query string for the page this case runs on (e.g. a tiny memory budget). */
  pageQuery?: string;
  /** Extra checks the spec runs for this case. */
  checks?: ('no-injection' | 'guided-backprop-only' | 'labels-verbatim' | 'warned-before-load' | 'portrait-upright' | 'long-name-one-line')[];
  /** The coded message must be on screen within this many milliseconds of the drop. */
  withinMs?: number;
}

/** A small PyTorch-style ONNX classifier (conv → ReLU → global pool → Gemm), for the ONNX cases. */
function onnxSpec(inputShape: Array<number | string> = [1, 3, 16, 16]): ModelSpec {
  return {
    opset: 13,
    inputs: [{ name: 'input', shape: inputShape }],
    outputs: [{ name: 'logits' }],
    initializers: [
      { name: 'w', dims: [4, 3, 3, 3], data: seededValues(108, 1), raw: true },
      { name: 'fc', dims: [3, 4], data: seededValues(12, 2) },
    ],
    nodes: [
      { op: 'Conv', name: '/features/Conv', inputs: ['input', 'w'], outputs: ['c'], attrs: [{ name: 'pads', ints: [1, 1, 1, 1] }, { name: 'kernel_shape', ints: [3, 3] }] },
      { op: 'Relu', name: '/features/Relu', inputs: ['c'], outputs: ['r'] },
      { op: 'GlobalAveragePool', name: '/pool/GlobalAveragePool', inputs: ['r'], outputs: ['g'] },
      { op: 'Flatten', name: '/Flatten', inputs: ['g'], outputs: ['f'] },
      { op: 'Gemm', name: '/fc/Gemm', inputs: ['f', 'fc'], outputs: ['logits'], attrs: [{ name: 'transB', i: 1 }] },
    ],
  };
}

function onnxCase(name: string, change: (spec: ModelSpec) => void): CaseFile {
  const spec = onnxSpec();
  change(spec);
  return { name, data: encodeOnnx(spec) };
}

const encoder = new TextEncoder();
const text = (name: string, content: string): CaseFile => ({ name, data: encoder.encode(content) });

/** A string that would run script or add elements if it reached innerHTML. */
export const INJECTION_MARKER = '__studioInjected';
export const HTML_LABELS = [
  `<img src=x onerror="window.${INJECTION_MARKER}=1">`,
  `<script>window.${INJECTION_MARKER}=2</script>`,
  '<b id="injected-bold">bold</b> & "quoted"',
];
export const HTML_MODEL_FOLDER = `<svg onload="window.${INJECTION_MARKER}=3">model`;
export const HTML_LAYER_NAME = `<img id="injected-layer" src=x onerror="window.${INJECTION_MARKER}=4">`;

// ---------------------------------------------------------------- small models made in Node

async function exported(build: () => tf.LayersModel, labels?: string[]): Promise<CaseFile[]> {
  await tf.setBackend('cpu');
  const model = build();
  try {
    return await exportLayersModelAsTfjs(model, labels);
  } finally {
    model.dispose();
  }
}

const seeded = (seed: number) => ({ kernelInitializer: tf.initializers.glorotNormal({ seed }) });

/** The good model of the spec (nested, 16×16×3, three labels) and its image. */
export async function goodFiles(): Promise<CaseFile[]> {
  const { files } = await tinyModelFiles();
  const image = tinyImage();
  return [...files, image].map((f) => ({ name: f.name, data: new Uint8Array(Buffer.from(f.base64, 'base64')) }));
}

async function goodModel(): Promise<CaseFile[]> {
  return (await goodFiles()).filter((f) => f.name !== 'tiny.png');
}

function replaceFile(files: CaseFile[], name: string, data: Uint8Array): CaseFile[] {
  return files.map((f) => (f.name === name ? { name, data } : f));
}

function withoutFile(files: CaseFile[], name: string): CaseFile[] {
  return files.filter((f) => f.name !== name);
}

function fileData(files: CaseFile[], name: string): Uint8Array {
  const found = files.find((f) => f.name === name);
  if (!found) throw new Error(`no ${name} among ${files.map((f) => f.name).join(', ')}`);
  return found.data;
}

type Json = Record<string, unknown>;

/** Change the first leaf layer (anywhere in the nested topology) whose class is `fromClass`. */
function editFirstLayer(modelJson: Uint8Array, fromClass: string, edit: (layer: Json) => void): Uint8Array {
  const json = JSON.parse(new TextDecoder().decode(modelJson)) as Json;
  let done = false;
  const visit = (node: unknown): void => {
    if (done || !node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(visit);
    const record = node as Json;
    if (record.class_name === fromClass) {
      edit(record);
      done = true;
      return;
    }
    Object.values(record).forEach(visit);
  };
  visit(json.modelTopology);
  if (!done) throw new Error(`no ${fromClass} layer to edit`);
  return encoder.encode(JSON.stringify(json));
}

function layerNameOf(layer: Json): string {
  return String((layer.config as Json).name);
}

function spatialModel(inputShape: number[], name: string): { input: tf.SymbolicTensor; features: tf.SymbolicTensor } {
  const input = tf.input({ shape: inputShape, name: `${name}_input` });
  const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: `${name}_conv`, ...seeded(3) });
  const features = tf.layers.globalAveragePooling2d({ name: `${name}_gap` }).apply(conv.apply(input)) as tf.SymbolicTensor;
  return { input, features };
}

async function multiInputModel(): Promise<CaseFile[]> {
  return exported(() => {
    const { input, features } = spatialModel([16, 16, 3], 'two_in');
    const extra = tf.input({ shape: [4], name: 'two_in_extra' });
    const joined = tf.layers.concatenate({ name: 'two_in_concat' }).apply([features, extra]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, activation: 'softmax', name: 'two_in_out', ...seeded(4) }).apply(joined) as tf.SymbolicTensor;
    return tf.model({ inputs: [input, extra], outputs: out, name: 'two_inputs' });
  });
}

export async function multiOutputModel(): Promise<CaseFile[]> {
  return exported(() => {
    const { input, features } = spatialModel([16, 16, 3], 'two_out');
    const classes = tf.layers.dense({ units: 3, activation: 'softmax', name: 'two_out_classes', ...seeded(5) }).apply(features) as tf.SymbolicTensor;
    const box = tf.layers.dense({ units: 4, name: 'two_out_box', ...seeded(6) }).apply(features) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: [classes, box], name: 'two_outputs' });
  }, ['cat', 'dog', 'bird']);
}

async function flatModel(): Promise<CaseFile[]> {
  return exported(() =>
    tf.sequential({
      name: 'flat_only',
      layers: [tf.layers.flatten({ inputShape: [16, 16, 3], name: 'flat_flatten' }), tf.layers.dense({ units: 3, activation: 'softmax', name: 'flat_out', ...seeded(7) })],
    }),
  );
}

async function vectorInputModel(): Promise<CaseFile[]> {
  return exported(() => tf.sequential({ name: 'vector_in', layers: [tf.layers.dense({ inputShape: [10], units: 3, activation: 'softmax', name: 'vector_out', ...seeded(8) })] }));
}

/** About 205 000 weights: 1.6 MB estimated, above a 1 MB budget, still quick to load. */
async function largeModel(): Promise<CaseFile[]> {
  return exported(() => {
    const { input } = spatialModel([16, 16, 3], 'large');
    const conv = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'large_conv8', ...seeded(9) }).apply(input) as tf.SymbolicTensor;
    const flat = tf.layers.flatten({ name: 'large_flatten' }).apply(conv) as tf.SymbolicTensor;
    const wide = tf.layers.dense({ units: 100, activation: 'relu', name: 'large_wide', ...seeded(10) }).apply(flat) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, activation: 'softmax', name: 'large_out', ...seeded(11) }).apply(wide) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: out, name: 'large_model' });
  });
}

/** The good model with HTML in its labels, zipped in a folder whose name (the model's name) is HTML too. */
async function htmlNamedModel(): Promise<CaseFile[]> {
  const files = await goodModel();
  const metadata = text('metadata.json', JSON.stringify({ labels: HTML_LABELS }));
  const entries: Record<string, Uint8Array> = {};
  for (const f of replaceFile(files, 'metadata.json', metadata.data)) entries[`${HTML_MODEL_FOLDER}/${f.name}`] = f.data;
  return [{ name: 'html-names.zip', data: zipSync(entries) }];
}

/** The good model with its input shape set to `shape` (every batch_input_shape). */
async function goodModelWithInput(shape: string): Promise<CaseFile[]> {
  const files = await goodModel();
  const json = new TextDecoder().decode(fileData(files, 'model.json'));
  const edited = json.replace(/"batch_input_shape":\[null,16,16,3\]/g, `"batch_input_shape":${shape}`);
  if (edited === json) throw new Error('no 16×16×3 input to edit');
  return replaceFile(files, 'model.json', encoder.encode(edited));
}

/** The first layer of class `fromClass` renamed to `to` everywhere the model refers to it. */
function renamedLayer(files: CaseFile[], fromClass: string, to: string): CaseFile[] {
  let from = '';
  editFirstLayer(fileData(files, 'model.json'), fromClass, (l) => (from = layerNameOf(l)));
  const json = new TextDecoder().decode(fileData(files, 'model.json')).split(JSON.stringify(from)).join(JSON.stringify(to));
  return replaceFile(files, 'model.json', encoder.encode(json));
}

/** A layer name of 10 000 characters (valid for tfjs: letters only). */
export const LONG_LAYER_NAME = `very_long_${'x'.repeat(10_000)}`;

/** Conv (named LONG_LAYER_NAME) → GAP → Dense: the long-named layer is the default layer. */
async function longNameModel(): Promise<CaseFile[]> {
  return exported(() => {
    const input = tf.input({ shape: [16, 16, 3], name: 'long_input' });
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: LONG_LAYER_NAME, ...seeded(12) }).apply(input) as tf.SymbolicTensor;
    const gap = tf.layers.globalAveragePooling2d({ name: 'long_gap' }).apply(conv) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, activation: 'softmax', name: 'long_out', ...seeded(13) }).apply(gap) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: out, name: 'long_names' });
  });
}

// ---------------------------------------------------------------- images made in Node

function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'ascii'), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG made chunk by chunk: greyscale at `bitDepth`, `rows` = filtered scanlines (deflated here). */
function rawPng(width: number, height: number, bitDepth: number, rows: Uint8Array | null): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = 0; // greyscale
  const parts = [PNG_SIGNATURE, pngChunk('IHDR', ihdr)];
  if (rows) parts.push(pngChunk('IDAT', deflateSync(rows, { level: 9 })));
  parts.push(pngChunk('IEND', new Uint8Array(0)));
  return new Uint8Array(Buffer.concat(parts));
}

/** 20000×20000, one bit per pixel, mostly white with black rows: 50 MB of scanlines, a few tens of KB as PNG. */
function hugePng(): Uint8Array {
  const side = 20_000;
  const rowBytes = 1 + Math.ceil(side / 8);
  const rows = new Uint8Array(rowBytes * side);
  for (let y = 0; y < side; y++) {
    // Horizontal stripes (filter byte 0 at the start of each row) so that the image is not one colour.
    if (Math.floor(y / 2000) % 2 === 0) rows.fill(0xff, y * rowBytes + 1, (y + 1) * rowBytes);
  }
  return rawPng(side, side, 1, rows);
}

/** LZW for GIF with a clear code before every pixel: codes stay (minCodeSize + 1) bits wide. */
function gifLzw(indices: number[], minCodeSize: number): Uint8Array {
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const width = minCodeSize + 1;
  const codes = indices.flatMap((i) => [clear, i]).concat(end);
  const bytes: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const code of codes) {
    acc |= code << bits;
    bits += width;
    while (bits >= 8) {
      bytes.push(acc & 0xff);
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) bytes.push(acc & 0xff);
  const out: number[] = [minCodeSize];
  for (let i = 0; i < bytes.length; i += 255) {
    const block = bytes.slice(i, i + 255);
    out.push(block.length, ...block);
  }
  out.push(0);
  return new Uint8Array(out);
}

/** A looping two-frame 32×24 GIF: frame 1 a white square on blue, frame 2 all red. */
function animatedGif(): Uint8Array {
  const w = 32;
  const h = 24;
  const u16 = (n: number) => [n & 0xff, n >> 8];
  const palette = [0, 0, 160, 255, 255, 255, 220, 0, 0, 0, 0, 0]; // blue, white, red, black
  const frame = (pixel: (x: number, y: number) => number) => {
    const indices: number[] = [];
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) indices.push(pixel(x, y));
    return [
      ...[0x21, 0xf9, 4, 0, ...u16(20), 0, 0], // graphic control: 0.2 s
      ...[0x2c, ...u16(0), ...u16(0), ...u16(w), ...u16(h), 0],
      ...gifLzw(indices, 2),
    ];
  };
  const bytes = [
    ...encoder.encode('GIF89a'),
    ...u16(w),
    ...u16(h),
    0x81, // global colour table of 4 entries
    0,
    0,
    ...palette,
    ...[0x21, 0xff, 11, ...encoder.encode('NETSCAPE2.0'), 3, 1, 0, 0, 0],
    ...frame((x, y) => (x > 8 && x < 20 && y > 6 && y < 18 ? 1 : 0)),
    ...frame(() => 2),
    0x3b,
  ];
  return new Uint8Array(bytes);
}

/**
 * A camera JPEG stored landscape (4800×600: left half red, right half blue) with EXIF Orientation 6
 * (turn 90° clockwise to show): shown portrait 600×4800, so it must be downscaled to 512×4096 with red on top.
 */
function turnedJpeg(): Uint8Array {
  const width = 4800;
  const height = 600;
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data.set(x < width / 2 ? [220, 30, 30, 255] : [30, 30, 220, 255], (y * width + x) * 4);
  return withExifOrientation(new Uint8Array(jpeg.encode({ width, height, data }, 85).data), 6);
}

/** 69 bytes: a PNG signature and an IHDR claiming 20000×20000 RGBA, an empty IDAT and IEND. */
function pngBomb(): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(20_000, 0);
  ihdr.writeUInt32BE(20_000, 4);
  ihdr[8] = 8;
  ihdr[9] = 6; // RGBA
  // 12 bytes of zlib data: a few filter bytes, far too little for 20000 rows.
  const idat = new Uint8Array(12);
  idat.set(deflateSync(new Uint8Array(4)).subarray(0, 12));
  const bytes = new Uint8Array(Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', new Uint8Array(0))]));
  if (bytes.length !== 69) throw new Error(`the bomb has ${bytes.length} bytes`);
  return bytes;
}

const SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><rect width="64" height="48" fill="#2040a0"/><circle cx="20" cy="24" r="10" fill="#fff"/></svg>`;

// ---------------------------------------------------------------- the table

function fixture(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, ...parts)));
}

export const BAD_INPUT_CASES: BadInputCase[] = [
  {
    id: 'model-json-not-json',
    description: 'model.json that is not JSON',
    files: async () => replaceFile(await goodModel(), 'model.json', encoder.encode('this is not JSON at all')),
    expectCode: 'MODEL_JSON_INVALID',
    expectText: /model\.json is not valid JSON/,
    keepsState: true,
  },
  {
    id: 'model-json-truncated',
    description: 'model.json cut in the middle',
    files: async () => {
      const files = await goodModel();
      const json = fileData(files, 'model.json');
      return replaceFile(files, 'model.json', json.subarray(0, Math.floor(json.length / 2)));
    },
    expectCode: 'MODEL_JSON_INVALID',
    expectText: /model\.json is not valid JSON \(.+\)/,
    keepsState: true,
  },
  {
    id: 'json-not-tfjs',
    description: 'JSON that is not a TF.js model (a package.json renamed)',
    files: async () => [text('model.json', JSON.stringify({ name: 'my-app', version: '1.0.0', dependencies: {} }))],
    expectCode: 'NOT_A_TFJS_MODEL',
    expectText: /model\.json is JSON but not a TF\.js model/,
    keepsState: true,
  },
  {
    id: 'missing-shard',
    description: 'model.json and metadata.json without weights.bin',
    files: async () => withoutFile(await goodModel(), 'weights.bin'),
    expectCode: 'MISSING_SHARD',
    expectText: /Weight file "weights\.bin" is missing/,
    keepsState: true,
  },
  {
    id: 'shard-short',
    description: 'weights.bin 8 bytes shorter than the manifest says',
    files: async () => {
      const files = await goodModel();
      const weights = fileData(files, 'weights.bin');
      return replaceFile(files, 'weights.bin', weights.subarray(0, weights.length - 8));
    },
    expectCode: 'SHARD_SIZE_MISMATCH',
    expectText: /"weights\.bin" has (\d+) bytes but the manifest says (\d+)/,
    keepsState: true,
  },
  {
    id: 'shard-long',
    description: 'weights.bin 8 bytes longer than the manifest says',
    files: async () => {
      const files = await goodModel();
      const weights = fileData(files, 'weights.bin');
      const longer = new Uint8Array(weights.length + 8);
      longer.set(weights);
      return replaceFile(files, 'weights.bin', longer);
    },
    expectCode: 'SHARD_SIZE_MISMATCH',
    expectText: /"weights\.bin" has (\d+) bytes but the manifest says (\d+)/,
    keepsState: true,
  },
  {
    id: 'unsupported-custom-layer',
    description: 'a layer of a custom class (MyCustomActivation)',
    files: async () => {
      const files = await goodModel();
      return replaceFile(files, 'model.json', editFirstLayer(fileData(files, 'model.json'), 'ReLU', (l) => (l.class_name = 'MyCustomActivation')));
    },
    expectCode: 'UNSUPPORTED_LAYER',
    expectText: /Layer "[^"]*relu[^"]*" uses class MyCustomActivation/,
    keepsState: true,
  },
  {
    id: 'lambda-layer',
    description: 'a Keras Lambda layer (Python code in the file)',
    files: async () => {
      const files = await goodModel();
      const json = editFirstLayer(fileData(files, 'model.json'), 'ReLU', (l) => {
        l.class_name = 'Lambda';
        l.config = { name: layerNameOf(l), function: ['4wEAAAAAAAAAAQAAAAQAAABTAAAAcwgAAAB8AGQBFABTACkCTg==', null, null], trainable: true };
      });
      return replaceFile(files, 'model.json', json);
    },
    expectCode: 'UNSUPPORTED_LAYER',
    expectText: /Layer "[^"]*relu[^"]*" uses class Lambda/,
    keepsState: true,
  },
  {
    id: 'html-layer-name',
    description: 'a layer whose name is HTML (tfjs refuses the name; the message shows it as text)',
    files: async () => {
      const files = await goodModel();
      return replaceFile(files, 'model.json', editFirstLayer(fileData(files, 'model.json'), 'ReLU', (l) => ((l.config as Json).name = HTML_LAYER_NAME)));
    },
    expectCode: 'MODEL_BUILD_FAILED',
    expectText: new RegExp(HTML_LAYER_NAME.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    keepsState: true,
    checks: ['no-injection'],
  },
  {
    id: 'multi-input',
    description: 'a model with an image input and a vector input',
    files: multiInputModel,
    expectCode: 'MULTI_INPUT',
    expectText: /This model has 2 inputs/,
    keepsState: true,
  },
  {
    id: 'input-not-image',
    description: 'a model whose input is a vector of 10 numbers',
    files: async () => [...(await vectorInputModel()), { name: 'tiny.png', data: fileData(await goodFiles(), 'tiny.png') }],
    expectCode: 'INPUT_NOT_IMAGE',
    expectText: /input shape \[null, 10\] is not an image/,
    keepsState: true,
  },
  {
    id: 'image-not-decodable',
    description: 'photo.png: a PNG signature and header followed by garbage',
    files: async () => {
      const header = rawPng(32, 32, 8, null).subarray(0, 33);
      const garbage = new Uint8Array(400).map((_, i) => (i * 97 + 13) & 0xff);
      return [{ name: 'photo.png', data: new Uint8Array([...header, ...garbage]) }];
    },
    expectCode: 'IMAGE_DECODE_FAILED',
    expectText: /photo\.png could not be decoded as an image/,
    keepsState: true,
  },
  {
    id: 'image-zero-size',
    description: 'empty.png: a PNG whose header says 0×0',
    files: async () => [{ name: 'empty.png', data: rawPng(0, 0, 8, new Uint8Array(0)) }],
    expectCode: 'IMAGE_EMPTY',
    expectText: /empty\.png has no pixels \(0×0\)/,
    keepsState: true,
  },
  {
    id: 'svg-broken',
    description: 'broken.svg: an SVG that is not well-formed (neither the page nor the worker can draw it)',
    files: async () => [text('broken.svg', '<svg xmlns="http://www.w3.org/2000/svg" width="10"><rect width="5" height="5"></svg')],
    expectCode: 'IMAGE_SVG_UNSUPPORTED',
    expectText: /broken\.svg is an SVG drawing that could not be rasterised/,
    keepsState: true,
  },
  {
    id: 'input-1x1',
    description: 'a model whose input is 1×1 pixels (batch_input_shape [null,1,1,3])',
    files: () => goodModelWithInput('[null,1,1,3]'),
    expectCode: 'INPUT_SIZE_INVALID',
    expectText: /input shape \[null,1,1,3\] cannot be used: an image input needs at least 2×2 pixels, this one is 1×1/,
    keepsState: true,
    withinMs: 5000,
  },
  {
    id: 'input-0x0',
    description: 'a model whose input is 0×0 pixels',
    files: () => goodModelWithInput('[null,0,0,3]'),
    expectCode: 'INPUT_SIZE_INVALID',
    expectText: /input shape \[null,0,0,3\] cannot be used: layer "[^"]+" has a dimension of 0/,
    keepsState: true,
    withinMs: 5000,
  },
  {
    id: 'input-negative',
    description: 'a model whose input is −4 pixels high',
    files: () => goodModelWithInput('[null,-4,16,3]'),
    expectCode: 'INPUT_SIZE_INVALID',
    expectText: /has a dimension of -4; sizes must be positive whole numbers/,
    keepsState: true,
    withinMs: 5000,
  },
  {
    id: 'input-huge',
    description: 'a model whose input is 100000×100000 pixels',
    files: () => goodModelWithInput('[null,100000,100000,3]'),
    expectCode: 'INPUT_SIZE_INVALID',
    expectText: /one 100000×100000×3 image alone needs 111\.8 GB as floats/,
    keepsState: true,
    withinMs: 5000,
  },
  {
    id: 'zero-strides',
    description: 'a convolution with strides [0, 0]',
    files: async () => {
      const files = await goodModel();
      return replaceFile(files, 'model.json', editFirstLayer(fileData(files, 'model.json'), 'Conv2D', (l) => ((l.config as Json).strides = [0, 0])));
    },
    expectCode: 'MODEL_CONFIG_INVALID',
    expectText: /Layer "[^"]+" has strides \[0,0\]: strides must be positive whole numbers/,
    keepsState: true,
    withinMs: 5000,
  },
  {
    id: 'layer-named-toString',
    description: 'a layer named "toString" (a name JavaScript objects already have)',
    files: async () => renamedLayer(await goodModel(), 'ReLU', 'toString'),
    expectCode: 'MODEL_CONFIG_INVALID',
    expectText: /Layer "toString" has name "toString": this name is reserved in JavaScript/,
    keepsState: true,
  },
  {
    id: 'layer-named-proto',
    description: 'a layer named "__proto__"',
    files: async () => renamedLayer(await goodModel(), 'ReLU', '__proto__'),
    expectCode: 'MODEL_CONFIG_INVALID',
    expectText: /Layer "__proto__" has name "__proto__": this name is reserved in JavaScript/,
    keepsState: true,
  },
  {
    id: 'h5-damaged-signature',
    description: 'model.h5 whose HDF5 signature is damaged',
    files: async () => [{ name: 'model.h5', data: new Uint8Array([0x89, 0x00, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(600)]) }],
    expectCode: 'KERAS_UNSUPPORTED',
    expectText: /model\.h5 is not an HDF5 file: it starts with 89 00 44 46 0d 0a 1a 0a, not the signature/,
    keepsState: true,
  },
  {
    id: 'image-tiff',
    description: 'scan.tif, a TIFF image (opened with Open image…)',
    files: async () => [{ name: 'scan.tif', data: new Uint8Array([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, ...new Uint8Array(120)]) }],
    expectCode: 'IMAGE_FORMAT_UNSUPPORTED',
    expectText: /scan\.tif is a TIFF image, which browsers cannot decode; convert it to PNG or JPEG/,
    keepsState: true,
  },
  {
    id: 'image-heic',
    description: 'IMG_0001.HEIC, an iPhone photo',
    files: async () => [{ name: 'IMG_0001.HEIC', data: new Uint8Array([0, 0, 0, 24, ...encoder.encode('ftypheic'), 0, 0, 0, 0, ...encoder.encode('mif1heic'), ...new Uint8Array(200)]) }],
    expectCode: 'IMAGE_FORMAT_UNSUPPORTED',
    expectText: /IMG_0001\.HEIC is a HEIC\/HEIF image, which browsers cannot decode/,
    keepsState: true,
  },
  {
    id: 'image-header-bomb',
    description: 'a 69-byte PNG whose header claims 20000×20000 pixels (refused at once)',
    files: async () => [{ name: 'bomb.png', data: pngBomb() }],
    expectCode: 'IMAGE_CORRUPT',
    expectText: /bomb\.png is not a readable image: its header says 20000×20000 pixels, which needs at least 1\.\d MB, but the file has 69 bytes/,
    keepsState: true,
    withinMs: 2000,
  },
  {
    id: 'fixture-tm-input-8x8',
    description: 'the Teachable Machine export with an 8×8 input (MobileNet shrinks it to nothing)',
    needsFixtures: true,
    files: async () => [
      { name: 'model.json', data: encoder.encode(new TextDecoder().decode(fixture('models/tm-gestures/model.json')).replace('"batch_input_shape":[null,224,224,3]', '"batch_input_shape":[null,8,8,3]')) },
      { name: 'metadata.json', data: fixture('models/tm-gestures/metadata.json') },
      { name: 'weights.bin', data: fixture('models/tm-gestures/weights.bin') },
    ],
    expectCode: 'LAYER_OUTPUT_EMPTY',
    expectText: /Layer "[^"]+\/model1\/block_6_depthwise" would output \[null, 0, 0, 96\] for this model's 8×8 input/,
    keepsState: true,
    withinMs: 5000,
  },
  {
    id: 'fixture-tm-half-weights',
    description: 'the Teachable Machine fixture with half of weights.bin',
    needsFixtures: true,
    files: async () => {
      const weights = fixture('models/tm-gestures/weights.bin');
      return [
        { name: 'model.json', data: fixture('models/tm-gestures/model.json') },
        { name: 'metadata.json', data: fixture('models/tm-gestures/metadata.json') },
        { name: 'weights.bin', data: weights.subarray(0, Math.floor(weights.length / 2)) },
      ];
    },
    expectCode: 'SHARD_SIZE_MISMATCH',
    expectText: /"weights\.bin" has (\d+) bytes but the manifest says (\d+)/,
    keepsState: true,
  },
  // ---- drops that are taken, with a warning
  {
    id: 'extra-files',
    description: 'the good model and image with unrelated notes.txt, README.md and Thumbs.db',
    files: async () => [...(await goodFiles()), text('notes.txt', 'my notes'), text('README.md', '# readme'), { name: 'Thumbs.db', data: new Uint8Array([1, 2, 3, 4]) }],
    expectCode: 'UNKNOWN_FILE',
    expectText: /notes\.txt is neither a model file nor an image; ignored/,
    keepsState: false,
    warningOnly: true,
  },
  {
    id: 'weights-nonfinite',
    description: 'weights.bin with a NaN and an Infinity in the first weight',
    files: async () => {
      const files = await goodModel();
      const weights = fileData(files, 'weights.bin').slice();
      const view = new DataView(weights.buffer);
      view.setFloat32(0, NaN, true);
      view.setFloat32(4, Infinity, true);
      return replaceFile(files, 'weights.bin', weights);
    },
    expectCode: 'WEIGHTS_NONFINITE',
    expectText: /Weights contain NaN or Infinity \(.+\)/,
    keepsState: false,
    warningOnly: true,
  },
  {
    id: 'multi-output',
    description: 'a model with a class output and a box output',
    files: multiOutputModel,
    expectCode: 'MULTI_OUTPUT',
    expectText: /This model has 2 outputs; explaining ".+" — pick another output in the target panel/,
    keepsState: false,
    warningOnly: true,
  },
  {
    id: 'no-spatial-layer',
    description: 'Flatten → Dense only: no layer for Grad-CAM, guided backprop still works',
    files: flatModel,
    expectCode: 'NO_SPATIAL_LAYER',
    expectText: /Grad-CAM cannot run; guided backprop still works/,
    keepsState: false,
    warningOnly: true,
    checks: ['guided-backprop-only'],
  },
  {
    id: 'image-huge',
    description: 'a 20000×20000 PNG (decoded downscaled, no crash)',
    files: async () => [{ name: 'huge.png', data: hugePng() }],
    expectCode: 'IMAGE_DOWNSCALED',
    expectText: /huge\.png is 20000×20000; it was downscaled to 4096×4096/,
    keepsState: false,
    warningOnly: true,
  },
  {
    id: 'image-exif-turned',
    description: 'a 4800×600 JPEG with EXIF orientation 6 (shown 600×4800): downscaled upright, not squashed',
    files: async () => [{ name: 'turned.jpg', data: turnedJpeg() }],
    expectCode: 'IMAGE_DOWNSCALED',
    expectText: /turned\.jpg is 600×4800; it was downscaled to 512×4096/,
    keepsState: false,
    warningOnly: true,
    checks: ['portrait-upright'],
  },
  {
    id: 'metadata-json-broken',
    description: 'the good model with a metadata.json that is not JSON (labels fall back, said)',
    files: async () => replaceFile(await goodFiles(), 'metadata.json', encoder.encode('{"labels": ["a", "b"')),
    expectCode: 'MODEL_JSON_INVALID',
    expectText: /metadata\.json is not valid JSON/,
    keepsState: false,
    warningOnly: true,
  },
  {
    id: 'layer-name-10kB',
    description: 'a model whose spatial layer has a 10 000-character name (one line on screen, bounded file name)',
    files: async () => [...(await longNameModel()), { name: 'tiny.png', data: fileData(await goodFiles(), 'tiny.png') }],
    expectCode: null,
    expectText: /long_names/,
    keepsState: false,
    warningOnly: true,
    checks: ['long-name-one-line'],
  },
  {
    id: 'image-animated-gif',
    description: 'a looping two-frame GIF (the first frame is used)',
    files: async () => [{ name: 'anim.gif', data: animatedGif() }],
    expectCode: 'IMAGE_ANIMATED',
    expectText: /anim\.gif is animated; its first frame is used/,
    keepsState: false,
    warningOnly: true,
  },
  {
    id: 'image-svg',
    description: 'drawing.svg: rasterised on the page and explained as a PNG',
    files: async () => [text('drawing.svg', SVG)],
    expectCode: null,
    expectText: /drawing\.png \(64×48\)/,
    keepsState: false,
    warningOnly: true,
  },
  {
    id: 'html-labels-and-name',
    description: 'a zip whose folder (the model name) and labels are HTML/script',
    files: async () => [...(await htmlNamedModel()), { name: 'tiny.png', data: fileData(await goodFiles(), 'tiny.png') }],
    expectCode: null,
    expectText: new RegExp(HTML_MODEL_FOLDER.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    keepsState: false,
    warningOnly: true,
    checks: ['no-injection', 'labels-verbatim'],
  },
  {
    id: 'model-too-large',
    description: 'a 205 000-weight model on a page with a 1 MB memory budget (warned before loading)',
    files: largeModel,
    expectCode: 'MODEL_TOO_LARGE',
    expectText: /needs about 2 MB, above the 1 MB memory budget/,
    keepsState: false,
    warningOnly: true,
    pageQuery: 'memoryBudgetMb=1',
    checks: ['warned-before-load'],
  },
  {
    id: 'onnx-not-protobuf',
    description: 'model.onnx that is JSON, not a protobuf',
    files: async () => [text('model.onnx', '{"graph": "no"}')],
    expectCode: 'ONNX_INVALID',
    expectText: /model\.onnx is not a readable ONNX model \(it does not start like a protobuf ModelProto\)/,
    keepsState: true,
  },
  {
    id: 'onnx-truncated',
    description: 'an ONNX file cut in half',
    files: async () => {
      const data = encodeOnnx(onnxSpec());
      return [{ name: 'half.onnx', data: data.subarray(0, Math.floor(data.length / 2)) }];
    },
    expectCode: 'ONNX_INVALID',
    expectText: /truncated/,
    keepsState: true,
  },
  {
    id: 'onnx-external-data-missing',
    description: 'an ONNX model whose weights are in model.onnx.data, dropped without it',
    files: async () => [onnxCase('model.onnx', (s) => {
      s.initializers![0] = { name: 'w', dims: [4, 3, 3, 3], external: { location: 'model.onnx.data', offset: 0, length: 432 } };
    })],
    expectCode: 'ONNX_EXTERNAL_DATA_MISSING',
    expectText: /keeps the weight w in model\.onnx\.data/,
    keepsState: true,
  },
  {
    id: 'onnx-two-inputs',
    description: 'an ONNX model with two image inputs',
    files: async () => [onnxCase('two.onnx', (s) => s.inputs.push({ name: 'second', shape: [1, 3, 16, 16] }))],
    expectCode: 'MULTI_INPUT',
    expectText: /2 inputs/,
    keepsState: true,
  },
  {
    id: 'onnx-unsupported-op',
    description: 'an ONNX model with an op the reader cannot run (Celu)',
    files: async () => [onnxCase('celu.onnx', (s) => {
      s.nodes[1] = { op: 'Celu', name: '/features/Celu', inputs: ['c'], outputs: ['r'] };
    })],
    expectCode: 'ONNX_OP_UNSUPPORTED',
    expectText: /uses Celu \(node "\/features\/Celu", opset 13\)/,
    keepsState: true,
  },
  {
    id: 'onnx-int8',
    description: 'an ONNX model with int8 (quantized) weights',
    files: async () => [onnxCase('int8.onnx', (s) => s.initializers!.push({ name: 'q', dims: [4], dataType: 3, data: [1, 2, 3, 4], raw: true }))],
    expectCode: 'ONNX_DTYPE_UNSUPPORTED',
    expectText: /stores q as int8/,
    keepsState: true,
  },
  {
    id: 'onnx-dynamic-size',
    description: 'an ONNX model with a dynamic height and width (opens at 224×224)',
    files: async () => [{ name: 'dynamic.onnx', data: encodeOnnx(onnxSpec(['batch', 3, 'height', 'width'])) }],
    expectCode: 'INPUT_SIZE_ASSUMED',
    expectText: /resized to 224×224/,
    keepsState: false,
    warningOnly: true,
  },
];

