/**
 * Threads, as a user meets them (src/runtime/threads.ts, runtime.ts): init({ threads }) and its checks,
 * wasmzoo.threads(), whole models giving the same bits on 1..4 threads (inference and a training step),
 * release() and replaced runtimes ending their workers while their models keep working, the shared memory's
 * maximum named in the error when a model does not fit, a Node process exiting by itself after using
 * threads, and the one-line note when threads are impossible. The shared-memory rewrite of the kernels is
 * checked against the module it comes from.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  init, threads, release, threadsLimit, tensor, hashWeights, lenet5, resnet18, googlenet, sequenceLSTM, sequenceGRU, seq2seq, nn, memoryStats,
} from '../../src/index.js';
import { variantBytes } from '../../src/runtime/runtime.js';
import { toSharedMemoryModule, importsMemory } from '../../src/runtime/shared-module.js';
import { randomArray } from '../ref/rng.js';
import { SGD } from '../../src/train/index.js';

afterAll(() => release());

function same(a: Float32Array, b: Float32Array, what: string): void {
  expect(a.length, what).toBe(b.length);
  let bad = -1;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) { bad = i; break; }
  expect(bad, `${what}: first differing element ${bad} (${a[bad]} vs ${b[bad]})`).toBe(-1);
}

describe('the shared-memory kernels', () => {
  it('are the variant with its memory imported as shared, and compute the same', async () => {
    const simd = await variantBytes('simd');
    const shared = toSharedMemoryModule(simd);
    expect(WebAssembly.validate(shared)).toBe(true);
    const mod = await WebAssembly.compile(shared);
    expect(importsMemory(mod)).toBe(true);
    expect(WebAssembly.Module.imports(mod)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(mod)).toEqual(WebAssembly.Module.exports(await WebAssembly.compile(simd)));
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 64, shared: true });
    const inst = await WebAssembly.instantiate(mod, { env: { memory } });
    expect(memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect((inst.exports.memory as WebAssembly.Memory).buffer).toBe(memory.buffer);
    expect(() => toSharedMemoryModule(shared)).toThrow(/already import/);
  });
});

describe('init({ threads })', () => {
  it('refuses counts that are not positive integers, or more than the engine can start', async () => {
    for (const t of [0, -1, 1.5, NaN, '2', threadsLimit() + 1]) {
      await expect(init({ threads: t as never })).rejects.toMatchObject({ code: 'E_ARGUMENT', message: expect.stringMatching(/^init: threads /) });
    }
    await expect(init({ threads: 2, maxMemory: 1000 })).rejects.toMatchObject({ code: 'E_ARGUMENT', message: expect.stringMatching(/maxMemory must be a byte count/) });
  });

  it('runs the count asked for, reports it, and serves the same request with the same runtime', async () => {
    const a = await init({ threads: 3 });
    expect(a.threads).toBe(3);
    expect(threads()).toBe(3);
    expect(memoryStats()!.threads).toBe(3);
    expect(await init({ threads: 3 })).toBe(a);
    expect(await init()).toBe(a);
    const b = await init({ threads: 1 });
    expect(b.threads).toBe(1);
    expect(threads()).toBe(1);
  });

  it("'auto' takes the cores (at most 4) where threads run", async () => {
    const { availableParallelism } = await import('node:os');
    const info = await init({ threads: 'auto' });
    expect(info.threads).toBe(Math.min(4, availableParallelism()));
  });
});

describe('same bits on 1, 2, 3 and 4 threads', () => {
  const x224 = tensor(randomArray(3 * 224 * 224, 1), [1, 3, 224, 224]);
  const seq = tensor(randomArray(2 * 64 * 32, 2), [2, 64, 32]);
  async function outputs(t: number): Promise<Record<string, Float32Array>> {
    await init({ backend: 'relaxed', threads: t });
    expect(threads()).toBe(t);
    const out: Record<string, Float32Array> = {};
    const lenet = hashWeights(await lenet5(), 1);
    out.lenet5 = lenet.forward(tensor(randomArray(4 * 784, 3), [4, 1, 28, 28])).data.slice();
    const r18 = hashWeights(await resnet18(), 2);
    out.resnet18 = r18.forward(x224).data.slice();
    r18.dispose();
    const g = hashWeights(await googlenet(), 3);
    out.googlenet = g.forward(x224).data.slice();
    g.dispose();
    const lstm = hashWeights(await sequenceLSTM({ inputSize: 32, hiddenSize: 256, numLayers: 2, outputSize: 10, head: 'every' }), 4);
    out.lstm = lstm.forward(seq).data.slice();
    const gru = hashWeights(await sequenceGRU({ inputSize: 32, hiddenSize: 256, numLayers: 2, outputSize: 10, head: 'every' }), 5);
    out.gru = gru.forward(seq).data.slice();
    // bidirectional layers: the two directions run on two threads (rnn_directions); H 64 steps never split
    const bilstm = hashWeights(new nn.LSTM(32, 64, { numLayers: 2, bidirectional: true, batchFirst: true }), 8);
    out.bilstm = bilstm.forward(seq).data.slice();
    const bigru = hashWeights(new nn.GRU(32, 256, { bidirectional: true, batchFirst: true }), 9);
    out.bigru = bigru.forward(seq).data.slice();
    const birnn = hashWeights(new nn.RNN(32, 48, { bidirectional: true, batchFirst: true, nonlinearity: 'relu' }), 10);
    out.birnn = birnn.forward(seq).data.slice();
    const s2s = hashWeights(await seq2seq({ srcVocab: 40, tgtVocab: 30, embeddingDim: 64, hiddenSize: 256 }), 6);
    const src = [[4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [7, 8, 9, 10, 20, 21, 22, 23, 24, 25, 26, 27]];
    out.greedy = Float32Array.from(s2s.greedy(src, { maxLength: 20 }).flat());
    out.beam = Float32Array.from(s2s.beamSearch(src[0], { beamWidth: 3, maxLength: 20 }).flatMap((h) => [...h.ids, h.score]));
    // a training step: LeNet-5 with SGD + momentum on a batch of 32
    const net = hashWeights(await lenet5(), 7);
    const optimizer = new SGD({ lr: 0.05, momentum: 0.9 });
    const xb = tensor(randomArray(32 * 784, 4), [32, 1, 28, 28]);
    const yb = tensor(Array.from({ length: 32 }, (_, i) => i % 10), [32]);
    const losses = [0, 1, 2].map(() => net.trainStep(xb, yb, { loss: 'crossEntropy', optimizer }));
    out.trained = Float32Array.from([...losses, ...[...net.namedParameters()].flatMap(([, p]) => [...p.data])]);
    return out;
  }

  it('LeNet-5, ResNet-18, GoogLeNet, 2x256 LSTM and GRU stacks, bidirectional LSTM/GRU/RNN, seq2seq greedy and beam, LeNet-5 training', async () => {
    const ref = await outputs(1);
    for (const t of [2, 3, 4]) {
      const got = await outputs(t);
      for (const k of Object.keys(ref)) same(got[k], ref[k], `${k} on ${t} threads`);
    }
  }, 300_000);
});

describe('lifecycle', () => {
  it('release() ends the workers; models built before keep working (same bits); the next init starts afresh', async () => {
    await init({ threads: 2 });
    const m = await lenet5();
    const x = tensor(randomArray(784, 5), [1, 1, 28, 28]);
    const before = m.forward(x).data.slice();
    release();
    expect(threads()).toBe(1);
    same(m.forward(x).data, before, 'after release');
    const info = await init({ threads: 2 });
    expect(info.threads).toBe(2);
    m.dispose();
  });

  it('a model too large for the shared memory says which option to raise', async () => {
    await init({ threads: 2, maxMemory: 32 * 2 ** 20 });
    const layer = new nn.Linear(4096, 4096); // 64 MB of weights
    await expect(async () => layer.forward(tensor(new Float32Array(4096), [1, 4096]))).rejects.toThrow(/maxMemory/);
    release();
  });

  const dist = fileURLToPath(new URL('../../dist/wasmzoo.mjs', import.meta.url));
  it('a Node process that used threads exits by itself', () => {
    const script = `import * as w from ${JSON.stringify(dist)};
      const info = await w.init({ threads: 2 });
      const m = await w.lenet5();
      m.forward(w.tensor(new Float32Array(784), [1, 1, 28, 28]));
      console.log('threads', info.threads);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000, encoding: 'utf8' });
    expect(out.trim()).toBe('threads 2');
  });

  it('without SharedArrayBuffer: an explicit count runs one thread and says why once; auto says nothing', () => {
    const script = `delete globalThis.SharedArrayBuffer;
      const w = await import(${JSON.stringify(dist)});
      const a = await w.init({ threads: 'auto' });
      const b = await w.init({ threads: 2 });
      const c = await w.init({ threads: 3 });
      console.log(JSON.stringify({ auto: a.threads, autoNote: a.threadsNote ?? null, two: b.threads, note: b.threadsNote, three: c.threads }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000, encoding: 'utf8' });
    const got = JSON.parse(r.stdout.trim());
    expect(got).toMatchObject({ auto: 1, autoNote: null, two: 1, three: 1 });
    expect(got.note).toMatch(/Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
    expect(r.stderr.match(/wasmzoo: running on one thread: SharedArrayBuffer is not available/g)).toHaveLength(1);
  });
});
