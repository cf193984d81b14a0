/**
 * The one builder path (src/models/build.ts) through every model family: `download` (progress, sha256,
 * cache, and an AbortSignal that stops a server that stalls mid-body) for LeNet-5, the autoencoder, the VAE,
 * SequenceLSTM / SequenceGRU, Seq2Seq and a zoo CNN, against a local HTTP server on 127.0.0.1 (as
 * test/platform/fetch.test.ts does for loadWeights); URL and path weights for the sequence models and
 * Seq2Seq; shipped names (seq2seq 'dates' included) and the error for an unknown one; `strict`; and
 * `meta` on every model.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wasmzoo from '../../src/index.js';
import { init } from '../../src/runtime/runtime.js';
import { WasmzooError } from '../../src/errors.js';
import { Tensor, tensor } from '../../src/tensor.js';
import type { WeightCache, WeightProgress } from '../../src/io/fetch.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import type { Module } from '../../src/nn/module.js';
import type { BuildOptions } from '../../src/models/build.js';
import { builtinNames } from '../../src/models/builtin.js';
import { hashTensor, hashWeights } from '../../src/models/hashweights.js';
import { lenet5 } from '../../src/models/lenet.js';
import { autoencoder } from '../../src/models/autoencoder.js';
import { vae } from '../../src/models/vae.js';
import { SequenceGRU, SequenceLSTM, sequenceGRU, sequenceLSTM } from '../../src/models/seq.js';
import { Seq2Seq, seq2seq } from '../../src/models/seq2seq.js';
import { resnet18 } from '../../src/models/resnet.js';
import { zoo } from '../../src/models/registry.js';
import { CharTokenizer, PAD } from '../../src/models/tokenizer.js';

const read = (p: string) => new Uint8Array(readFileSync(new URL(p, import.meta.url)));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const CHUNK = 16 * 1024;

class MapCache implements WeightCache {
  readonly map = new Map<string, Uint8Array>();
  async match(h: string) { return this.map.get(h); }
  async put(h: string, b: Uint8Array) { this.map.set(h, b.slice()); }
  async delete(h: string) { this.map.delete(h); }
}

const SEQ = { inputSize: 5, hiddenSize: 12, numLayers: 2, outputSize: 3 };
const S2S = { srcVocab: 12, tgtVocab: 12, embeddingDim: 8, hiddenSize: 24, numLayers: 2 };

/** One builder: how to call it with the builder options, its weight file, and an input to compare outputs on. */
interface Case {
  name: string;
  build: (o: BuildOptions) => Promise<Module>;
  bytes: () => Uint8Array;
  input: () => Tensor;
}

const CASES: Case[] = [
  { name: 'lenet5', build: (o) => lenet5(o), bytes: () => read('../../weights/lenet5-fashion.safetensors'), input: () => hashTensor(1, 'x', [1, 1, 28, 28]) },
  { name: 'autoencoder', build: (o) => autoencoder({ layers: [784, 96, 32], ...o }), bytes: () => read('../../weights/autoencoder-fashion.safetensors'), input: () => hashTensor(2, 'x', [1, 784]) },
  { name: 'vae', build: (o) => vae({ inputSize: 784, hidden: 128, latent: 16, ...o }), bytes: () => read('../../weights/vae-fashion.safetensors'), input: () => hashTensor(3, 'x', [1, 784]) },
  { name: 'sequenceLSTM', build: (o) => sequenceLSTM({ ...SEQ, ...o }), bytes: () => hashWeights(new SequenceLSTM(SEQ), 4).saveSafetensors(), input: () => hashTensor(4, 'x', [2, 6, 5]) },
  { name: 'sequenceGRU', build: (o) => sequenceGRU({ ...SEQ, ...o }), bytes: () => hashWeights(new SequenceGRU(SEQ), 5).saveSafetensors(), input: () => hashTensor(5, 'x', [2, 6, 5]) },
  { name: 'seq2seq', build: (o) => seq2seq({ ...S2S, ...o }), bytes: () => hashWeights(new Seq2Seq(S2S), 6).saveSafetensors({ src_alphabet: 'abcdefgh', tgt_alphabet: 'abcdefgh', src_len: '7' }), input: () => tensor([[4, 5, 6, 7, 8, 9, 10]]) },
];

describe('every builder reads weights through download (Node, 127.0.0.1)', () => {
  let server: Server;
  let base = '';
  const files = new Map<string, Uint8Array>();
  const hits: string[] = [];
  const closedEarly: string[] = [];

  beforeAll(async () => {
    await init();
    for (const c of CASES) files.set(c.name, c.bytes());
    server = createServer((req, res) => {
      const path = req.url ?? '/';
      hits.push(path);
      res.on('close', () => { if (!res.writableFinished) closedEarly.push(path); });
      const [, route, name] = path.split('/');
      if (route === 'stall') {
        // Headers promising 4 chunks and one chunk, then nothing: the body never ends, the connection stays open.
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(4 * CHUNK) });
        res.write(new Uint8Array(CHUNK));
        return;
      }
      const body = files.get(name);
      if (route !== 'w' || !body) { res.writeHead(404).end('no'); return; }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.byteLength) });
      res.end(body);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });

  for (const c of CASES) {
    it(`${c.name}: URL weights with progress, sha256 and a cache; the second build makes no request`, async () => {
      const bytes = files.get(c.name)!;
      const x = c.input();
      const ref = await c.build({ weights: bytes });
      const want = ref.forward(x).data;
      ref.dispose();

      const cache = new MapCache();
      const events: WeightProgress[] = [];
      const url = `${base}/w/${c.name}`;
      const m = await c.build({ weights: url, download: { sha256: sha(bytes), cache, onProgress: (p) => events.push({ ...p }) } });
      expect(m.forward(x).data).toEqual(want);
      expect(events.at(-1)).toEqual({ loaded: bytes.byteLength, total: bytes.byteLength });
      expect([...cache.map.keys()]).toEqual([sha(bytes)]);
      m.dispose();

      const n = hits.length;
      const again = await c.build({ weights: new URL(url), download: { sha256: sha(bytes), cache } });
      expect(hits.length).toBe(n);
      expect(again.forward(x).data).toEqual(want);
      again.dispose();

      const err = await c.build({ weights: url, download: { sha256: 'ab'.repeat(32) } }).catch((e) => e);
      expect(err).toBeInstanceOf(WasmzooError);
      expect(err.code).toBe('E_IO');
      expect(err.message).toMatch(/sha256 mismatch/);
    });
  }

  const stalling: Case[] = [...CASES, { name: 'resnet18', build: (o) => resnet18(o), bytes: () => new Uint8Array(0), input: () => hashTensor(0, 'x', [1, 3, 32, 32]) }];
  for (const c of stalling) {
    it(`${c.name}: the AbortSignal stops a download the server stalls, and closes the connection`, async () => {
      const ac = new AbortController();
      let loaded = 0;
      const path = `/stall/${c.name}`;
      const p = c.build({
        weights: `${base}${path}`,
        // abort a while after the first chunk, when the reader waits on a body that will not come
        download: { signal: ac.signal, onProgress: (e) => { if (e.loaded > 0 && loaded === 0) setTimeout(() => ac.abort(), 30); loaded = e.loaded; } },
      });
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
      expect(loaded).toBe(CHUNK);
      for (let i = 0; i < 50 && !closedEarly.includes(path); i++) await new Promise((r) => setTimeout(r, 10));
      expect(closedEarly).toContain(path);
    });
  }
});

describe('URL and path weights for the sequence models and Seq2Seq', () => {
  it('file path, file: URL (object and string) and a Blob load the same weights as bytes', async () => {
    await init();
    const dir = mkdtempSync(join(tmpdir(), 'wasmzoo-build-'));
    for (const c of CASES.filter((k) => k.name.startsWith('seq'))) {
      const bytes = c.bytes();
      const path = join(dir, `${c.name}.safetensors`);
      writeFileSync(path, bytes);
      const x = c.input();
      const ref = await c.build({ weights: bytes });
      const want = ref.forward(x).data;
      for (const weights of [path, pathToFileURL(path), pathToFileURL(path).href, new Blob([bytes as BlobPart])]) {
        const m = await c.build({ weights, download: { sha256: sha(bytes) } });
        expect(m.forward(x).data, `${c.name} from ${String(weights)}`).toEqual(want);
        m.dispose();
      }
      ref.dispose();
    }
  });
});

describe('shipped weights: one table, names, errors', () => {
  it('seq2seq({ weights: "dates" }) needs no sizes and reports its tokenisation in meta', async () => {
    const m = await seq2seq({ weights: 'dates' });
    const file = readSafetensors(read('../../weights/seq2seq-dates.safetensors'));
    const md = file.metadata;
    const text = m.meta.preprocessing!;
    expect(text).toEqual({ tokenizer: 'char', alphabet: md.src_alphabet, targetAlphabet: md.tgt_alphabet, length: Number(md.src_len), padding: 'left' });
    // the table's sizes are the file's: 4 special ids + each alphabet, and its layer sizes
    expect(m.srcEmbed.numEmbeddings).toBe(4 + [...md.src_alphabet].length);
    expect(m.tgtVocab).toBe(4 + [...md.tgt_alphabet].length);
    expect(m.encoder.hiddenSize).toBe(Number(md.hidden_size));
    expect(m.numLayers).toBe(Number(md.num_layers));
    const src = new CharTokenizer(text.alphabet), tgt = new CharTokenizer(text.targetAlphabet);
    const ids = src.encode('march fifth nineteen ninety');
    const padded = new Array(text.length! - ids.length).fill(PAD).concat(ids);
    expect(tgt.decode(m.greedy([padded], { maxLength: 12 })[0])).toBe('1990-03-05');
    m.dispose();
  });

  it('seq2seq dates: translate() is the one-liner (text in, ISO date out), greedy and beam', async () => {
    const m = await seq2seq({ weights: 'dates' });
    expect(m.translate('march fifth nineteen ninety')).toBe('1990-03-05');
    // held-out sentences of the generator the weights were trained on (a different seed: unseen pairs)
    // @ts-expect-error: a JavaScript example module
    const { splits } = await import('../../examples/dates.mjs');
    const { test } = splits({ train: 0, test: 40, seed: 7 }) as { test: { text: string; iso: string }[] };
    const got = m.translate(test.map((p) => p.text));
    const exact = got.filter((g, i) => g === test[i].iso).length;
    expect(exact).toBeGreaterThanOrEqual(38);
    expect(m.translate(test.slice(0, 3).map((p) => p.text), { beamWidth: 3 })).toEqual(got.slice(0, 3));
    expect(() => m.translate('x'.repeat(80))).toThrow(/at most 56/);
    expect(() => m.translate(42 as unknown as string)).toThrow(/expected a string/);
    m.dispose();
    const bare = await seq2seq({ srcVocab: 8, tgtVocab: 8, embeddingDim: 4, hiddenSize: 4, numLayers: 1 });
    expect(() => bare.translate('ab')).toThrow(/no tokenisation/);
    bare.dispose();
  });

  it('every shipped name of every model loads', async () => {
    const builders: Record<string, (o: BuildOptions & { weights: string }) => Promise<Module>> = {
      lenet5: (o) => lenet5(o), autoencoder: (o) => autoencoder(o), vae: (o) => vae(o), seq2seq: (o) => seq2seq(o as { weights: 'dates' }),
    };
    for (const [model, build] of Object.entries(builders)) {
      expect(builtinNames(model).length, model).toBeGreaterThan(0);
      for (const name of builtinNames(model)) (await build({ weights: name })).dispose();
    }
  });

  it('a string that is neither a shipped name nor a readable file is an E_ARGUMENT listing the names', async () => {
    const err = await lenet5({ weights: 'fashion-mnits' }).catch((e) => e);
    expect(err).toBeInstanceOf(WasmzooError);
    expect(err.code).toBe('E_ARGUMENT');
    // issue 12: a bare word is a mistyped name: the known names, the one meant, no ENOENT
    expect(err.message).toBe('lenet5: unknown weights "fashion-mnits" (did you mean "fashion-mnist"?): shipped weights are "fashion-mnist" (or pass a file path, a URL or bytes)');
    expect((await lenet5({ weights: 'fashion' }).catch((e) => e)).message).toMatch(/^lenet5: unknown weights "fashion" \(did you mean "fashion-mnist"\?\): shipped weights are "fashion-mnist"/);
    // a path keeps the file system's answer
    expect((await lenet5({ weights: './nope/fashion.safetensors' }).catch((e) => e)).message).toMatch(/is neither a shipped name \(shipped weights are "fashion-mnist"\) nor a readable file or URL \(cannot read .*ENOENT/);
    await expect(seq2seq({ weights: 'date' } as never)).rejects.toMatchObject({ code: 'E_ARGUMENT', message: expect.stringMatching(/seq2seq: srcVocab is required .*"dates"/) });
    await expect(seq2seq({ ...S2S, weights: 'date' })).rejects.toThrow(/shipped weights are "dates"/);
    await expect(sequenceLSTM({ ...SEQ, weights: 'lstm.safetensors' })).rejects.toMatchObject({ code: 'E_ARGUMENT', message: expect.stringMatching(/it has no shipped weights/) });
    await expect(resnet18({ weights: 'imagenet' })).rejects.toMatchObject({ code: 'E_ARGUMENT' });
    // names are own keys of the table only
    await expect(lenet5({ weights: 'toString' })).rejects.toMatchObject({ code: 'E_ARGUMENT' });
    // a URL is a URL: its failure stays an E_IO
    await expect(lenet5({ weights: 'http://127.0.0.1:9/nothing-listens' })).rejects.toMatchObject({ code: 'E_IO' });
    await expect(lenet5({ weights: 'file:///nonexistent/lenet.safetensors' })).rejects.toMatchObject({ code: 'E_IO' });
  });

  it('a shipped name honours download (progress and sha256)', async () => {
    const bytes = read('../../weights/vae-fashion.safetensors');
    const events: WeightProgress[] = [];
    (await vae({ weights: 'fashion-mnist', download: { sha256: sha(bytes), onProgress: (p) => events.push(p) } })).dispose();
    expect(events.at(-1)).toEqual({ loaded: bytes.byteLength, total: bytes.byteLength });
    await expect(vae({ weights: 'fashion-mnist', download: { sha256: 'cd'.repeat(32) } })).rejects.toThrow(/sha256 mismatch/);
    await expect(vae({ weights: 'fashion-mnist', download: { signal: AbortSignal.abort() } })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('strict, for every builder', () => {
  it('an extra key is refused by default and skipped with strict: false', async () => {
    await init();
    for (const c of CASES) {
      const sd: Record<string, Tensor> = (await c.build({ weights: c.bytes() })).stateDict();
      sd['extra.weight'] = tensor([1, 2], [2]);
      await expect(c.build({ weights: sd }), c.name).rejects.toThrow(/unexpected keys: extra\.weight/);
      const m = await c.build({ weights: sd, strict: false });
      expect(m.stateDict()).not.toHaveProperty('extra.weight');
      m.dispose();
    }
  });
});

describe('meta on every model', () => {
  const KEYS = ['name', 'numParams', 'inputSize', 'preprocessing', 'categories', 'reference'];

  it('has the common shape, with each model\'s numbers', async () => {
    await init();
    const models: Module[] = [
      await lenet5(), await autoencoder({ weights: 'fashion-mnist' }), await autoencoder({ layers: [64, 24, 6] }),
      await autoencoder({ conv: true }), await vae(), await vae({ inputSize: 48, hidden: 16, latent: 6 }),
      await sequenceLSTM(SEQ), await sequenceGRU(SEQ), await seq2seq(S2S), await resnet18({ numClasses: 10 }),
    ];
    for (const m of models) {
      const meta = (m as unknown as { meta: Record<string, unknown> }).meta;
      for (const k of KEYS) expect(meta, `${m.name}.meta.${k}`).toHaveProperty(k);
      expect(meta.name).toBe(m.name);
      expect(meta.numParams).toBe(m.parameterCount());
      expect(Object.isFrozen(meta)).toBe(true);
    }
    const [le, aeShipped, aeSmall, aeConv, va, vaSmall, lstm, gru, s2s, r18] = models as [wasmzoo.LeNet5, wasmzoo.Autoencoder, wasmzoo.Autoencoder, wasmzoo.Autoencoder, wasmzoo.VAE, wasmzoo.VAE, SequenceLSTM, SequenceGRU, Seq2Seq, wasmzoo.ResNet];
    expect(le.meta).toMatchObject({ name: 'lenet5', numParams: 61706, inputSize: [1, 28, 28], categories: 'fashion-mnist' });
    expect(le.meta.preprocessing).toMatchObject({ resize: [28, 28], crop: null, channels: 1, mean: wasmzoo.FASHION_MNIST_MEAN, std: wasmzoo.FASHION_MNIST_STD, interpolation: 'bilinear' });
    expect(aeShipped.meta).toMatchObject({ name: 'autoencoder', inputSize: [1, 28, 28], categories: null });
    expect(aeShipped.meta.preprocessing).toMatchObject({ resize: [28, 28], channels: 1, mean: [0], std: [1] });
    expect(aeConv.meta.inputSize).toEqual([1, 28, 28]);
    expect(aeSmall.meta).toMatchObject({ inputSize: [64], preprocessing: null });
    expect(va.meta).toMatchObject({ name: 'vae', inputSize: [1, 28, 28], categories: null });
    expect(va.meta.preprocessing).toBe(aeShipped.meta.preprocessing);
    expect(vaSmall.meta).toMatchObject({ inputSize: [48], preprocessing: null });
    expect(lstm.meta).toMatchObject({ name: 'sequence_lstm', inputSize: [-1, 5], preprocessing: null, categories: null });
    expect(gru.meta).toMatchObject({ name: 'sequence_gru', inputSize: [-1, 5], preprocessing: null });
    expect(s2s.meta).toMatchObject({ name: 'seq2seq', inputSize: [-1], preprocessing: null, categories: null });
    expect(r18.meta.categories).toBeNull();
    expect(zoo.resnet18.meta.preprocessing).toMatchObject(wasmzoo.IMAGENET_PRESET);
    for (const m of models) m.dispose();
  });

  it('an image model\'s preprocessing is PreprocessOptions: preprocess(image, meta.preprocessing) gives its input', async () => {
    const model = await lenet5({ weights: 'fashion-mnist' });
    const samples = readSafetensors(read('../../assets/fashion-samples.safetensors'));
    const px = samples.get('images').bytes.subarray(0, 784);
    // image 0 as a 56x56 RGBA canvas: resized back to 28x28 grey and normalised by the meta recipe
    const rgba = new Uint8ClampedArray(56 * 56 * 4);
    for (let y = 0; y < 56; y++) {
      for (let x = 0; x < 56; x++) {
        const v = px[(y >> 1) * 28 + (x >> 1)];
        rgba.set([v, v, v, 255], (y * 56 + x) * 4);
      }
    }
    const x = wasmzoo.preprocess({ data: rgba, width: 56, height: 56 }, model.meta.preprocessing!);
    expect(x.shape).toEqual([1, 1, 28, 28]);
    const label = wasmzoo.topK(model.forward(x), 1, wasmzoo.fashionMnistClasses)[0][0].label;
    expect(label).toBe('Ankle boot');
    model.dispose();
  });
});

describe('nn.Upsample and nn.Unflatten', () => {
  it('are exported from wasmzoo.nn and, as before, from the top level', () => {
    expect(wasmzoo.nn.Upsample).toBe(wasmzoo.Upsample);
    expect(wasmzoo.nn.Unflatten).toBe(wasmzoo.Unflatten);
    expect(new wasmzoo.nn.Upsample(3).scaleFactor).toBe(3);
  });
});
