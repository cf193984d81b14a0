/**
 * ONNX RNN / LSTM / GRU (src/onnx/ops/rnn.ts) beyond the conformance suite's 12 cases:
 * - PyTorch goldens: nn.LSTM (2 layers, bidirectional, batch_first), nn.GRU, nn.RNN exported by
 *   torch.onnx.export (tools/goldens/onnx_rnn.py, test/fixtures/onnx/), whole graphs in float32 (the kernel
 *   path) and again with every tensor made float64 (the reference path), at atol 1e-5;
 * - the kernel path against the reference path over directions, layouts, hidden sizes across the kernels'
 *   16-unit blocks, batch sizes, biases and initial states;
 * - what PyTorch does not have, against scalar formulas written here: clip, input_forget, alpha/beta
 *   activations, peepholes; ragged sequence_lens against each row run alone;
 * - refusals at load (node names listed), run-time shape errors, float16, arena memory over repeated runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { WasmzooError, init, memoryStats, nn, runtime, tensor, type Runtime } from '../../src/index.js';
import { loadOnnx } from '../../src/onnx/index.js';
import { OnnxModel } from '../../src/onnx/session.js';
import { decodeModel } from '../../src/onnx/proto.js';
import type { Attribute } from '../../src/onnx/proto.js';
import { ONNX_OPS } from '../../src/onnx/ops/index.js';
import { RNN_OPS } from '../../src/onnx/ops/rnn.js';
import { Attrs, type OpNode, type OpSpec } from '../../src/onnx/ops/types.js';
import { halfToFloat, tensorOf, toNumbers, type OnnxDType, type OnnxTensor } from '../../src/onnx/value.js';
import { onnxModel } from './build.js';
import { instantiate } from '../../src/runtime/runtime.js';
import { splitLimits } from '../../src/runtime/parallel.js';

const FIXTURES = new URL('../fixtures/onnx/', import.meta.url);

let rt: Runtime;
beforeAll(async () => {
  await init({ threads: 1 });
  rt = runtime();
});

// ---- helpers ----

type AttrValue = number | string | string[] | { float: number } | { floats: number[] };

/** An OpNode as the session makes it, with attributes from plain values. */
function node(opType: string, attrs: Record<string, AttrValue>, inputs: string[], outputs: string[], opset = 14, name = `my_${opType}`): OpNode {
  const enc = (s: string) => new TextEncoder().encode(s);
  const list: Attribute[] = Object.entries(attrs).map(([k, v]): Attribute => {
    if (typeof v === 'number') return { name: k, type: 'int', i: v };
    if (typeof v === 'string') return { name: k, type: 'string', s: enc(v) };
    if (Array.isArray(v)) return { name: k, type: 'strings', strings: v.map(enc) };
    if ('float' in v) return { name: k, type: 'float', f: v.float };
    return { name: k, type: 'floats', floats: v.floats };
  });
  return { name, opType, opset, attrs: new Attrs(list, `${opType} '${name}'`), inputs, outputs };
}

/** A seeded uniform(-s, s) generator. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number, s = 1) => Array.from({ length: n }, () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return (x / 2 ** 32 * 2 - 1) * s;
  });
}

function t(dtype: OnnxDType, dims: number[], v: number[]): OnnxTensor {
  return tensorOf(dtype, dims, dtype === 'float64' ? Float64Array.from(v) : Float32Array.from(v));
}

function maxDiff(a: OnnxTensor, b: OnnxTensor | { dims: number[]; data: ArrayLike<number> }): number {
  expect(a.dims).toEqual(b.dims);
  const x = toNumbers(a), y = Array.from(b.data as ArrayLike<number>, Number);
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

const GATES: Record<string, number> = { RNN: 1, LSTM: 4, GRU: 3 };

interface Case {
  op: 'RNN' | 'LSTM' | 'GRU';
  T: number; B: number; F: number; H: number;
  direction?: string; layout?: 0 | 1;
  bias?: boolean; h0?: boolean; c0?: boolean;
  /** LSTM peepholes, and sequence_lens. */
  peep?: boolean; lens?: number[];
  attrs?: Record<string, AttrValue>;
}

/** Random inputs of a case (X, W, R, B, sequence_lens, initial_h, initial_c, P) in `dtype`. */
function inputsOf(c: Case, dtype: OnnxDType, seed: number): Array<OnnxTensor | undefined> {
  const r = rng(seed);
  const D = c.direction === 'bidirectional' ? 2 : 1, G = GATES[c.op];
  const s = 1 / Math.sqrt(c.H);
  const xDims = c.layout ? [c.B, c.T, c.F] : [c.T, c.B, c.F];
  const sDims = c.layout ? [c.B, D, c.H] : [D, c.B, c.H];
  return [
    t(dtype, xDims, r(c.T * c.B * c.F, 2)),
    t(dtype, [D, G * c.H, c.F], r(D * G * c.H * c.F, s * 2)),
    t(dtype, [D, G * c.H, c.H], r(D * G * c.H * c.H, s * 2)),
    c.bias ? t(dtype, [D, 2 * G * c.H], r(D * 2 * G * c.H, s)) : undefined,
    c.lens ? tensorOf('int32', [c.B], Int32Array.from(c.lens)) : undefined,
    c.h0 ? t(dtype, sDims, r(D * c.B * c.H)) : undefined,
    c.c0 ? t(dtype, sDims, r(D * c.B * c.H)) : undefined,
    c.peep ? t(dtype, [D, 3 * c.H], r(D * 3 * c.H)) : undefined,
  ];
}

function runOp(n: OpNode, inputs: Array<OnnxTensor | undefined>, on: Runtime = rt): OnnxTensor[] {
  const spec = RNN_OPS[n.opType];
  expect(spec.check?.(n)).toBeUndefined();
  return spec.run(n, inputs, { rt: on, constant: [] });
}

function caseNode(c: Case): OpNode {
  const attrs: Record<string, AttrValue> = { hidden_size: c.H, ...c.attrs };
  if (c.direction) attrs.direction = c.direction;
  if (c.layout) attrs.layout = c.layout;
  const outs = c.op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'];
  return node(c.op, attrs, ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h', 'initial_c', 'P'].slice(0, c.op === 'LSTM' ? 8 : 6), outs);
}

// ---- PyTorch goldens ----

interface GoldenTensor { dims: number[]; data: number[] }
interface Golden { module: string; ops: string[]; inputs: Record<string, GoldenTensor>; outputs: Record<string, GoldenTensor> }
const goldens = JSON.parse(readFileSync(new URL('rnn_goldens.json', FIXTURES), 'utf8')) as { meta: { format: string; version: string }; cases: Record<string, Golden> };

/**
 * The few other ops torch.onnx.export writes around recurrent layers, for this file only and only while the
 * op table lacks them (the other op families land in other branches; once merged, theirs run). Minimal:
 * what the fixtures use, float data, constant int64 parameters.
 */
const GLUE: Record<string, OpSpec> = {
  Constant: { run: (n) => [n.attrs.tensor('value')!] },
  Transpose: {
    run(n, [x]) {
      const perm = n.attrs.ints('perm')!;
      const dims = perm.map((p) => x!.dims[p]);
      const src = x!.data as Float32Array, out = new (src.constructor as Float32ArrayConstructor)(src.length);
      const strides = x!.dims.map((_, i) => x!.dims.slice(i + 1).reduce((a, b) => a * b, 1));
      const idx = new Array(dims.length).fill(0);
      for (let o = 0; o < out.length; o++) {
        let s = 0;
        for (let i = 0; i < dims.length; i++) s += idx[i] * strides[perm[i]];
        out[o] = src[s];
        for (let i = dims.length - 1; i >= 0 && ++idx[i] === dims[i]; i--) idx[i] = 0;
      }
      return [{ dtype: x!.dtype, dims, data: out }];
    },
  },
  Reshape: {
    run(_n, [x, s]) {
      const want = toNumbers(s!).map((d, i) => (d === 0 ? x!.dims[i] : d));
      const known = want.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      return [{ dtype: x!.dtype, dims: want.map((d) => (d === -1 ? x!.data.length / known : d)), data: x!.data }];
    },
  },
  Squeeze: {
    run(_n, [x, axes]) {
      const ax = toNumbers(axes!).map((a) => (a < 0 ? a + x!.dims.length : a));
      return [{ dtype: x!.dtype, dims: x!.dims.filter((_, i) => !ax.includes(i)), data: x!.data }];
    },
  },
  Slice: {
    // on the first axis only (initial-state slices per layer), step 1
    run(_n, [x, starts, ends, axes, steps]) {
      expect(toNumbers(axes!)).toEqual([0]);
      if (steps) expect(toNumbers(steps)).toEqual([1]);
      const inner = x!.data.length / x!.dims[0];
      const a = Math.max(0, toNumbers(starts!)[0]), b = Math.min(x!.dims[0], toNumbers(ends!)[0]);
      const data = (x!.data as Float32Array).slice(a * inner, b * inner);
      return [{ dtype: x!.dtype, dims: [b - a, ...x!.dims.slice(1)], data }];
    },
  },
  Concat: {
    // on the first axis only (h_n / c_n of the layers)
    run(n, xs) {
      expect(n.attrs.int('axis')).toBe(0);
      const parts = xs.map((x) => x!);
      const data = new (parts[0].data.constructor as Float32ArrayConstructor)(parts.reduce((a, p) => a + p.data.length, 0));
      let o = 0;
      for (const p of parts) {
        data.set(p.data as Float32Array, o);
        o += p.data.length;
      }
      return [{ dtype: parts[0].dtype, dims: [parts.reduce((a, p) => a + p.dims[0], 0), ...parts[0].dims.slice(1)], data }];
    },
  },
};

describe('ONNX recurrent ops vs PyTorch (torch.onnx.export, opset 14)', () => {
  const added: string[] = [];
  beforeAll(() => {
    for (const [op, spec] of Object.entries(GLUE)) {
      if (!(op in ONNX_OPS)) {
        ONNX_OPS[op] = spec;
        added.push(op);
      }
    }
  });
  afterAll(() => {
    for (const op of added) delete ONNX_OPS[op];
  });

  it('the fixtures are what the generator writes', () => {
    expect(goldens.meta.format).toBe('wasmzoo-golden');
    expect(goldens.meta.version).toBe('1');
    expect(Object.keys(goldens.cases).sort()).toEqual(['gru_2l_bi', 'lstm_2l_bi_bf', 'rnn_relu_2l', 'rnn_tanh_bi_bf']);
  });

  for (const [name, g] of Object.entries(goldens.cases)) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${name}: ${g.module} in ${dtype} (${dtype === 'float32' ? 'kernels' : 'reference'}) matches PyTorch at atol 1e-5`, () => {
        const model = decodeModel(readFileSync(new URL(`rnn_${name}.onnx`, FIXTURES)));
        if (dtype === 'float64') {
          // every float tensor to float64: initializers, Constant values, graph inputs and outputs
          const widen = (x: OnnxTensor) => {
            if (x.dtype !== 'float32') return;
            x.dtype = 'float64';
            x.data = Float64Array.from(x.data as Float32Array);
          };
          model.graph.initializers.forEach(widen);
          for (const n of model.graph.nodes) for (const a of n.attributes) if (a.t) widen(a.t);
          for (const v of [...model.graph.inputs, ...model.graph.outputs]) if (v.dtype === 'float32') v.dtype = 'float64';
        }
        const m = new OnnxModel(model, rt);
        const feeds = Object.fromEntries(Object.entries(g.inputs).map(([k, v]) => [k, t(dtype, v.dims, v.data)]));
        const out = m.runTensors(feeds);
        for (const [k, want] of Object.entries(g.outputs)) {
          expect(out[k].dtype).toBe(dtype);
          expect(maxDiff(out[k], want), `${name} ${k}`).toBeLessThanOrEqual(1e-5);
        }
      });
    }
  }
});

// ---- kernel path vs reference path ----

describe('float32 (cell kernels, or the stepwise path on the GEMM) vs float64 (stepwise in TS)', () => {
  const cases: Case[] = [];
  for (const op of ['LSTM', 'GRU', 'RNN'] as const) {
    for (const direction of ['forward', 'reverse', 'bidirectional']) {
      for (const layout of [0, 1] as const) {
        cases.push({ op, T: 5, B: 3, F: 4, H: 5, direction, layout, bias: true, h0: true, c0: op === 'LSTM', attrs: op === 'GRU' ? { linear_before_reset: 1 } : {} });
      }
    }
    // hidden sizes across the 16-unit blocks (tails, exact, several), batch 1, no bias, no state
    for (const H of [1, 16, 17, 33]) cases.push({ op, T: 3, B: 1, F: 7, H, direction: H === 17 ? 'bidirectional' : 'forward', attrs: op === 'GRU' ? { linear_before_reset: 1 } : {} });
  }
  for (const act of ['Relu', 'Sigmoid', 'LeakyRelu']) {
    cases.push({ op: 'RNN', T: 4, B: 2, F: 3, H: 6, bias: true, h0: true, direction: 'bidirectional', attrs: { activations: [act, act], ...(act === 'LeakyRelu' ? { activation_alpha: { floats: [0.3, 0.3] } } : {}) } });
  }
  // the stepwise path: what the cell kernels do not do
  const lens = [4, 1, 0, 3];
  for (const direction of ['forward', 'reverse', 'bidirectional']) {
    for (const layout of [0, 1] as const) {
      cases.push({ op: 'LSTM', T: 4, B: 4, F: 3, H: 17, direction, layout, bias: true, h0: true, c0: true, peep: true, lens });
      cases.push({ op: 'GRU', T: 4, B: 4, F: 3, H: 17, direction, layout, bias: true, h0: true, lens });
      cases.push({ op: 'RNN', T: 4, B: 4, F: 3, H: 17, direction, layout, bias: true, h0: true, lens });
    }
  }
  for (const lbr of [0, 1]) {
    cases.push({ op: 'GRU', T: 5, B: 2, F: 6, H: 9, direction: 'bidirectional', bias: true, h0: true, attrs: { linear_before_reset: lbr, clip: { float: 0.8 } } });
    cases.push({ op: 'GRU', T: 3, B: 3, F: 4, H: 33, attrs: { linear_before_reset: lbr, activations: ['HardSigmoid', 'Softsign'] } });
  }
  cases.push({ op: 'LSTM', T: 5, B: 2, F: 4, H: 6, bias: true, attrs: { input_forget: 1 } });
  cases.push({ op: 'LSTM', T: 5, B: 2, F: 4, H: 6, direction: 'bidirectional', bias: true, attrs: { activations: ['Sigmoid', 'Relu', 'Elu', 'HardSigmoid', 'Tanh', 'Softplus'], clip: { float: 1.5 } } });
  cases.push({ op: 'RNN', T: 5, B: 2, F: 4, H: 6, bias: true, h0: true, attrs: { activations: ['ThresholdedRelu'], activation_alpha: { floats: [0.1] } } });
  cases.forEach((c, i) => {
    const extras = [c.bias && 'bias', c.h0 && 'state', c.peep && 'peepholes', c.lens && 'ragged lens', c.attrs?.linear_before_reset === 0 && 'lbr 0',
      c.attrs?.clip && 'clip', c.attrs?.input_forget && 'input_forget', c.attrs?.activations && (c.attrs.activations as string[]).join('/')].filter(Boolean);
    const label = `${c.op} ${c.direction ?? 'forward'} layout ${c.layout ?? 0} H ${c.H} B ${c.B} ${extras.join(', ')}`;
    it(label, () => {
      const n = caseNode(c);
      const fast = runOp(n, inputsOf(c, 'float32', 1000 + i));
      const ref = runOp(n, inputsOf(c, 'float64', 1000 + i));
      expect(fast.length).toBe(ref.length);
      // the inputs are the same float32 values; the kernels' sigmoid/tanh are within 1.5e-7 of exact
      fast.forEach((y, j) => {
        expect(y.dtype).toBe('float32');
        expect(maxDiff(y, ref[j])).toBeLessThan(2e-5);
      });
    });
  });
});

describe('threads', () => {
  it('the cell kernels give the same bits on 3 threads (directions on threads of their own, every step split)', async () => {
    const rt3 = await instantiate({ backend: rt.backend, threads: 3 });
    const saved = { ...splitLimits };
    for (const key of Object.keys(splitLimits) as (keyof typeof splitLimits)[]) splitLimits[key] = 0;
    try {
      expect(rt3.threads).toBe(3);
      let i = 0;
      for (const op of ['LSTM', 'GRU'] as const) {
        for (const direction of ['forward', 'reverse', 'bidirectional']) {
          const c: Case = { op, T: 6, B: 2, F: 5, H: 33, direction, bias: true, h0: true, c0: op === 'LSTM', attrs: op === 'GRU' ? { linear_before_reset: 1 } : {} };
          const n = caseNode(c), inputs = inputsOf(c, 'float32', 2000 + i++);
          const one = runOp(n, inputs), three = runOp(n, inputs, rt3);
          three.forEach((y, j) => expect(Array.from(y.data as Float32Array), `${op} ${direction} output ${j}`).toEqual(Array.from(one[j].data as Float32Array)));
        }
      }
    } finally {
      Object.assign(splitLimits, saved);
      rt3.endThreads();
    }
  });
});

// ---- what PyTorch does not have ----

describe('attributes PyTorch has no counterpart for', () => {
  it('RNN: clip bounds the activation input; Affine takes alpha and beta', () => {
    // H = F = 1, T = 2: h1 = act(clip(x1 w + h0 r + wb + rb)), h2 = act(clip(x2 w + h1 r + wb + rb))
    const x = [3, -1], w = 0.9, r = 0.5, wb = 0.1, rb = 0.2, h0 = 0.4;
    for (const [acts, clip, f] of [
      [['Tanh'], 0.5, (v: number) => Math.tanh(Math.max(-0.5, Math.min(0.5, v)))],
      [['Affine'], undefined, (v: number) => 2 * v + 0.25],
    ] as const) {
      const attrs: Record<string, AttrValue> = { hidden_size: 1, activations: [...acts] };
      if (clip !== undefined) attrs.clip = { float: clip };
      if (acts[0] === 'Affine') Object.assign(attrs, { activation_alpha: { floats: [2] }, activation_beta: { floats: [0.25] } });
      const n = node('RNN', attrs, ['X', 'W', 'R', 'B', '', 'h0'], ['Y', 'Y_h']);
      const [Y, Yh] = runOp(n, [t('float32', [2, 1, 1], x), t('float32', [1, 1, 1], [w]), t('float32', [1, 1, 1], [r]),
        t('float32', [1, 2], [wb, rb]), undefined, t('float32', [1, 1, 1], [h0])]);
      const h1 = f(x[0] * w + h0 * r + wb + rb), h2 = f(x[1] * w + h1 * r + wb + rb);
      expect(maxDiff(Y, { dims: [2, 1, 1, 1], data: [h1, h2] })).toBeLessThan(1e-6);
      expect(maxDiff(Yh, { dims: [1, 1, 1], data: [h2] })).toBeLessThan(1e-6);
    }
  });

  it('LSTM: peepholes, input_forget, and activation_alpha/beta consumed in order by the functions that take them', () => {
    // f = HardSigmoid(a=0.3, b=0.6), g = ScaledTanh(a=1.5, b=0.7), h = LeakyRelu(a=0.2): alphas [0.3, 1.5, 0.2], betas [0.6, 0.7]
    const hs = (v: number) => Math.min(1, Math.max(0, 0.3 * v + 0.6));
    const st = (v: number) => 1.5 * Math.tanh(0.7 * v);
    const lr = (v: number) => (v < 0 ? 0.2 * v : v);
    const W = [0.5, -0.4, 0.3, 0.8], R = [0.2, 0.1, -0.3, 0.6], Bv = [0.1, 0.2, -0.1, 0.05, 0.02, -0.03, 0.04, 0.01];
    const P = [0.3, -0.2, 0.5], x = [1.2, -0.7, 2.5];
    for (const inputForget of [0, 1]) {
      const n = node('LSTM', {
        hidden_size: 1, input_forget: inputForget, activations: ['HardSigmoid', 'ScaledTanh', 'LeakyRelu'],
        activation_alpha: { floats: [0.3, 1.5, 0.2] }, activation_beta: { floats: [0.6, 0.7] },
      }, ['X', 'W', 'R', 'B', '', 'h0', 'c0', 'P'], ['Y', 'Y_h', 'Y_c']);
      const [Y, Yh, Yc] = runOp(n, [t('float32', [3, 1, 1], x), t('float32', [1, 4, 1], W), t('float32', [1, 4, 1], R),
        t('float32', [1, 8], Bv), undefined, t('float32', [1, 1, 1], [0.3]), t('float32', [1, 1, 1], [-0.5]), t('float32', [1, 3], P)]);
      // gates i, o, f, c; peepholes i, o, f
      let h = 0.3, c = -0.5;
      const ys: number[] = [];
      for (const xt of x) {
        const pre = (g: number) => xt * W[g] + h * R[g] + Bv[g] + Bv[4 + g];
        const i = hs(pre(0) + P[0] * c);
        const f = inputForget ? 1 - i : hs(pre(2) + P[2] * c);
        c = f * c + i * st(pre(3));
        const o = hs(pre(1) + P[1] * c);
        h = o * lr(c);
        ys.push(h);
      }
      expect(maxDiff(Y, { dims: [3, 1, 1, 1], data: ys })).toBeLessThan(1e-6);
      expect(maxDiff(Yh, { dims: [1, 1, 1], data: [h] })).toBeLessThan(1e-6);
      expect(maxDiff(Yc, { dims: [1, 1, 1], data: [c] })).toBeLessThan(1e-6);
    }
  });

  it('GRU: linear_before_reset 0 and 1 as the spec writes them, clip, Softsign / Elu', () => {
    const W = [0.5, -0.4, 0.3], R = [0.2, 0.7, -0.6], Bv = [0.1, 0.2, -0.1, 0.05, -0.3, 0.4], x = [1.5, -2, 0.7];
    const elu = (v: number) => (v < 0 ? 0.5 * (Math.exp(v) - 1) : v), ss = (v: number) => v / (1 + Math.abs(v));
    const cl = (v: number) => Math.max(-1.2, Math.min(1.2, v));
    for (const lbr of [0, 1]) {
      const n = node('GRU', { hidden_size: 1, linear_before_reset: lbr, clip: { float: 1.2 }, activations: ['Elu', 'Softsign'], activation_alpha: { floats: [0.5] } },
        ['X', 'W', 'R', 'B', '', 'h0'], ['Y', 'Y_h']);
      const [Y, Yh] = runOp(n, [t('float32', [3, 1, 1], x), t('float32', [1, 3, 1], W), t('float32', [1, 3, 1], R),
        t('float32', [1, 6], Bv), undefined, t('float32', [1, 1, 1], [0.25])]);
      let h = 0.25;
      const ys: number[] = [];
      for (const xt of x) {
        // gates z, r, h
        const z = elu(cl(xt * W[0] + h * R[0] + Bv[0] + Bv[3]));
        const r = elu(cl(xt * W[1] + h * R[1] + Bv[1] + Bv[4]));
        const hh = ss(cl(lbr ? xt * W[2] + Bv[2] + r * (h * R[2] + Bv[5]) : xt * W[2] + Bv[2] + (r * h) * R[2] + Bv[5]));
        h = (1 - z) * hh + z * h;
        ys.push(h);
      }
      expect(maxDiff(Y, { dims: [3, 1, 1, 1], data: ys })).toBeLessThan(1e-6);
      expect(maxDiff(Yh, { dims: [1, 1, 1], data: [h] })).toBeLessThan(1e-6);
    }
  });

  for (const op of ['LSTM', 'GRU', 'RNN'] as const) {
    it(`${op}: ragged sequence_lens give each row what it gives alone, zeros past its length`, () => {
      const c: Case = { op, T: 5, B: 4, F: 3, H: 4, direction: 'bidirectional', bias: true, h0: true, c0: op === 'LSTM' };
      const lens = [5, 2, 0, 3];
      const full = inputsOf(c, 'float32', 77);
      const n = caseNode(c);
      const ins = [...full];
      ins[4] = tensorOf('int32', [4], Int32Array.from(lens));
      const outs = runOp(n, ins);
      const [Y] = outs;
      const D = 2, H = 4, B = 4, F = 3;
      const y = toNumbers(Y);
      for (let b = 0; b < B; b++) {
        const L = lens[b];
        let alone: OnnxTensor[] | undefined;
        if (L > 0) {
          // row b alone, its first L steps: X [L, 1, F], states [D, 1, H]
          const x = toNumbers(full[0]!), h0 = toNumbers(full[5]!), c0 = full[6] && toNumbers(full[6]);
          const xs: number[] = [];
          for (let s = 0; s < L; s++) xs.push(...x.slice((s * B + b) * F, (s * B + b + 1) * F));
          const st = (v: number[]) => [0, 1].flatMap((d) => v.slice((d * B + b) * H, (d * B + b + 1) * H));
          alone = runOp(n, [t('float32', [L, 1, F], xs), full[1], full[2], full[3], undefined, t('float32', [D, 1, H], st(h0)),
            c0 ? t('float32', [D, 1, H], st(c0)) : undefined]);
        }
        const ya = alone && toNumbers(alone[0]);
        for (let s = 0; s < 5; s++) {
          for (let d = 0; d < D; d++) {
            for (let j = 0; j < H; j++) {
              const got = y[((s * D + d) * B + b) * H + j];
              expect(Math.abs(got - (s < L ? ya![(s * D + d) * H + j] : 0))).toBeLessThan(1e-6);
            }
          }
        }
        // final states: the row's own last step, or zeros for an empty row
        for (let k = 1; k < outs.length; k++) {
          const v = toNumbers(outs[k]);
          for (let d = 0; d < D; d++) {
            for (let j = 0; j < H; j++) {
              const want = alone ? toNumbers(alone[k])[d * H + j] : 0;
              expect(Math.abs(v[(d * B + b) * H + j] - want)).toBeLessThan(1e-6);
            }
          }
        }
      }
    });
  }
});

// ---- load-time refusals, run-time errors ----

describe('refusals and errors', () => {
  it('lists every unsupported attribute at load with node names', async () => {
    const bytes = onnxModel({
      opset: 13,
      nodes: [
        { op: 'LSTM', name: 'enc', inputs: ['x', 'w', 'r'], outputs: ['y1'], attrs: { hidden_size: 2, direction: 'sideways' } },
        { op: 'GRU', name: 'dec', inputs: ['y1', 'w2', 'r2'], outputs: ['y2'], attrs: { hidden_size: 2, layout: 1 } },
        { op: 'RNN', name: 'top', inputs: ['y2', 'w3', 'r3'], outputs: ['y'], attrs: { hidden_size: 2, input_forget: 1 } },
      ],
      inputs: [{ name: 'x', shape: [1, 1, 2] }, { name: 'w', shape: [1, 8, 2] }, { name: 'r', shape: [1, 8, 2] }, { name: 'w2', shape: [1, 6, 2] },
        { name: 'r2', shape: [1, 6, 2] }, { name: 'w3', shape: [1, 2, 2] }, { name: 'r3', shape: [1, 2, 2] }],
      outputs: [{ name: 'y' }],
    });
    const err = await loadOnnx(bytes).catch((e) => e);
    expect(err).toBeInstanceOf(WasmzooError);
    expect(err.code).toBe('E_UNSUPPORTED');
    expect(err.message).toMatch(/\(3\):/);
    expect(err.message).toMatch(/node 'enc' \(LSTM\): direction 'sideways' is not one of forward, reverse, bidirectional/);
    expect(err.message).toMatch(/node 'dec' \(GRU\): layout 1 needs opset 14 \(the model imports opset 13\)/);
    expect(err.message).toMatch(/node 'top' \(RNN\): input_forget is an LSTM attribute/);
  });

  it('check refuses unknown activations and wrong activation counts', () => {
    expect(RNN_OPS.LSTM.check!(node('LSTM', { hidden_size: 2, activations: ['Sigmoid', 'Gelu', 'Tanh'] }, ['X', 'W', 'R'], ['Y'])))
      .toMatch(/activation\(s\) 'gelu' not supported/);
    // names are looked up as own keys (no prototype members)
    expect(RNN_OPS.RNN.check!(node('RNN', { hidden_size: 2, activations: ['constructor'] }, ['X', 'W', 'R'], ['Y']))).toMatch(/'constructor' not supported/);
    expect(RNN_OPS.GRU.check!(node('GRU', { hidden_size: 2, direction: 'bidirectional', activations: ['Sigmoid', 'Tanh', 'Tanh'] }, ['X', 'W', 'R'], ['Y'])))
      .toMatch(/activations lists 3 function\(s\); GRU bidirectional takes 4/);
    expect(RNN_OPS.RNN.check!(node('RNN', { hidden_size: 0 }, ['X', 'W', 'R'], ['Y']))).toMatch(/hidden_size 0/);
    expect(RNN_OPS.RNN.check!(node('RNN', { hidden_size: 2 }, ['X', 'W'], ['Y']))).toMatch(/needs inputs X, W and R/);
    // a direction's functions given once serve both directions
    expect(RNN_OPS.GRU.check!(node('GRU', { hidden_size: 2, direction: 'bidirectional', activations: ['Sigmoid', 'Tanh'] }, ['X', 'W', 'R'], ['Y']))).toBeUndefined();
  });

  it('run-time shape and value errors name the node and say expected vs actual', () => {
    const c: Case = { op: 'LSTM', T: 2, B: 3, F: 4, H: 5, bias: true, h0: true, c0: true };
    const n = caseNode(c);
    const ins = inputsOf(c, 'float32', 5);
    const bad = (i: number, v: OnnxTensor | undefined) => () => RNN_OPS.LSTM.run(n, ins.map((x, j) => (j === i ? v : x)), { rt, constant: [] });
    const e = (f: () => unknown) => { try { f(); } catch (err) { return err as WasmzooError; } throw new Error('no error'); };
    let err = e(bad(1, t('float32', [1, 20, 3], new Array(60).fill(0))));
    expect(err.code).toBe('E_ONNX');
    expect(err.message).toMatch(/LSTM 'my_LSTM': W must be \[1, 20, 4\] \(directions, 4\*hidden_size, input_size\), got \[1, 20, 3\]/);
    err = e(bad(5, t('float32', [1, 2, 5], new Array(10).fill(0))));
    expect(err.message).toMatch(/initial_h must be \[1, 3, 5\], got \[1, 2, 5\]/);
    err = e(bad(4, tensorOf('int32', [3], Int32Array.from([2, 3, 1]))));
    expect(err.message).toMatch(/sequence_lens\[1\] = 3 is outside \[0, 2\]/);
    err = e(bad(3, tensorOf('float64', [1, 40], new Float64Array(40))));
    expect(err.message).toMatch(/B is float64 but X is float32/);
    err = e(bad(0, tensorOf('int32', [2, 3, 4], new Int32Array(24))));
    expect(err.message).toMatch(/X is int32; LSTM takes float32, float64, float16 or bfloat16/);
  });
  it('hostile shapes and values: a result or a WasmzooError, never another exception', () => {
    const r = rng(4242);
    const pick = <T>(xs: T[]) => xs[Math.floor(((r(1)[0] + 1) / 2) * xs.length) % xs.length];
    const dims = () => Array.from({ length: pick([0, 1, 2, 3, 3, 3, 4]) }, () => pick([0, 1, 2, 3, 5]));
    let refused = 0;
    for (let i = 0; i < 400; i++) {
      const op = pick(['RNN', 'LSTM', 'GRU']);
      const dtype = pick<OnnxDType>(['float32', 'float32', 'float64', 'int32']);
      const mk = () => {
        const d = dims();
        const n = d.reduce((a, b) => a * b, 1);
        return dtype === 'int32' ? tensorOf('int32', d, new Int32Array(n)) : t(dtype, d, r(n));
      };
      const lensOf = (b: number) => tensorOf('int32', [b], Int32Array.from(r(b, 6).map(Math.round)));
      const attrs: Record<string, AttrValue> = {};
      if (r(1)[0] > 0) attrs.hidden_size = pick([1, 2, 3, 5]);
      if (r(1)[0] > 0) attrs.direction = pick(['forward', 'reverse', 'bidirectional']);
      if (r(1)[0] > 0.5) attrs.layout = 1;
      const n = node(op, attrs, ['X', 'W', 'R', 'B', 'L', 'h', 'c', 'P'].slice(0, op === 'LSTM' ? 8 : 6), ['Y', 'Y_h']);
      const ins = Array.from({ length: op === 'LSTM' ? 8 : 6 }, (_, j) => (j < 3 || r(1)[0] > 0.3 ? (j === 4 ? lensOf(pick([1, 2, 3])) : mk()) : undefined));
      try {
        expect(RNN_OPS[op].check!(n)).toBeUndefined();
        RNN_OPS[op].run(n, ins, { rt, constant: [] });
      } catch (e) {
        if (!(e instanceof WasmzooError)) throw e;
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });
});

// ---- dtypes, opsets, memory ----

describe('dtypes, opsets and memory', () => {
  it('float16 runs the reference path and rounds its outputs to half', () => {
    const c: Case = { op: 'GRU', T: 3, B: 2, F: 3, H: 4, direction: 'bidirectional', bias: true, h0: true };
    const n = caseNode(c);
    const f32 = inputsOf(c, 'float32', 9);
    // inputs rounded to half: their half bits, and the same values as float32
    const toHalf = (x: OnnxTensor | undefined): OnnxTensor | undefined => {
      if (!x) return undefined;
      const bits = Uint16Array.from(x.data as Float32Array, (v) => halfOf(v));
      return { dtype: 'float16', dims: x.dims, data: bits };
    };
    const half = f32.map(toHalf);
    const back = half.map((x) => x && t('float32', x.dims, Array.from(x.data as Uint16Array, halfToFloat)));
    const y16 = runOp(n, half), y32 = runOp(n, back);
    y16.forEach((y, j) => {
      expect(y.dtype).toBe('float16');
      // half has 11 significant bits: outputs within |y| <= 1 round to within 2^-11
      expect(maxDiff(y, y32[j])).toBeLessThanOrEqual(2 ** -11);
    });
  });

  it('opset 7 models run (no layout attribute); the layout attribute from opset 14', async () => {
    for (const opset of [7, 14]) {
      const bytes = onnxModel({
        opset,
        nodes: [{ op: 'RNN', inputs: ['x', 'w', 'r'], outputs: ['y', 'h'], attrs: { hidden_size: 1, ...(opset >= 14 ? { layout: 1 } : {}) } }],
        inputs: [{ name: 'x', shape: [1, 2, 1] }],
        outputs: [{ name: 'y' }, { name: 'h' }],
        initializers: [{ name: 'w', dims: [1, 1, 1], values: [0.5] }, { name: 'r', dims: [1, 1, 1], values: [2] }],
      });
      const m = await loadOnnx(bytes);
      const out = m.runTensors({ x: t('float32', [1, 2, 1], [1, -3]) });
      // opset 7: X is [T=1, B=2, 1]; opset 14 layout 1: X is [B=1, T=2, 1]
      const h1 = Math.tanh(0.5), h2 = Math.tanh(-1.5 + 2 * h1);
      if (opset === 7) expect(maxDiff(out.y, { dims: [1, 1, 2, 1], data: [h1, Math.tanh(-1.5)] })).toBeLessThan(1e-6);
      else expect(maxDiff(out.y, { dims: [1, 2, 1, 1], data: [h1, h2] })).toBeLessThan(1e-6);
    }
  });

  it('arena memory stays level over repeated runs (both float32 paths; constant and per-call weights alike)', () => {
    const full: Case = { op: 'LSTM', T: 6, B: 2, F: 8, H: 20, direction: 'bidirectional', bias: true, h0: true, c0: true };
    const n = caseNode(full);
    for (const c of [full, { ...full, lens: [6, 3] }]) {
      const ins = inputsOf(c, 'float32', 3);
      runOp(n, ins);
      const used = memoryStats()!.arenaUsed;
      for (let i = 0; i < 5; i++) runOp(n, ins);
      expect(memoryStats()!.arenaUsed).toBe(used);
      // new weight tensors every call (graph inputs): the node repacks in place of its old block
      for (let i = 0; i < 5; i++) runOp(n, inputsOf(c, 'float32', 10 + i));
      expect(memoryStats()!.arenaUsed).toBe(used);
    }
  });
});

/** IEEE half bits of a float32 value (round to nearest even), written apart from rnn.ts's. */
function halfOf(v: number): number {
  const f = new Float32Array([v]), u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000, e = (u >>> 23) & 0xff, m = u & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
  const he = e - 127 + 15;
  if (he >= 31) return sign | 0x7c00;
  if (he <= 0) {
    if (he < -10) return sign;
    const mm = m | 0x800000, shift = 14 - he;
    let r = mm >>> shift;
    const rem = mm & ((1 << shift) - 1), halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && r & 1)) r++;
    return sign | r;
  }
  let r = (he << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) r++;
  return sign | r;
}

// ---- timing (RNN_BENCH=1): an LSTM 2x256, T = 64, batch 1 through the ONNX op vs the core's nn.LSTM ----

describe.skipIf(!process.env.RNN_BENCH)('timing', () => {
  it('LSTM 2x256 T=64 batch 1', () => {
    const T = 64, F = 256, H = 256;
    const lstm = new nn.LSTM(F, H, { numLayers: 2 });
    const sd = lstm.stateDict();
    // the same weights as two ONNX LSTM nodes: PyTorch's i, f, g, o blocks to ONNX's i, o, f, c
    const onnxOrder = [0, 3, 1, 2];
    const reorder = (w: Float32Array, rows: number) => {
      const out = new Float32Array(w.length), blk = rows * (w.length / (4 * rows));
      for (let g = 0; g < 4; g++) out.set(w.subarray(onnxOrder[g] * blk, (onnxOrder[g] + 1) * blk), g * blk);
      return out;
    };
    const layers = [0, 1].map((l) => {
      const K = l === 0 ? F : H;
      const W = reorder(sd[`weight_ih_l${l}`].data as Float32Array, H);
      const R = reorder(sd[`weight_hh_l${l}`].data as Float32Array, H);
      const bias = new Float32Array(8 * H);
      bias.set(reorder(sd[`bias_ih_l${l}`].data as Float32Array, H), 0);
      bias.set(reorder(sd[`bias_hh_l${l}`].data as Float32Array, H), 4 * H);
      return { node: node('LSTM', { hidden_size: H }, ['X', 'W', 'R', 'B'], ['Y'], 14, `l${l}`), W: tensorOf('float32', [1, 4 * H, K], W), R: tensorOf('float32', [1, 4 * H, H], R), B: tensorOf('float32', [1, 8 * H], bias) };
    });
    const xs = Float32Array.from(rng(1)(T * F));
    const x = tensor(xs, [T, 1, F]);
    // the same layers with a clip no value reaches: the stepwise path on the GEMM
    const clipped = layers.map((l, i) => ({ ...l, node: node('LSTM', { hidden_size: H, clip: { float: 1e30 } }, ['X', 'W', 'R', 'B'], ['Y'], 14, `c${i}`) }));
    const run = (ls: typeof layers, dtype: 'float32' | 'float64') => {
      const cast = (v: Float32Array) => (dtype === 'float32' ? v : Float64Array.from(v));
      let inp: OnnxTensor = { dtype, dims: [T, 1, F], data: cast(xs) };
      for (const l of ls) {
        // float32: the same weight tensors every call, as initializers are (packed once)
        const ws = [l.W, l.R, l.B].map((w) => (dtype === 'float32' ? w : { ...w, dtype, data: cast(w.data as Float32Array) }));
        const [Y] = RNN_OPS.LSTM.run(l.node, [inp, ...ws], { rt, constant: [] });
        inp = { dtype, dims: [T, 1, H], data: Y.data };
      }
      return inp;
    };
    const onnxRun = () => run(layers, 'float32');
    const stepwise = () => run(clipped, 'float32');
    expect(maxDiff(stepwise(), onnxRun())).toBeLessThan(1e-5);
    const t0 = performance.now();
    const ref = run(layers, 'float64');
    const tsMs = performance.now() - t0;
    expect(maxDiff(ref, onnxRun())).toBeLessThan(1e-5);
    const ours = onnxRun(), core = lstm.forward(x);
    expect(maxDiff(ours, { dims: [T, 1, H], data: core.data })).toBeLessThan(1e-5);
    // interleaved rounds, best round each: the machine is shared, the minimum is the least disturbed
    const best = [Infinity, Infinity, Infinity];
    const fs = [onnxRun, () => lstm.forward(x), stepwise];
    for (const f of fs) for (let i = 0; i < 5; i++) f();
    for (let round = 0; round < 20; round++) {
      fs.forEach((f, i) => {
        const t0 = performance.now();
        for (let k = 0; k < 5; k++) f();
        best[i] = Math.min(best[i], (performance.now() - t0) / 5);
      });
    }
    const [a, b, c] = best;
    console.info(`[rnn] LSTM 2x256 T=64 B=1: ONNX op (cell kernels) ${a.toFixed(3)} ms, nn.LSTM ${b.toFixed(3)} ms (ratio ${(a / b).toFixed(2)}); ` +
      `stepwise on the GEMM ${c.toFixed(3)} ms; float64 TS ${tsMs.toFixed(1)} ms (one run)`);
  }, 120_000);
});
