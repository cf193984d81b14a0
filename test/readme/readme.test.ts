/**
 * Every ```js block of README.md runs, as written, the way its reader would run it. The blocks are read from
 * README.md when this file runs, so a README edit is covered without touching this test.
 *
 * Where each block runs (chosen from its text, see `kindOf`):
 * - ESM (the default): `block-<line>.mjs` in a temp project whose node_modules/wasmzoo is a symlink to the repo,
 *   so `'wasmzoo'` and `'wasmzoo/onnx'` resolve through package.json `exports` to dist/ as for an installed
 *   package; run by a child `node --experimental-wasm-relaxed-simd` with cwd = that project. A block that does not
 *   import wasmzoo gets `import * as wasmzoo from 'wasmzoo';` first (the README's snippets assume it).
 * - CommonJS (a block that calls `require(`): the same as `block-<line>.cjs`.
 * - Deno (a block importing 'npm:wasmzoo'): node_modules/.bin/deno, offline (a fresh DENO_DIR, no config, no
 *   lock), with an import map sending 'npm:wasmzoo' to dist/wasmzoo.mjs (Deno applies import maps to `npm:`
 *   specifiers, so the block's text is not rewritten) and read access to weights/ and assets/ only.
 * - workerd (a block with `export default {` and `fetch(`): the real workerd binary, as
 *   test/platform/workerd.test.ts runs it: the block is the worker's main module, 'wasmzoo' is dist/wasmzoo.mjs,
 *   'wasmzoo/wasm/wasmzoo.simd.wasm' a wasm module and './lenet5-fashion.safetensors' a data module, the names
 *   the block imports; the test POSTs shipped sample 0 to it.
 *
 * Names a block takes as given (it uses them and does not declare them) come from a prelude: GIVENS below is the
 * contract of what README examples may leave undefined. In short (section: name = what):
 *   any: pixels = shipped sample 0 (an ankle boot), normalised (p / 255 - 0.286) / 0.353, Float32Array(784)
 *   Layers: bytesOfATorchStateDictAsSafetensors = the Sequential's state dict (hashed), image = [1, 3, 32, 32] data
 *   Model builders: sha256 = hex digest of https://example.com/gru.safetensors, onProgress = a recording callback
 *   LeNet-5: weights = the shipped weights' bytes
 *   The CNN zoo: imageData = a 64x48 RGBA ImageData-like; files resnet50.safetensors, resnet18-f37072fd.pth (hashed)
 *   Sequence models: weights = LSTM(128, 256, 2 layers) state dict, x = [2, 5, 128], xt, xt2 = [2, 128]
 *   Training: x, y = 48 shipped images and labels, xTest, yTest = 16 more, xb, yb = a batch of 16, signal
 *   Autoencoder and VAE: x = 8 images [8, 784] in [0, 1], z = [8, 32], xa, xb = one image each
 *   Weights for apps: sha256 of https://example.com/resnet18.safetensors, bar = a <progress>, caches = Cache Storage
 *   ONNX models: data = [1, 3, 224, 224] values, x = a [1, 3, 224, 224] Tensor, bytes = resnet18.onnx (also a file)
 * Each given is real data of the right shape (shipped samples, shipped weights, or weights from the closed-form
 * hash, `hashWeights` / `hashTensor`), small where the README leaves the size open. A given is prepended only to
 * blocks that use the name and do not declare it; a name that means different things in different sections is
 * keyed by the section's heading. Files a block reads by relative path (`'resnet50.safetensors'`,
 * `'resnet18-f37072fd.pth'`, `'resnet18.onnx'`) are written into the project first (beforeAll). Every Node block also gets a `fetch` that serves https://example.com/<name> from the
 * project's served/<name> (a real Response with Content-Length) and refuses every other host, so nothing touches
 * the network.
 *
 * CHECKS adds, per block, code run after it (it sees the block's names) and what its output must show: what the
 * README's comments say it prints or returns, or, for a block that prints nothing, that its results have the
 * shapes and values the prose promises. A block that throws, exits non-zero or runs past LIMIT_MS fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashWeights, init, nn, readSafetensors, resnet18, resnet50, sequenceGRU, writeSafetensors, hashTensor } from '../../src/index.js';
import { tensor as pthTensor, writePth } from '../io/pth-writer.mjs';
import { fillHashed } from '../onnx/hashed-onnx.js';
import { ProtoReader, WIRE_LEN } from '../../src/onnx/protobuf.js';
import { assertBuilt, DIST, ROOT, run, type RunResult } from '../platform/helpers.js';

const LIMIT_MS = 30_000;
const DENO = join(ROOT, 'node_modules/.bin/deno');
const WORKERD = join(ROOT, 'node_modules/.bin/workerd');

// ---- the blocks ---------------------------------------------------------------------------------------------

type Kind = 'esm' | 'cjs' | 'deno' | 'workerd';
interface Block { line: number; heading: string; code: string; kind: Kind }

/** Fenced ```js blocks (also indented ones, inside list items), each with its line and the heading above it. */
function readmeBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const h = /^#+\s+(.*)$/.exec(lines[i]!);
    if (h) heading = h[1]!.trim();
    const open = /^(\s*)```js\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.slice(Math.min(indent, /^\s*/.exec(lines[j]!)![0].length)));
    if (j === lines.length) throw new Error(`README.md:${i + 1}: unterminated code block`);
    const code = body.join('\n') + '\n';
    blocks.push({ line: i + 1, heading, code, kind: kindOf(code) });
    i = j;
  }
  return blocks;
}

function kindOf(code: string): Kind {
  if (/from\s+['"]npm:wasmzoo['"]/.test(code)) return 'deno';
  if (/^export default \{/m.test(code) && /\bfetch\s*\(/.test(code)) return 'workerd';
  if (/\brequire\s*\(/.test(stripped(code))) return 'cjs';
  return 'esm';
}

/** The code with comments removed and string contents blanked, for looking at names. */
function stripped(code: string): string {
  return code.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\/|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`/g, (m) => (m[0] === '/' ? ' ' : '""'));
}

/**
 * `name` is read somewhere: not a property (`.name`), not an object key (`name:`). A lexical test, not a parser:
 * `a ? name : b` reads as a key; fine for the README's snippets, and a miss shows as a ReferenceError.
 */
function uses(code: string, name: string): boolean {
  return new RegExp(`(?<![.\\w$])${name}(?![\\w$])(?!\\s*:(?!:))`).test(stripped(code));
}

/** `name` is bound by the block: const/let/var (plain or destructured), a function, class, import or arrow parameter. */
function declares(code: string, name: string): boolean {
  const c = stripped(code);
  const n = `\\b${name}\\b`;
  return [
    new RegExp(`\\b(?:const|let|var)\\s+${n}`),
    new RegExp(`\\b(?:const|let|var)\\s+[{[][^=;]*${n}[^=;]*[}\\]]\\s*=`),
    new RegExp(`\\b(?:function|class)\\s+${n}`),
    new RegExp(`\\bimport\\s+(?:\\*\\s+as\\s+)?${n}|\\bimport\\s*\\{[^}]*${n}`),
    new RegExp(`\\(([^()]*${n}[^()]*)\\)\\s*=>`),
  ].some((r) => r.test(c));
}

// ---- what blocks may take as given ----------------------------------------------------------------------------

/**
 * The prelude's helpers every given may use (double-underscore names, which no example uses): `__wz` is the
 * package, `__read` readFileSync, `__samples` the shipped Fashion-MNIST test images, `__images(from, n, norm)` n of
 * them as a Float32Array (`norm`: LeNet-5's normalisation, else pixels / 255), `__sha256(file)` a file's hex digest,
 * `__events` what progress callbacks saw. Synchronous, so the same prelude serves .mjs and .cjs.
 */
const SUPPORT = `
const __samples = __wz.readSafetensors(__read('node_modules/wasmzoo/assets/fashion-samples.safetensors'));
const __images = (from, n, norm) => Float32Array.from(__samples.get('images').bytes.subarray(from * 784, (from + n) * 784),
  (p) => (norm ? (p / 255 - 0.286) / 0.353 : p / 255));
const __labels = (from, n) => __wz.tensor(Float32Array.from(__samples.toNumbers('labels').slice(from, from + n)), [n]);
const __sha256 = (file) => __crypto.createHash('sha256').update(__read(file)).digest('hex');
const __events = [];
let __fetches = 0;
globalThis.fetch = async (input, init) => {
  const url = new URL(typeof input === 'object' && 'url' in input ? input.url : String(input));
  if (url.host !== 'example.com') throw new TypeError('README prelude: no network here; fetch(' + url + ') refused (only https://example.com/ is served)');
  init?.signal?.throwIfAborted();
  __fetches++;
  let bytes;
  try { bytes = __read('served' + url.pathname); } catch { return new Response('not found', { status: 404 }); }
  return new Response(new Uint8Array(bytes), { status: 200, headers: { 'content-length': String(bytes.length) } });
};
`;

interface Given {
  /** The name a block may use without defining it. */
  name: string;
  /** Only for blocks under this heading (a prefix of it); unset: under any heading. */
  heading?: string;
  /** Statements that define it (synchronous; may use the SUPPORT helpers and earlier givens' names). */
  def: string;
  /** Taken when this matches the block's text, instead of when the block uses `name`. */
  when?: RegExp;
}

const GIVENS: Given[] = [
  // Quick start: shipped test image 0 (an ankle boot), normalised as the README says
  { name: 'pixels', def: 'const pixels = __images(0, 1, true);' },
  // Layers: the Sequential's state dict (keys 0.*, 1.* with batch-norm buffers, 5.*) and a 32x32 RGB image
  { name: 'bytesOfATorchStateDictAsSafetensors', heading: 'Layers', def: "const bytesOfATorchStateDictAsSafetensors = new Uint8Array(__read('given/layers.safetensors'));" },
  { name: 'image', heading: 'Layers', def: "const image = __wz.hashTensor(1, 'image', [1, 3, 32, 32]).data;" },
  // Model builders: the GRU's weights at https://example.com/gru.safetensors; its pinned hash; a progress callback
  { name: 'sha256', heading: 'Model builders', def: "const sha256 = __sha256('served/gru.safetensors');" },
  { name: 'onProgress', heading: 'Model builders', def: 'const onProgress = (p) => __events.push(p);' },
  // LeNet-5: the shipped weights as bytes
  { name: 'weights', heading: 'LeNet-5', def: "const weights = new Uint8Array(__read('node_modules/wasmzoo/weights/lenet5-fashion.safetensors'));" },
  // The CNN zoo: an ImageData-like 64x48 RGBA picture
  { name: 'imageData', heading: 'The CNN zoo', def: "const imageData = { width: 64, height: 48, data: Uint8ClampedArray.from(__wz.hashTensor(1, 'picture', [48 * 64 * 4]).data, (v) => 128 + 400 * v) };" },
  // Sequence models: the LSTM(128, 256, 2 layers)'s state dict (hashed), a batch [2, 5, 128] and two steps [2, 128]
  { name: 'weights', heading: 'Sequence models', def: "const weights = new Uint8Array(__read('given/lstm.safetensors'));" },
  { name: 'x', heading: 'Sequence models', def: "const x = __wz.hashTensor(2, 'x', [2, 5, 128]);" },
  { name: 'xt', heading: 'Sequence models', def: "const xt = __wz.hashTensor(3, 'xt', [2, 128]);" },
  { name: 'xt2', heading: 'Sequence models', def: "const xt2 = __wz.hashTensor(4, 'xt2', [2, 128]);" },
  // Training: 48 shipped images to train on, 16 held out, a first batch of 16, a signal nobody aborts
  { name: 'x', heading: 'Training', def: 'const x = __wz.tensor(__images(0, 48, true), [48, 1, 28, 28]);' },
  { name: 'y', heading: 'Training', def: 'const y = __labels(0, 48);' },
  { name: 'xTest', heading: 'Training', def: 'const xTest = __wz.tensor(__images(48, 16, true), [16, 1, 28, 28]);' },
  { name: 'yTest', heading: 'Training', def: 'const yTest = __labels(48, 16);' },
  { name: 'xb', heading: 'Training', def: 'const xb = __wz.tensor(__images(0, 16, true), [16, 1, 28, 28]);' },
  { name: 'yb', heading: 'Training', def: 'const yb = __labels(0, 16);' },
  { name: 'signal', heading: 'Training', def: 'const signal = new AbortController().signal;' },
  // Autoencoder and VAE: 8 shipped images as pixels in [0, 1], a code [8, 32], two images to interpolate between
  { name: 'x', heading: 'Autoencoder', def: 'const x = __wz.tensor(__images(0, 8, false), [8, 784]);' },
  { name: 'z', heading: 'Autoencoder', def: "const z = __wz.hashTensor(5, 'z', [8, 32]);" },
  { name: 'xa', heading: 'Autoencoder', def: 'const xa = __wz.tensor(__images(0, 1, false), [1, 784]);' },
  { name: 'xb', heading: 'Autoencoder', def: 'const xb = __wz.tensor(__images(1, 1, false), [1, 784]);' },
  // Weights for apps: https://example.com/resnet18.safetensors, its pinned hash, a <progress> element, and an
  // in-memory Cache Storage (what a browser has as globalThis.caches; Node has none)
  { name: 'sha256', heading: 'Weights for apps', def: "const sha256 = __sha256('served/resnet18.safetensors');" },
  { name: 'bar', heading: 'Weights for apps', def: 'const bar = { value: 0 };' },
  {
    name: 'caches', heading: 'Weights for apps', when: /'cache-storage'/,
    def: `globalThis.caches = (() => {
  const stores = new Map();
  const open = async (name) => {
    if (!stores.has(name)) stores.set(name, new Map());
    const m = stores.get(name);
    return { match: async (k) => m.get(String(k))?.clone(), put: async (k, r) => { m.set(String(k), new Response(await r.arrayBuffer())); }, delete: async (k) => m.delete(String(k)) };
  };
  return { open };
})();`,
  },
  // ONNX models: the input's data [1, 3, 224, 224], an input tensor, and the model file's bytes
  { name: 'data', heading: 'ONNX', def: "const data = __wz.hashTensor(6, 'input', [1, 3, 224, 224]).data;" },
  { name: 'x', heading: 'ONNX', def: "const x = __wz.hashTensor(7, 'input', [1, 3, 224, 224]);" },
  { name: 'bytes', heading: 'ONNX', def: "const bytes = new Uint8Array(__read('resnet18.onnx'));" },
];

/** The givens a block takes: per name, the one for its heading, else the one for any heading. */
function givensFor(b: Block): Given[] {
  const out: Given[] = [];
  for (const name of new Set(GIVENS.map((g) => g.name))) {
    const candidates = GIVENS.filter((g) => g.name === name && (!g.heading || b.heading.startsWith(g.heading)));
    const g = candidates.find((c) => c.heading) ?? candidates[0];
    if (!g) continue;
    if (g.when ? g.when.test(b.code) : uses(b.code, name) && !declares(b.code, name)) out.push(g);
  }
  return out;
}

// ---- what blocks must show ------------------------------------------------------------------------------------

interface Check {
  heading: string;
  /** Which of the section's blocks (default: all of them). */
  match?: RegExp;
  /** Code appended to the block (same scope); print one JSON line last for `expect`. */
  after?: string;
  /** The block is one expression: print its value (JSON) so `expect` can see what it returns. */
  printValue?: boolean;
  expect: (stdout: string, last: any) => void;
}

/** Set in beforeAll: what the files served and written hold. */
const made = { pixels0: [] as number[], gruBytes: 0, resnet18Bytes: 0, fcBias: [] as number[], imagenet: [] as readonly string[] };

const CHECKS: Check[] = [
  {
    heading: 'Quick start', // prints the backend and the top-3 for sample 0
    expect: (out) => expect(out).toMatch(/^relaxed \[\s*\{\s*index: 9,\s*label: 'Ankle boot'/),
  },
  {
    heading: 'Threads', // prints `4, undefined`
    after: 'console.log(JSON.stringify({ threads: wasmzoo.threads(), name: model.meta.name }));',
    expect: (out, last) => {
      expect(out).toMatch(/^4 undefined$/m);
      expect(last).toEqual({ threads: 4, name: 'resnet18' });
    },
  },
  {
    heading: 'Layers', // softmax probabilities for one image
    after: 'console.log(JSON.stringify({ shape: probs.shape, sum: probs.data.reduce((a, b) => a + b, 0), loaded: net.stateDict()["1.running_var"].data[0] }));',
    expect: (_, last) => {
      expect(last.shape).toEqual([1, 10]);
      expect(last.sum).toBeCloseTo(1, 5);
      expect(last.loaded).not.toBe(1); // the file's running_var, not the default
    },
  },
  {
    heading: 'Model builders', // the GRU from https://example.com, hash checked, progress reported
    after: 'console.log(JSON.stringify({ name: model.meta.name, last: __events.at(-1), out: model.forward(__wz.hashTensor(1, "s", [1, 6, 28])).shape }));',
    expect: (_, last) => {
      expect(last.name).toBe('sequence_gru');
      expect(last.last).toMatchObject({ loaded: made.gruBytes, total: made.gruBytes });
      expect(last.out).toEqual([1, 10]);
    },
  },
  {
    heading: 'LeNet-5', // the shipped weights as bytes classify sample 0
    after: 'console.log(JSON.stringify(__wz.topK(model.forward(__wz.tensor(__images(0, 1, true), [1, 1, 28, 28])), 1, __wz.fashionMnistClasses)[0][0]));',
    expect: (_, last) => expect(last.label).toBe('Ankle boot'),
  },
  {
    heading: 'The CNN zoo',
    match: /resnet50/, // top-5 entries: { index, label, logit, probability }
    after: 'console.log(JSON.stringify({ shape: x.shape, top5 }));',
    expect: (_, last) => {
      expect(last.shape).toEqual([1, 3, 224, 224]);
      expect(last.top5).toHaveLength(5);
      for (const e of last.top5) expect(e.label).toBe(made.imagenet[e.index]);
      const p = last.top5.map((e: { probability: number }) => e.probability);
      expect([...p].sort((a, b) => b - a)).toEqual(p);
      expect(p.reduce((a: number, b: number) => a + b)).toBeLessThanOrEqual(1 + 1e-6);
    },
  },
  {
    heading: 'The CNN zoo',
    match: /\.pth/, // torch.save's file loads as written
    after: 'console.log(JSON.stringify({ fcBias: Array.from(model.stateDict()["fc.bias"].data.subarray(0, 4)) }));',
    expect: (_, last) => expect(last.fcBias).toEqual(made.fcBias),
  },
  {
    heading: 'Sequence models',
    after: 'console.log(JSON.stringify({ output: output.shape, h: h.shape, c: c.shape, y: y.shape, saved: Object.keys(saved) }));',
    expect: (_, last) => {
      expect(last.output).toEqual([2, 5, 256]);
      expect(last.h).toEqual([2, 2, 256]);
      expect(last.c).toEqual([2, 2, 256]);
      expect(last.y.at(-1)).toBe(256);
    },
  },
  {
    heading: 'Training',
    match: /fit\(/, // onEpochEnd prints each epoch's logs; evaluate gives { loss, accuracy }
    after: 'console.log(JSON.stringify({ epochs: history.epochs.length, first: history.epochs[0].loss, last: history.epochs.at(-1).loss, evaluate: model.evaluate(xTest, yTest), loss, names: __wz.readSafetensors(bytes).names.length, opt: __wz.readSafetensors(optBytes).names.length }));',
    expect: (out, last) => {
      expect(out.match(/^\{\s*epoch: \d+,\s*loss: /gm), out).toHaveLength(8);
      expect(last.epochs).toBe(8);
      expect(last.last).toBeLessThan(last.first); // Adam on one batch lowers the loss
      expect(last.evaluate.accuracy).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(last.loss)).toBe(true);
      expect(last.names).toBe(10);
      expect(last.opt).toBeGreaterThan(0);
    },
  },
  {
    heading: 'Training',
    match: /translate/, // '1990-03-05'
    printValue: true,
    expect: (_, last) => expect(last).toBe('1990-03-05'),
  },
  {
    heading: 'Autoencoder',
    after: 'console.log(JSON.stringify({ score: ae.anomalyScore(x).shape, anomalies: ae.isAnomaly(x).length, samples: vae.sample(64, { seed: 1 }).shape, path: vae.interpolate(xa, xb, 8).shape }));',
    expect: (_, last) => {
      expect(last.score).toEqual([8]);
      expect(last.anomalies).toBe(8);
      expect(last.samples).toEqual([64, 784]);
      expect(last.path[0]).toBe(8);
    },
  },
  { heading: 'Node', expect: (out) => expect(out.trim()).toBe('Ankle boot') },
  {
    heading: 'Deno',
    after: `console.log(JSON.stringify({ backend: wasmzoo.backend(), top: wasmzoo.topK(model.forward(wasmzoo.tensor(PIXELS0, [1, 1, 28, 28])), 1, wasmzoo.fashionMnistClasses)[0][0].label }));`,
    expect: (_, last) => expect(last).toEqual({ backend: 'relaxed', top: 'Ankle boot' }),
  },
  {
    heading: 'Edge workers', // the worker answers a POST of sample 0 with its top-3
    expect: (_, last) => {
      expect(last[0].label).toBe('Ankle boot');
      expect(last).toHaveLength(3);
    },
  },
  {
    heading: 'Weights for apps', // downloaded once, hash checked, progress to 1, cached
    after: 'console.log(JSON.stringify({ bar: bar.value, fetches: __fetches, name: model.meta.name, again: (await wasmzoo.loadWeights("https://example.com/resnet18.safetensors", { sha256, cache: "cache-storage" })).length }));',
    expect: (_, last) => expect(last).toEqual({ bar: 1, fetches: 1, name: 'resnet18', again: made.resnet18Bytes }),
  },
  {
    heading: 'ONNX',
    after: 'console.log(JSON.stringify({ inputs: model.inputs, logits: logits.shape, y: y.shape, unsupported: (await inspectOnnx(bytes)).unsupported }));',
    expect: (_, last) => {
      expect(last.inputs).toEqual([{ name: 'input', dtype: 'float32', shape: ['batch', 3, 224, 224] }]);
      expect(last.logits).toEqual([1, 1000]);
      expect(last.y).toEqual([1, 1000]);
      expect(last.unsupported).toEqual([]);
    },
  },
];

function checkFor(b: Block): Check | undefined {
  return CHECKS.find((c) => b.heading.startsWith(c.heading) && (!c.match || c.match.test(b.code)));
}

// ---- the ONNX file ---------------------------------------------------------------------------------------------

/** A message's fields as [field number, encoded bytes, payload of a length-delimited field]. */
function protoFields(m: Uint8Array): [number, Uint8Array, Uint8Array | undefined][] {
  const r = new ProtoReader(m);
  const out: [number, Uint8Array, Uint8Array | undefined][] = [];
  while (!r.done) {
    const start = r.pos;
    const [field, wire] = r.tag();
    const payload = wire === WIRE_LEN ? r.bytesField() : (r.skip(wire), undefined);
    out.push([field, m.subarray(start, r.pos), payload]);
  }
  return out;
}

function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 128; n = Math.floor(n / 128)) out.push((n % 128) | 128);
  out.push(n);
  return out;
}

function concat(parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

const lenField = (field: number, payload: Uint8Array) => concat([varint(field * 8 + WIRE_LEN), varint(payload.length), payload]);

/**
 * The model with graph input `name` declared with `dims` (numbers or symbolic names). The committed export
 * (test/fixtures/onnx/zoo_resnet18.onnx) is fixed at 96x96 to keep the zoo test fast; the README's file is
 * torchvision's usual export at 224x224, and ResNet-18 (convolutions, global pooling) runs at either size.
 * Path: ModelProto.graph (7) > GraphProto.input (11) > ValueInfoProto.type (2) > TypeProto.tensor_type (1) >
 * shape (2) > dim (1): dim_value (1) | dim_param (2).
 */
function withInputDims(model: Uint8Array, name: string, dims: (number | string)[]): Uint8Array {
  const shape = concat(dims.map((d) => lenField(1, typeof d === 'number' ? new Uint8Array([8, ...varint(d)]) : lenField(2, new TextEncoder().encode(d)))));
  const rewrite = (m: Uint8Array, path: number[], leaf: (payload: Uint8Array) => Uint8Array | undefined): Uint8Array =>
    concat(protoFields(m).map(([f, bytes, payload]) => {
      if (f !== path[0] || !payload) return bytes;
      const out = path.length === 1 ? leaf(payload) : rewrite(payload, path.slice(1), leaf);
      return out ? lenField(f, out) : bytes;
    }));
  let found = false;
  const out = rewrite(model, [7, 11], (vi) => {
    const n = protoFields(vi).find(([f]) => f === 1)?.[2];
    if (!n || new TextDecoder().decode(n) !== name) return undefined;
    found = true;
    return rewrite(vi, [2, 1], (tt) => concat([...protoFields(tt).filter(([f]) => f !== 2).map(([, b]) => b), lenField(2, shape)]));
  });
  if (!found) throw new Error(`onnx: no graph input ${name}`);
  return out;
}

// ---- building and running a block -----------------------------------------------------------------------------

const IMPORTS_WASMZOO = /\bfrom\s+['"]wasmzoo['"]|\brequire\(\s*['"]wasmzoo['"]\s*\)/;

/** The program for a Node block: support, givens, the block (with wasmzoo imported if it does not), its check. */
function nodeProgram(b: Block, check: Check | undefined): string {
  const cjs = b.kind === 'cjs';
  const head = cjs
    ? "const __wz = require('wasmzoo'); const { readFileSync: __read } = require('node:fs'); const __crypto = require('node:crypto');\n"
    : "import * as __wz from 'wasmzoo'; import { readFileSync as __read } from 'node:fs'; import * as __crypto from 'node:crypto';\n";
  const own = IMPORTS_WASMZOO.test(b.code) ? '' : cjs ? "const wasmzoo = require('wasmzoo');\n" : "import * as wasmzoo from 'wasmzoo';\n";
  // Imports go first (hoisted anyway); the block's own lines stay together and in order.
  const code = check?.printValue ? `console.log(JSON.stringify(${b.code.replace(/;\s*(\/\/.*)?\s*$/, '')}));\n` : b.code;
  if (cjs && check?.after) throw new Error(`README.md:${b.line}: a CommonJS block's check cannot use top-level code after it`);
  const after = check?.after ? `// check\n${check.after}\n` : '';
  return `${head}${own}${SUPPORT}${givensFor(b).map((g) => g.def).join('\n')}\n// ---- README.md:${b.line}\n${code}${after}`;
}

function lastJson(stdout: string): unknown {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function explain(b: Block, program: string, r: RunResult): string {
  return `README.md:${b.line} (${b.heading}) exit ${r.code ?? r.signal}\n--- program\n${program}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

const blocks = readmeBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
let dir: string;

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

/** workerd serving the block as its main module; resolves with the response to a POST of sample 0. */
async function runWorkerd(b: Block): Promise<{ status: number; text: string; log: string }> {
  const wdir = join(dir, `workerd-${b.line}`);
  mkdirSync(wdir);
  writeFileSync(join(wdir, 'worker.mjs'), b.code);
  copyFileSync(join(DIST, 'wasmzoo.mjs'), join(wdir, 'wasmzoo.mjs'));
  copyFileSync(join(DIST, 'wasm/wasmzoo.simd.wasm'), join(wdir, 'wasmzoo.simd.wasm'));
  copyFileSync(join(ROOT, 'weights/lenet5-fashion.safetensors'), join(wdir, 'lenet5-fashion.safetensors'));
  const port = await freePort();
  // Module names are the specifiers the worker imports.
  writeFileSync(join(wdir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "wasmzoo", esModule = embed "wasmzoo.mjs"),
    (name = "wasmzoo/wasm/wasmzoo.simd.wasm", wasm = embed "wasmzoo.simd.wasm"),
    (name = "lenet5-fashion.safetensors", data = embed "lenet5-fashion.safetensors"),
  ],
  compatibilityDate = "2024-09-23",
);
`);
  let log = '';
  const child: ChildProcess = spawn(WORKERD, ['serve', join(wdir, 'config.capnp')], { cwd: wdir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    const body = new Float32Array(made.pixels0);
    const deadline = Date.now() + LIMIT_MS;
    while (!exited && Date.now() < deadline) {
      const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body }).catch(() => undefined);
      if (res) return { status: res.status, text: await res.text(), log };
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`workerd did not answer:\n${log}`);
  } finally {
    child.kill('SIGKILL');
  }
}

describe('README.md examples run as written', () => {
  beforeAll(async () => {
    assertBuilt();
    await init();
    dir = mkdtempSync(join(tmpdir(), 'wasmzoo-readme-'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules/wasmzoo'), 'dir');
    mkdirSync(join(dir, 'given'));
    mkdirSync(join(dir, 'served'));
    writeFileSync(join(dir, 'package.json'), '{ "name": "readme-examples", "private": true }\n');
    const at = (f: string) => join(dir, f);

    const samples = readSafetensors(new Uint8Array(readFileSync(join(ROOT, 'assets/fashion-samples.safetensors'))));
    made.pixels0 = Array.from(samples.get('images').bytes.subarray(0, 784), (p) => Math.fround((p / 255 - 0.286) / 0.353));
    made.imagenet = (await import('../../src/index.js')).imagenetClasses;

    // Layers: a state dict for the README's Sequential, keys and shapes as torch's state_dict() has them
    const layer = (shape: number[], key: string) => ({ shape, data: hashTensor(1, key, shape).data });
    writeFileSync(at('given/layers.safetensors'), writeSafetensors({
      '0.weight': layer([16, 3, 3, 3], '0.weight'), '0.bias': layer([16], '0.bias'),
      '1.weight': layer([16], '1.weight'), '1.bias': layer([16], '1.bias'),
      '1.running_mean': layer([16], '1.running_mean'), '1.running_var': layer([16], '1.running_var'),
      '1.num_batches_tracked': { shape: [], data: new BigInt64Array([3n]), dtype: 'I64' },
      '5.weight': layer([10, 16 * 16 * 16], '5.weight'), '5.bias': layer([10], '5.bias'),
    }));
    // Sequence models: LSTM(128, 256, 2 layers, batch first), hashed
    const lstm = hashWeights(new nn.LSTM(128, 256, { numLayers: 2, batchFirst: true }), 1);
    writeFileSync(at('given/lstm.safetensors'), lstm.saveSafetensors());
    lstm.dispose();
    // Model builders: the GRU served at https://example.com/gru.safetensors
    const gru = hashWeights(await sequenceGRU({ inputSize: 28, hiddenSize: 128, outputSize: 10 }), 1);
    const gruBytes = gru.saveSafetensors();
    made.gruBytes = gruBytes.length;
    writeFileSync(at('served/gru.safetensors'), gruBytes);
    gru.dispose();
    // The CNN zoo and Weights for apps: hashed ResNet-18 as torch.save's .pth and as served safetensors
    const r18 = hashWeights(await resnet18(), 1);
    const sd = r18.namedState();
    writeFileSync(at('resnet18-f37072fd.pth'), writePth(sd.map(([k, p]) => [k, p.integer ? pthTensor('I64', BigInt64Array.from(p.data, (v) => BigInt(v)), [...p.shape]) : pthTensor('F32', p.data, [...p.shape])]), { archive: 'resnet18-f37072fd' }));
    made.fcBias = Array.from(r18.stateDict()['fc.bias']!.data.subarray(0, 4));
    const r18Bytes = r18.saveSafetensors();
    made.resnet18Bytes = r18Bytes.length;
    writeFileSync(at('served/resnet18.safetensors'), r18Bytes);
    r18.dispose();
    // The CNN zoo: hashed ResNet-50
    const r50 = hashWeights(await resnet50(), 1);
    writeFileSync(at('resnet50.safetensors'), r50.saveSafetensors());
    r50.dispose();
    // ONNX: torchvision's ResNet-18 export with the hashed weights
    const onnx = fillHashed(new Uint8Array(readFileSync(join(ROOT, 'test/fixtures/onnx/zoo_resnet18.onnx'))), 1).bytes;
    writeFileSync(at('resnet18.onnx'), withInputDims(onnx, 'input', ['batch', 3, 224, 224]));
  }, 120_000);
  afterAll(() => {
    if (dir && !process.env.WASMZOO_KEEP_README_DIR) rmSync(dir, { recursive: true, force: true });
  });

  it('finds the README examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(16);
    expect(blocks.filter((b) => b.kind === 'cjs').length).toBeGreaterThanOrEqual(1);
    expect(blocks.filter((b) => b.kind === 'deno')).toHaveLength(1);
    expect(blocks.filter((b) => b.kind === 'workerd')).toHaveLength(1);
  });

  it('every given and every check is taken by some block (the contract lists only what examples use)', () => {
    const taken = new Set(blocks.flatMap((b) => givensFor(b)));
    expect(GIVENS.filter((g) => !taken.has(g)).map((g) => `${g.heading ?? 'any'}: ${g.name}`)).toEqual([]);
    const checked = new Set(blocks.map(checkFor));
    expect(CHECKS.filter((c) => !checked.has(c)).map((c) => `${c.heading} ${c.match ?? ''}`)).toEqual([]);
  });

  for (const b of blocks) {
    it(`README.md:${b.line} (${b.heading}) runs in ${b.kind}`, async () => {
      const check = checkFor(b);
      let stdout: string;
      if (b.kind === 'workerd') {
        const r = await runWorkerd(b);
        expect(r.status, `${r.text}\n${r.log}`).toBe(200);
        stdout = r.text;
      } else if (b.kind === 'deno') {
        const program = `${b.code}// check\nconst PIXELS0 = ${JSON.stringify(made.pixels0)};\n${check?.after ?? ''}\n`;
        const file = join(dir, `block-${b.line}.mjs`);
        writeFileSync(file, program);
        writeFileSync(join(dir, 'import-map.json'), JSON.stringify({ imports: { 'npm:wasmzoo': `file://${join(DIST, 'wasmzoo.mjs')}` } }));
        const env = { PATH: process.env.PATH, HOME: process.env.HOME, DENO_DIR: join(dir, '.deno'), DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1', NO_COLOR: '1' };
        const args = ['run', '--no-prompt', '--no-config', '--no-lock', '--cached-only', '--import-map', join(dir, 'import-map.json'), `--allow-read=${join(ROOT, 'weights')},${join(ROOT, 'assets')}`, file];
        const r = await run(DENO, args, { cwd: dir, env, timeout: LIMIT_MS });
        expect(r.code, explain(b, program, r)).toBe(0);
        stdout = r.stdout;
      } else {
        const program = nodeProgram(b, check);
        const file = join(dir, `block-${b.line}.${b.kind === 'cjs' ? 'cjs' : 'mjs'}`);
        writeFileSync(file, program);
        const r = await run(process.execPath, ['--experimental-wasm-relaxed-simd', file], { cwd: dir, timeout: LIMIT_MS });
        expect(r.code, explain(b, program, r)).toBe(0);
        stdout = r.stdout;
      }
      check?.expect(stdout, lastJson(stdout));
    }, LIMIT_MS + 5_000);
  }
});
