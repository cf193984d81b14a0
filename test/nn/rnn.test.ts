/**
 * nn.RNN / nn.LSTM / nn.GRU / nn.Embedding against PyTorch (test/golden/rnn/layers.safetensors, written by
 * tools/gen_rnn_goldens.py; the case table with PyTorch's constructor kwargs is in the file's metadata) and
 * against the f64 oracle (test/ref/rnn.ts), in every kernel variant; streaming equals the full sequence;
 * states round-trip through JSON; bad input is refused with the layer's name and the shapes.
 *
 * Tolerance 2e-6 abs + 1e-5 rel on values in (-1, 1) (measured worst: 1.5e-7): float32 sums of up to 80
 * products per gate in another order (fma in the relaxed variant) and the sigmoid/tanh approximations
 * (<= 1.5e-7 each), carried through up to 10 timesteps and 3 layers, where each step contracts errors
 * (|dh'/dh| < 1 for these weight scales). Streaming vs whole sequence: the same kernels, but the input GEMM
 * may take another micro-kernel (row tails) and so another summation order: 1e-6 abs.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/nn/index.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { init, BACKENDS } from '../../src/runtime/runtime.js';
import { WasmzooError } from '../../src/errors.js';
import { Tensor, tensor } from '../../src/tensor.js';
import { Golden } from '../golden/load.js';
import { expectClose } from '../kernels/harness.js';
import { randomArray } from '../ref/rng.js';
import { rnnRef, type RnnMode } from '../ref/rnn.js';

const ATOL = 2e-6, RTOL = 1e-5;
const FILE = 'rnn/layers.safetensors';
const golden = new Golden(FILE);
const meta = readSafetensors(new Uint8Array(readFileSync(new URL(`../golden/${FILE}`, import.meta.url)))).metadata;
type Kw = { input_size: number; hidden_size: number; num_layers?: number; nonlinearity?: 'tanh' | 'relu'; bias?: boolean; batch_first?: boolean; dropout?: number; bidirectional?: boolean };
const CASES: Record<string, { class: 'RNN' | 'LSTM' | 'GRU'; kwargs: Kw; state: boolean }> = JSON.parse(meta.cases);

/** PyTorch's snake_case kwargs -> our constructor (camelCase options). */
function make(cls: 'RNN' | 'LSTM' | 'GRU', kw: Kw): nn.RNNBase {
  const opts = { numLayers: kw.num_layers, bias: kw.bias, batchFirst: kw.batch_first, dropout: kw.dropout, bidirectional: kw.bidirectional };
  if (cls === 'RNN') return new nn.RNN(kw.input_size, kw.hidden_size, { ...opts, nonlinearity: kw.nonlinearity });
  return cls === 'LSTM' ? new nn.LSTM(kw.input_size, kw.hidden_size, opts) : new nn.GRU(kw.input_size, kw.hidden_size, opts);
}

function load(name: string): { layer: nn.RNNBase; x: Tensor; state?: { h: Tensor; c?: Tensor } } {
  const c = CASES[name];
  const layer = make(c.class, c.kwargs);
  layer.loadStateDict(golden.stateDict(name, ['input', 'expected', 'h0', 'c0']));
  const x = golden.tensor(`${name}.input`);
  const state = c.state ? { h: golden.tensor(`${name}.h0`), c: c.class === 'LSTM' ? golden.tensor(`${name}.c0`) : undefined } : undefined;
  return { layer, x, state };
}

describe.each(BACKENDS)('recurrent layers vs PyTorch (%s)', (backend) => {
  beforeAll(async () => {
    await init({ backend });
  });
  it.each(Object.keys(CASES))('%s', (name) => {
    const { layer, x, state } = load(name);
    const r = layer.forward(x, state);
    const want = golden.tensor(`${name}.expected.output`);
    expect(r.output.shape).toEqual(want.shape);
    expectClose(r.output.data, want.data, ATOL, RTOL, `${name} output (${backend})`);
    const wantH = golden.tensor(`${name}.expected.h`);
    expect(r.h.shape).toEqual(wantH.shape);
    expectClose(r.h.data, wantH.data, ATOL, RTOL, `${name} h (${backend})`);
    if (CASES[name].class === 'LSTM') {
      const wantC = golden.tensor(`${name}.expected.c`);
      expect(r.c!.shape).toEqual(wantC.shape);
      expectClose(r.c!.data, wantC.data, ATOL, RTOL, `${name} c (${backend})`);
    }
    // the plan is reused and gives the same numbers; the result is also a plain output Tensor (Module.forward)
    expect(layer.forward(x, state).data).toEqual(r.data);
    expect(r.data).toEqual(r.output.data);
    layer.dispose();
  });

  it('matches the f64 oracle on odd sizes (H = 1, 3, 12, 17, 21: block tails) and with few rows (GEMV input path)', () => {
    const configs: [RnnMode, number, number, number, boolean, number, number][] = [
      ['LSTM', 2, 1, 2, true, 3, 2], ['GRU', 3, 3, 1, false, 4, 3], ['LSTM', 5, 12, 2, false, 5, 1],
      ['GRU', 1, 12, 2, true, 2, 2], ['RNN_TANH', 4, 3, 2, true, 3, 3], ['RNN_RELU', 3, 5, 1, false, 4, 2],
      // T*B <= 2 rows: the input projection takes the GEMV path (rnn_project), both directions
      ['LSTM', 3, 21, 2, true, 2, 1], ['GRU', 4, 9, 2, true, 1, 2], ['LSTM', 6, 17, 1, false, 1, 1],
    ];
    for (const [mode, I, H, L, bi, T, B] of configs) {
      const opts = { numLayers: L, bidirectional: bi };
      const layer = mode === 'LSTM' ? new nn.LSTM(I, H, opts) : mode === 'GRU' ? new nn.GRU(I, H, opts)
        : new nn.RNN(I, H, { ...opts, nonlinearity: mode === 'RNN_TANH' ? 'tanh' : 'relu' });
      const x = randomArray(T * B * I, I * 31 + H);
      const D = bi ? 2 : 1;
      const h0 = randomArray(L * D * B * H, 5), c0 = randomArray(L * D * B * H, 6);
      const st = { h: tensor(h0, [L * D, B, H]), c: mode === 'LSTM' ? tensor(c0, [L * D, B, H]) : undefined };
      const r = layer.forward(tensor(x, [T, B, I]), st);
      const weights = Object.fromEntries(Object.entries(layer.stateDict()).map(([k, v]) => [k, v.data]));
      const want = rnnRef({ mode, inputSize: I, hiddenSize: H, numLayers: L, bidirectional: bi, weights, x, T, B, h0, c0: mode === 'LSTM' ? c0 : undefined });
      const what = `${mode} I=${I} H=${H} L=${L} bi=${bi} (${backend})`;
      expectClose(r.output.data, want.output, ATOL, RTOL, `${what} output`);
      expectClose(r.h.data, want.h, ATOL, RTOL, `${what} h`);
      if (want.c) expectClose(r.c!.data, want.c, ATOL, RTOL, `${what} c`);
      layer.dispose();
    }
  });
});

describe('streaming', () => {
  beforeAll(async () => {
    await init();
  });
  for (const name of ['lstm_2l_bf_state', 'gru_3l_state', 'rnn_bf_3l_state', 'lstm_large_state']) {
    it(`${name}: step by step, and in chunks, equals the whole sequence`, () => {
      const { layer, x, state } = load(name);
      const full = layer.forward(x, state);
      const bf = layer.batchFirst;
      const [d0, d1, F] = x.shape;
      const T = bf ? d1 : d0, B = bf ? d0 : d1;
      const stepX = (t0: number, n: number): Tensor => {
        // rows of timesteps t0..t0+n-1, in the layer's layout
        const out = new Float32Array(n * B * F);
        for (let t = 0; t < n; t++)
          for (let b = 0; b < B; b++) {
            const src = bf ? (b * T + t0 + t) * F : ((t0 + t) * B + b) * F;
            const dst = bf ? (b * n + t) * F : (t * B + b) * F;
            out.set(x.data.subarray(src, src + F), dst);
          }
        return tensor(out, bf ? [B, n, F] : [n, B, F]);
      };
      const H = layer.hiddenSize;
      const at = (o: Tensor, t: number, b: number, n: number) => {
        const i = bf ? (b * n + t) * H : (t * B + b) * H;
        return o.data.subarray(i, i + H);
      };
      const fullAt = (t: number, b: number) => at(full, t, b, T);
      // one timestep at a time: x_t is [B, F]
      let st: nn.RecurrentState | undefined = state ? layer.stateFrom({ h: state.h.toArray() as number[][][], c: state.c?.toArray() as number[][][] | undefined }) : undefined;
      for (let t = 0; t < T; t++) {
        const one = stepX(t, 1);
        const r = layer.step(tensor(one.data, [B, F]), st);
        expect(r.output.shape).toEqual([B, H]);
        for (let b = 0; b < B; b++) expectClose(r.output.data.subarray(b * H, (b + 1) * H), fullAt(t, b), 1e-6, 1e-5, `${name} step ${t}`);
        // pause and resume through JSON every other step
        st = t % 2 ? layer.stateFrom(JSON.parse(JSON.stringify(r.state))) : r.state;
      }
      expectClose(st!.h.data, full.h.data, 1e-6, 1e-5, `${name} final h`);
      if (full.c) expectClose(st!.c!.data, full.c.data, 1e-6, 1e-5, `${name} final c`);
      // chunks of 3, 1, rest
      st = state ? new nn.RecurrentState(state.h, state.c) : undefined;
      let t0 = 0;
      for (const n of [3, 1, T - 4]) {
        const r = layer.step(stepX(t0, n), st);
        for (let t = 0; t < n; t++) for (let b = 0; b < B; b++) expectClose(at(r.output, t, b, n), fullAt(t0 + t, b), 1e-6, 1e-5, `${name} chunk at ${t0 + t}`);
        st = r.state;
        t0 += n;
      }
      expectClose(st!.h.data, full.h.data, 1e-6, 1e-5, `${name} chunked final h`);
      layer.dispose();
    });
  }

  it('batch size is free: a state for B = 2 then another stream with B = 5', () => {
    const lstm = new nn.LSTM(3, 4);
    const a = lstm.step(tensor(randomArray(6, 1), [2, 3]));
    expect(a.state.h.shape).toEqual([1, 2, 4]);
    const b = lstm.step(tensor(randomArray(15, 2), [5, 3]), lstm.zeroState(5));
    expect(b.output.shape).toEqual([5, 4]);
    expect(() => lstm.step(tensor(randomArray(15, 2), [5, 3]), a.state)).toThrow(/LSTM: initial h must be \[1, 5, 4\].*got \[1, 2, 4\]/);
  });

  it('results own their buffers (transferring one to a worker cannot detach the state)', () => {
    const lstm = new nn.LSTM(3, 4, { numLayers: 2 });
    const { output, state } = lstm.step(tensor(randomArray(6, 3), [2, 3]));
    const arrays = [output.data, state.h.data, state.c!.data];
    for (const a of arrays) expect(a.byteOffset === 0 && a.byteLength === a.buffer.byteLength).toBe(true);
    expect(new Set(arrays.map((a) => a.buffer)).size).toBe(3);
    const r = lstm.forward(tensor(randomArray(12, 4), [2, 2, 3]));
    expect(new Set([r.data.buffer, r.h.data.buffer, r.c!.data.buffer]).size).toBe(3);
  });
});

describe('errors name the layer and the shapes; the layer stays usable', () => {
  beforeAll(async () => {
    await init();
  });
  it('wrong feature size, rank, state shapes, missing c', () => {
    const { layer, x, state } = load('lstm_2l_bf_state');
    layer.name = 'encoder';
    const before = layer.forward(x, state).data;
    expect(() => layer.forward(tensor(new Float32Array(7 * 5), [1, 7, 5]))).toThrow(/encoder: expected input \[B, T, 6\] \(or unbatched \[T, 6\]\), got \[1, 7, 5\]/);
    expect(() => layer.forward(tensor(new Float32Array(6), [6]))).toThrow(WasmzooError);
    expect(() => layer.forward(x, { h: tensor(new Float32Array(9 * 2), [2, 1, 9]), c: tensor(new Float32Array(9), [1, 1, 9]) }))
      .toThrow(/encoder: initial c must be \[2, 1, 9\] \(numLayers\*directions, batch, hiddenSize\), got \[1, 1, 9\]/);
    expect(() => layer.forward(x, { h: tensor(new Float32Array(18), [2, 9]) } as never)).toThrow(/initial h must be \[2, 1, 9\]/);
    expect(() => layer.forward(x, state!.h)).toThrow(/LSTM state needs both h and c/);
    expect(() => layer.step(tensor(new Float32Array(5), [1, 5]))).toThrow(/encoder: step\(\) expected one timestep \[B, 6\]/);
    expect(() => layer.stateFrom({ h: [[[1]]], c: [[[1]]] })).toThrow(/encoder: state\.h must be nested arrays \[2\]\[B\]\[9\]/);
    let err: unknown;
    try { layer.forward(tensor(new Float32Array(7 * 5), [1, 7, 5])); } catch (e) { err = e; }
    expect((err as WasmzooError).code).toBe('E_SHAPE');
    expect(layer.forward(x, state).data).toEqual(before);
  });

  it('bidirectional layers do not stream; bad constructor arguments', () => {
    expect(() => new nn.GRU(3, 4, { bidirectional: true }).step(tensor(new Float32Array(3), [1, 3]))).toThrow(/bidirectional layer needs the whole sequence/);
    expect(() => new nn.LSTM(0, 4)).toThrow(/LSTM: inputSize must be a positive integer/);
    expect(() => new nn.RNN(3, 4, { nonlinearity: 'sigmoid' as never })).toThrow(/nonlinearity must be 'tanh' or 'relu'/);
    expect(() => new nn.GRU(3, 4, { dropout: 2 })).toThrow(/dropout must be in \[0, 1\]/);
  });

  it('state_dict keys and shapes are PyTorch\'s', () => {
    const l = new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true });
    const sd = l.stateDict();
    expect(Object.keys(sd).slice(0, 8)).toEqual(['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0',
      'weight_ih_l0_reverse', 'weight_hh_l0_reverse', 'bias_ih_l0_reverse', 'bias_hh_l0_reverse']);
    expect(sd.weight_ih_l1.shape).toEqual([16, 8]);
    expect(new nn.GRU(5, 6, { bias: false }).stateDict().weight_hh_l0.shape).toEqual([18, 6]);
    expect(Object.keys(new nn.GRU(5, 6, { bias: false }).stateDict())).toEqual(['weight_ih_l0', 'weight_hh_l0']);
  });
});

describe('Embedding', () => {
  beforeAll(async () => {
    await init();
  });
  it('looks rows up exactly, any id shape; paddingIdx row starts at zero', () => {
    const e = new nn.Embedding(10, 3, { paddingIdx: -1 });
    expect(e.paddingIdx).toBe(9);
    expect(Array.from(e.weight.data.subarray(27))).toEqual([0, 0, 0]);
    const ids = tensor([[1, 9, 4], [0, 0, 2]]);
    const y = e.forward(ids);
    expect(y.shape).toEqual([2, 3, 3]);
    [1, 9, 4, 0, 0, 2].forEach((id, i) => expect(Array.from(y.data.subarray(i * 3, i * 3 + 3))).toEqual(Array.from(e.weight.data.subarray(id * 3, id * 3 + 3))));
  });
  it('refuses non-integer, negative and out-of-range ids by position', () => {
    const e = new nn.Embedding(10, 3);
    e.name = 'src_embed';
    expect(() => e.forward(tensor([1, 2.5]))).toThrow(/src_embed: token id at flat index 1 of ids \[2\] is 2\.5; ids must be integers in \[0, 10\)/);
    expect(() => e.forward(tensor([10]))).toThrow(/is 10; ids must be integers in \[0, 10\)/);
    expect(() => e.forward(tensor([-1]))).toThrow(WasmzooError);
    expect(() => e.forward(tensor([NaN]))).toThrow(/is NaN/);
  });
});

describe('memory', () => {
  it('allocates nothing after the first call with a shape (forward, forward with state, step)', async () => {
    const rt = await init({ backend: 'relaxed' });
    const { layer, x, state } = load('lstm_3l_bi_state');
    const gru = load('gru_3l_state');
    const one = tensor(randomArray(4, 3), [1, 4]);
    const run = () => {
      layer.forward(x);
      layer.forward(x, state);
      gru.layer.step(one, gru.layer.step(one).state);
    };
    run();
    const hw = rt.arena.highWater, mem = rt.arena.memory.buffer.byteLength, used = rt.arena.used;
    for (let i = 0; i < 100; i++) run();
    expect(rt.arena.highWater).toBe(hw);
    expect(rt.arena.memory.buffer.byteLength).toBe(mem);
    expect(rt.arena.used).toBe(used);
    layer.dispose();
    gru.layer.dispose();
    expect(rt.arena.used).toBeLessThan(used);
    expect(() => layer.forward(x)).toThrow(/used after dispose/);
  });
});
