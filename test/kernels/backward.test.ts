/**
 * Backward kernels (assembly/*_backward.ts) in every variant against the f64 references of test/ref/backward.ts,
 * and those references against central finite differences of the f64 FORWARD references (conv2dRef,
 * maxpool2dRef, avgpool2dRef, adaptivePool2dRef, batchnormTrainRef, activations), using the scalar loss
 * L = sum(dy · forward(x)) with a random dy, so dL/dx is exactly what a backward kernel computes.
 *
 * Tolerances (one reason each):
 * - finite differences in f64: conv and avg pools are linear in the perturbed coordinate, so central
 *   differences with h = 1e-3 are exact up to f64 rounding / h (~1e-12): 1e-7. Max pools are piecewise linear:
 *   h = 1e-7 keeps the argmax fixed (random windows have gaps >> 1e-7), rounding/h ~ 1e-9. BatchNorm and
 *   tanh/sigmoid have O(h²) truncation with h = 1e-3: atol 1e-6 (+ 1e-6 relative).
 * - conv dx: each element sums KH*KW*OCg products of |v| <= 1 in f32; dw sums N*OH*OW products:
 *   atol = 4e-6 * (sum length), rtol 1e-5, as test/kernels/conv2d.test.ts.
 * - pooling: dx elements add at most KH*KW window shares (f32 adds in output order; the reference adds in
 *   f64): atol 1e-6, rtol 1e-6. The argmax choice itself must match exactly: a wrong tap is an O(1) error.
 * - bias_grad: f32 blocks of 32 then f64: atol 2e-6, rtol 1e-6. batchnorm: see the test (errors scale
 *   with gamma*invstd because dx is a difference of O(1) terms).
 * - act_backward: relu exact; tanh/sigmoid a few f32 roundings: rtol 1e-6, atol 1e-7.
 * - mul, dropout mask: exact (one rounding, or integer hashing).
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, Scope, expectClose, variant } from './harness.js';
import { randomArray, rng } from '../ref/rng.js';
import { conv2dRef, convOutSize, type ConvShape } from '../ref/conv2d.js';
import { adaptivePool2dRef, avgpool2dRef, maxpool2dRef, poolOutSize, type PoolDims } from '../ref/pool.js';
import {
  actBackwardRef, adaptivePool2dBackwardRef, avgpool2dBackwardRef, batchnormBackwardRef, batchnormStatsRef,
  batchnormTrainRef, biasGradRef, conv2dBackwardRef, dot, dropoutMaskRef, embeddingBackwardRef, finiteDiff,
  maxpool2dBackwardRef, sampleIndices,
} from '../ref/backward.js';
import type { Runtime } from '../../src/runtime/runtime.js';

const GUARD = 16;
const POISON = 12345.5;

/** An output block with poisoned guards on both sides (and poisoned contents unless init given). */
function guarded(s: Scope, n: number, init?: ArrayLike<number>) {
  const base = s.poisoned(n + 2 * GUARD, POISON);
  const ptr = base + 4 * GUARD;
  if (init) s.rt.arena.write(ptr, init);
  return {
    ptr,
    read: () => s.get(ptr, n),
    check: (what: string) => {
      const all = s.get(base, n + 2 * GUARD);
      for (let i = 0; i < GUARD; i++) {
        if (all[i] !== POISON || all[GUARD + n + i] !== POISON) throw new Error(`${what}: write outside the output (guard ${i})`);
      }
    },
  };
}

const f64 = (a: ArrayLike<number>) => Float64Array.from(a);

// ---------------------------------------------------------------------------------------------------------
// conv2d
// ---------------------------------------------------------------------------------------------------------

interface ConvCase extends Partial<ConvShape> { C: number; OC: number; H: number; W: number; K?: number }
function full(c: ConvCase): ConvShape {
  const k = c.K ?? 3;
  return {
    N: c.N ?? 2, H: c.H, W: c.W, C: c.C, OC: c.OC,
    KH: c.KH ?? k, KW: c.KW ?? k, SH: c.SH ?? 1, SW: c.SW ?? 1, PH: c.PH ?? 0, PW: c.PW ?? 0,
    DH: c.DH ?? 1, DW: c.DW ?? 1, groups: c.groups ?? 1,
  };
}

const CONV_CASES: ConvCase[] = [
  { H: 7, W: 6, C: 5, OC: 9, K: 3, PH: 1, PW: 1 }, // general path, channel tails
  { H: 9, W: 8, C: 3, OC: 4, K: 5, SH: 2, SW: 2, PH: 2, PW: 1 }, // stride, asymmetric padding
  { H: 9, W: 9, C: 4, OC: 6, K: 3, DH: 2, DW: 2, PH: 2, PW: 1, SH: 1, SW: 2 }, // dilation
  { H: 6, W: 5, C: 6, OC: 10, K: 3, PH: 1, PW: 1, groups: 2 }, // grouped
  { H: 7, W: 7, C: 13, OC: 13, K: 3, PH: 1, PW: 1, groups: 13 }, // depthwise (direct path)
  { H: 8, W: 7, C: 9, OC: 9, K: 5, SH: 2, SW: 2, PH: 2, PW: 2, DH: 1, DW: 2, groups: 9 }, // depthwise strided/dilated
  { H: 6, W: 6, C: 5, OC: 10, K: 3, PH: 1, PW: 1, groups: 5 }, // depthwise multiplier 2 (general path)
  { H: 5, W: 7, C: 13, OC: 19, K: 1 }, // 1x1 stride 1 pad 0: direct GEMM into dx
  { H: 9, W: 7, C: 8, OC: 12, K: 1, SH: 2, SW: 2 }, // strided 1x1 (general path, untouched pixels zero)
  { H: 5, W: 4, C: 6, OC: 6, K: 1, PH: 1, PW: 1, groups: 3 }, // 1x1 with padding, grouped
  { H: 6, W: 6, C: 3, OC: 3, K: 3, PH: 3, PW: 3 }, // padding larger than needed: all-padding taps
  { N: 1, H: 6, W: 5, C: 1, OC: 1, K: 3, PH: 1, PW: 1 }, // 1 -> 1 channel
  { H: 5, W: 5, C: 4, OC: 5, KH: 3, KW: 1, PH: 1 }, // non-square kernel
];
const CONV_BIG: ConvCase[] = [
  { H: 24, W: 24, C: 3, OC: 10, K: 3, PH: 1, PW: 1 }, // 1152 pixels: two dcol tiles and two weight tiles
  { N: 1, H: 3, W: 3, C: 600, OC: 600, K: 1 }, // W_g 600x600 > 1 MB: two input-channel chunks, 1x1 path
  { N: 1, H: 2, W: 2, C: 600, OC: 600, K: 1, PH: 1, PW: 1 }, // same chunks through the general path
  { N: 2, H: 10, W: 10, C: 70, OC: 20, K: 3, PH: 1, PW: 1 }, // K = 630 > the GEMM's K block
  { N: 1, H: 4, W: 5, C: 64, OC: 512, K: 3, PH: 1, PW: 1 }, // W_g 512 x 576 > 1 MB: per-tap data path
  { N: 2, H: 5, W: 4, C: 128, OC: 1024, K: 3, SW: 2, PH: 2, PW: 1, DH: 2, groups: 2 }, // per-tap, grouped, strided, dilated
];

function runConv(rt: Runtime, c: ConvCase, seed: number, accumulate: boolean): void {
  const s = full(c);
  const { OH, OW } = convOutSize(s);
  const ICg = s.C / s.groups, OCg = s.OC / s.groups;
  const k = rt.k;
  const sc = new Scope(rt);
  try {
    const x = randomArray(s.N * s.H * s.W * s.C, seed);
    const w = randomArray(s.OC * ICg * s.KH * s.KW, seed + 1);
    const dy = randomArray(s.N * OH * OW * s.OC, seed + 2);
    const dw0 = randomArray(w.length, seed + 3);
    const px = sc.put(x), pw = sc.put(w), pdy = sc.put(dy);
    const bytes = k.conv2d_backward_scratch_size(s.N, s.H, s.W, s.C, OH, OW, s.OC, s.KH, s.KW, s.SH, s.SW, s.PH, s.PW, s.DH, s.DW, s.groups);
    expect(bytes).toBeLessThanOrEqual(4 << 20);
    const scratch = sc.poisoned(Math.ceil(bytes / 4) + 4);
    const dx = guarded(sc, x.length);
    const dw = guarded(sc, w.length, accumulate ? dw0 : undefined);
    k.conv2d_backward_data(dx.ptr, pdy, pw, s.N, s.H, s.W, s.C, OH, OW, s.OC, s.KH, s.KW, s.SH, s.SW, s.PH, s.PW, s.DH, s.DW, s.groups, scratch);
    sc.rt.arena.f32.fill(-3.5, scratch >>> 2, (scratch >>> 2) + Math.ceil(bytes / 4)); // stale scratch must not matter
    k.conv2d_backward_weight(dw.ptr, px, pdy, s.N, s.H, s.W, s.C, OH, OW, s.OC, s.KH, s.KW, s.SH, s.SW, s.PH, s.PW, s.DH, s.DW, s.groups, accumulate ? 1 : 0, scratch);
    const ref = conv2dBackwardRef(s, x, w, dy);
    if (accumulate) for (let i = 0; i < w.length; i++) ref.dw[i] += dw0[i];
    const what = `${rt.backend} ${JSON.stringify(c)} seed ${seed}${accumulate ? ' acc' : ''}`;
    expectClose(dx.read(), ref.dx, 4e-6 * s.KH * s.KW * OCg, 1e-5, `${what} dx`);
    expectClose(dw.read(), ref.dw, 4e-6 * s.N * OH * OW + (accumulate ? 1e-6 : 0), 1e-5, `${what} dw`);
    dx.check(`${what} dx`);
    dw.check(`${what} dw`);
  } finally {
    sc.free();
  }
}

describe('conv2d backward reference vs finite differences', () => {
  it.each(CONV_CASES.slice(0, 8).map((c, i) => [i, c] as const))('case %i', (_i, c) => {
    const s = full(c);
    const { OH, OW } = convOutSize(s);
    const x = f64(randomArray(s.N * s.H * s.W * s.C, 3));
    const w = f64(randomArray(s.OC * (s.C / s.groups) * s.KH * s.KW, 4));
    const dy = randomArray(s.N * OH * OW * s.OC, 5);
    const ref = conv2dBackwardRef(s, x, w, dy);
    const r = rng(6);
    const ix = sampleIndices(x.length, 24, r), iw = sampleIndices(w.length, 24, r);
    const fdx = finiteDiff((xx) => dot(dy, conv2dRef(s, xx, w)), x, ix);
    const fdw = finiteDiff((ww) => dot(dy, conv2dRef(s, x, ww)), w, iw);
    expectClose(fdx, ix.map((i) => ref.dx[i]), 1e-7, 1e-7, 'dx');
    expectClose(fdw, iw.map((i) => ref.dw[i]), 1e-7, 1e-7, 'dw');
  });
});

describe.each(BACKENDS)('conv2d backward [%s]', (backend) => {
  it('data and weight gradients: paths, groups, depthwise, stride, padding, dilation', async () => {
    const rt = await variant(backend);
    for (const seed of [11, 12]) for (const c of CONV_CASES) runConv(rt, c, seed, seed === 12);
  });
  it('several pixel tiles, channel chunks, K blocks', async () => {
    const rt = await variant(backend);
    CONV_BIG.forEach((c, i) => runConv(rt, c, 21 + i, i % 2 === 1));
  });
});

// ---------------------------------------------------------------------------------------------------------
// pooling
// ---------------------------------------------------------------------------------------------------------

interface Cfg extends PoolDims { DH: number; DW: number; ceil: boolean }
function configs(seed: number, count: number, C: number, dilation: boolean): Cfg[] {
  const r = rng(seed);
  const pick = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const out: Cfg[] = [];
  while (out.length < count) {
    const KH = pick(1, 3), KW = pick(1, 3), SH = pick(1, 3), SW = pick(1, 3);
    const PH = pick(0, KH >> 1), PW = pick(0, KW >> 1);
    const DH = dilation ? pick(1, 2) : 1, DW = dilation ? pick(1, 2) : 1;
    const ceil = r() < 0.5;
    const H = pick(1, 9), W = pick(1, 9), N = pick(1, 2);
    const OH = poolOutSize(H, KH, PH, SH, DH, ceil), OW = poolOutSize(W, KW, PW, SW, DW, ceil);
    if (OH < 1 || OW < 1) continue;
    out.push({ N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, ceil });
  }
  return out;
}
const CS = [1, 3, 4, 5, 8, 9, 17];

describe('pooling backward references vs finite differences', () => {
  it('max, avg (count_include_pad, divisor), adaptive avg/max', () => {
    for (const c of configs(99, 6, 5, true)) {
      const x = f64(randomArray(c.N * c.H * c.W * c.C, 7));
      const dy = randomArray(c.N * c.OH * c.OW * c.C, 8);
      const idx = sampleIndices(x.length, 30, rng(9));
      expectClose(finiteDiff((xx) => dot(dy, maxpool2dRef(xx, c)), x, idx, 1e-7), idx.map((i) => maxpool2dBackwardRef(x, dy, c)[i]), 1e-7, 1e-7, 'max');
      for (const [cip, div] of [[false, 0], [true, 0], [true, 5]] as const) {
        const ref = avgpool2dBackwardRef(dy, c, cip, div);
        expectClose(finiteDiff((xx) => dot(dy, avgpool2dRef(xx, c, cip, div)), x, idx), idx.map((i) => ref[i]), 1e-7, 1e-7, 'avg');
      }
    }
    const [N, H, W, C, OH, OW] = [2, 7, 5, 3, 3, 2];
    const x = f64(randomArray(N * H * W * C, 10));
    const dy = randomArray(N * OH * OW * C, 11);
    const idx = sampleIndices(x.length, 40, rng(12));
    for (const mode of ['avg', 'max'] as const) {
      const ref = adaptivePool2dBackwardRef(x, dy, N, H, W, C, OH, OW, mode);
      expectClose(finiteDiff((xx) => dot(dy, adaptivePool2dRef(xx, N, H, W, C, OH, OW, mode)), x, idx, 1e-7), idx.map((i) => ref[i]), 1e-7, 1e-7, mode);
    }
  });
});

describe.each(BACKENDS)('pooling backward [%s]', (backend) => {
  it('maxpool2d_backward_nhwc: random configs incl. dilation, ceil_mode, overlapping windows', async () => {
    const rt = await variant(backend);
    for (const C of CS) for (const seed of [1, 2]) for (const c of configs(seed * 100 + C, 10, C, true)) {
      const s = new Scope(rt);
      const x = randomArray(c.N * c.H * c.W * C, seed + C);
      const dy = randomArray(c.N * c.OH * c.OW * C, seed + 2 * C);
      const dx = guarded(s, x.length);
      rt.k.maxpool2d_backward_nhwc(dx.ptr, s.put(dy), s.put(x), c.N, c.H, c.W, C, c.OH, c.OW, c.KH, c.KW, c.SH, c.SW, c.PH, c.PW, c.DH, c.DW);
      expectClose(dx.read(), maxpool2dBackwardRef(x, dy, c), 1e-6, 1e-6, `max ${JSON.stringify(c)}`);
      dx.check('max');
      s.free();
    }
  });

  it('maxpool2d_backward_nhwc: ties go to the first tap, NaN to the last NaN, -inf windows to the first tap', async () => {
    const rt = await variant(backend);
    const [N, H, W, C] = [1, 4, 4, 9];
    const x = new Float32Array(N * H * W * C);
    const r = rng(3);
    for (let i = 0; i < x.length; i++) x[i] = Math.floor(r() * 3) - 1; // many ties
    for (const c of [1, 6, 8]) { x[5 * C + c] = NaN; x[10 * C + c] = NaN; } // two NaNs in some windows
    for (let p = 0; p < H * W; p++) x[p * C + 3] = -Infinity; // channel 3: all -inf
    const dy = randomArray(4 * C, 4);
    const c = { N, H, W, C, OH: 2, OW: 2, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1, DH: 1, DW: 1 };
    const s = new Scope(rt);
    const dx = guarded(s, x.length);
    rt.k.maxpool2d_backward_nhwc(dx.ptr, s.put(dy), s.put(x), N, H, W, C, 2, 2, 3, 3, 2, 2, 1, 1, 1, 1);
    expectClose(dx.read(), maxpool2dBackwardRef(x, dy, c), 1e-6, 1e-6, 'ties/NaN');
    dx.check('ties');
    s.free();
  });

  it('avgpool2d_backward_nhwc: random configs x count_include_pad x divisor', async () => {
    const rt = await variant(backend);
    for (const C of CS) for (const seed of [3, 4]) for (const c of configs(seed * 100 + C, 8, C, false)) {
      for (const cip of [false, true]) for (const div of [0, 5]) {
        const s = new Scope(rt);
        const dy = randomArray(c.N * c.OH * c.OW * C, seed + 3 * C);
        const dx = guarded(s, c.N * c.H * c.W * C);
        rt.k.avgpool2d_backward_nhwc(dx.ptr, s.put(dy), c.N, c.H, c.W, C, c.OH, c.OW, c.KH, c.KW, c.SH, c.SW, c.PH, c.PW, cip ? 1 : 0, div);
        expectClose(dx.read(), avgpool2dBackwardRef(dy, c, cip, div), 1e-6, 1e-6, `avg ${JSON.stringify(c)} ${cip} ${div}`);
        dx.check('avg');
        s.free();
      }
    }
  });

  it('adaptive avg/max backward: down- and up-sampling windows', async () => {
    const rt = await variant(backend);
    for (const C of CS) for (const [H, W, OH, OW] of [[7, 5, 3, 2], [6, 6, 6, 6], [5, 7, 1, 1], [3, 3, 5, 6], [14, 14, 7, 7]]) {
      const N = 2;
      const s = new Scope(rt);
      const x = randomArray(N * H * W * C, H * 31 + C);
      const dy = randomArray(N * OH * OW * C, H * 17 + C);
      const dx = guarded(s, x.length);
      const pdy = s.put(dy), px = s.put(x);
      rt.k.adaptive_avgpool2d_backward_nhwc(dx.ptr, pdy, N, H, W, C, OH, OW);
      expectClose(dx.read(), adaptivePool2dBackwardRef(x, dy, N, H, W, C, OH, OW, 'avg'), 1e-6, 1e-6, `adaptive avg ${H}x${W}x${C}->${OH}x${OW}`);
      rt.k.adaptive_maxpool2d_backward_nhwc(dx.ptr, pdy, px, N, H, W, C, OH, OW);
      expectClose(dx.read(), adaptivePool2dBackwardRef(x, dy, N, H, W, C, OH, OW, 'max'), 1e-6, 1e-6, `adaptive max ${H}x${W}x${C}->${OH}x${OW}`);
      dx.check('adaptive');
      s.free();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// elementwise, bias, batchnorm, dropout, embedding
// ---------------------------------------------------------------------------------------------------------

const NS = [0, 1, 3, 4, 5, 7, 8, 9, 16, 17, 33, 100];
const actF = [(v: number) => v, (v: number) => Math.max(v, 0), Math.tanh, (v: number) => 1 / (1 + Math.exp(-v))];

describe('act / batchnorm references vs finite differences', () => {
  it('act_backward from the output', () => {
    const x = f64(randomArray(40, 1, -3, 3));
    const dy = randomArray(40, 2);
    const idx = sampleIndices(40, 20, rng(3));
    for (let act = 0; act < 4; act++) {
      const y = x.map(actF[act]);
      const ref = actBackwardRef(dy, y, act);
      expectClose(finiteDiff((xx) => dot(dy, xx.map(actF[act])), x, idx), idx.map((i) => ref[i]), 1e-6, 1e-6, `act ${act}`);
    }
  });
  it('batchnorm training backward', () => {
    const [P, C] = [37, 5];
    const x = f64(randomArray(P * C, 4, -2, 2));
    const gamma = f64(randomArray(C, 5, 0.5, 1.5)), beta = f64(randomArray(C, 6));
    const dy = randomArray(P * C, 7);
    const eps = 1e-5;
    const ref = batchnormBackwardRef(x, dy, gamma, eps, P, C);
    const idx = sampleIndices(P * C, 30, rng(8));
    expectClose(finiteDiff((xx) => dot(dy, batchnormTrainRef(xx, gamma, beta, eps, P, C)), x, idx), idx.map((i) => ref.dx[i]), 1e-6, 1e-6, 'dx');
    const all = [...Array(C).keys()];
    expectClose(finiteDiff((gg) => dot(dy, batchnormTrainRef(x, gg, beta, eps, P, C)), gamma, all), ref.dgamma, 1e-6, 1e-6, 'dgamma');
    expectClose(finiteDiff((bb) => dot(dy, batchnormTrainRef(x, gamma, bb, eps, P, C)), beta, all), ref.dbeta, 1e-6, 1e-6, 'dbeta');
  });
});

describe.each(BACKENDS)('elementwise training kernels [%s]', (backend) => {
  it('act_backward: every act, tails, in place', async () => {
    const rt = await variant(backend);
    for (const n of NS) for (let act = 0; act < 4; act++) {
      const s = new Scope(rt);
      const x = randomArray(n, n + act, -3, 3);
      const y = Float32Array.from(x, actF[act]);
      if (act === 1 && n > 2) y[1] = 0; // y == 0 exactly: no gradient
      const dy = randomArray(n, 2 * n + act);
      const ref = actBackwardRef(dy, y, act);
      const out = guarded(s, n);
      const py = s.put(y);
      rt.k.act_backward(out.ptr, s.put(dy), py, n, act, 0);
      if (act <= 1) expectClose(out.read(), ref, 0, 0, `act ${act} n ${n}`);
      else expectClose(out.read(), ref, 1e-7, 1e-6, `act ${act} n ${n}`);
      out.check('act');
      const inplace = guarded(s, n, dy);
      rt.k.act_backward(inplace.ptr, inplace.ptr, py, n, act, 0);
      expectClose(inplace.read(), out.read(), 0, 0, `act ${act} in place`);
      inplace.check('act in place');
      s.free();
    }
  });

  it('mul: exact, in place', async () => {
    const rt = await variant(backend);
    for (const n of NS) {
      const s = new Scope(rt);
      const a = randomArray(n, n), b = randomArray(n, n + 1);
      const out = guarded(s, n);
      rt.k.mul(out.ptr, s.put(a), s.put(b), n);
      expectClose(out.read(), Float32Array.from(a, (v, i) => Math.fround(v * b[i])), 0, 0, `mul ${n}`);
      out.check('mul');
      s.free();
    }
  });

  it('bias_grad: column sums, accumulate, several 32-row blocks', async () => {
    const rt = await variant(backend);
    for (const M of [1, 5, 32, 33, 100]) for (const N of [1, 3, 4, 5, 9, 17]) for (const acc of [false, true]) {
      const s = new Scope(rt);
      const dy = randomArray(M * N, M * 7 + N);
      const prev = randomArray(N, N);
      const db = guarded(s, N, prev);
      rt.k.bias_grad(db.ptr, s.put(dy), M, N, acc ? 1 : 0);
      const ref = biasGradRef(dy, M, N);
      if (acc) for (let i = 0; i < N; i++) ref[i] += prev[i];
      expectClose(db.read(), ref, 2e-6, 1e-6, `bias_grad ${M}x${N} ${acc}`);
      db.check('bias_grad');
      s.free();
    }
  });

  it('batchnorm_stats and batchnorm_backward: tails, blocks, accumulate, gamma absent, in place', async () => {
    const rt = await variant(backend);
    const eps = 1e-5;
    for (const C of [1, 3, 4, 5, 8, 13, 17]) for (const P of [1, 2, 31, 70]) for (const acc of [false, true]) {
      const s = new Scope(rt);
      const x = randomArray(P * C, P * 13 + C, -2, 2);
      const dy = randomArray(P * C, P * 5 + C);
      const gamma = randomArray(C, C, 0.5, 1.5);
      const prevG = randomArray(C, C + 1), prevB = randomArray(C, C + 2);
      const mean = guarded(s, C), vr = guarded(s, C);
      const px = s.put(x), pdy = s.put(dy);
      rt.k.batchnorm_stats(mean.ptr, vr.ptr, px, P, C);
      const st = batchnormStatsRef(x, P, C);
      const what = `bn P ${P} C ${C} ${acc}`;
      expectClose(mean.read(), st.mean, 1e-7, 1e-6, `${what} mean`);
      expectClose(vr.read(), st.var, 1e-7, 1e-6, `${what} var`);
      const dx = guarded(s, P * C), dg = guarded(s, C, prevG), db = guarded(s, C, prevB);
      const pg = s.put(gamma);
      rt.k.batchnorm_backward(dx.ptr, dg.ptr, db.ptr, pdy, px, mean.ptr, vr.ptr, pg, eps, P, C, acc ? 1 : 0);
      const ref = batchnormBackwardRef(x, dy, gamma, eps, P, C);
      if (acc) for (let c = 0; c < C; c++) { ref.dgamma[c] += prevG[c]; ref.dbeta[c] += prevB[c]; }
      // dx = gamma*invstd * (dy - mean(dy) - xhat*mean(dy*xhat)) is a difference of O(1) terms scaled by
      // k = gamma*invstd (316 for P = 1, var = 0), and xhat carries the f32 rounding of x - mean (ulp(x)) times
      // invstd, large when a channel is nearly constant (P = 2, two close values): per-channel atol
      // k * (2e-6 + 8 * 2^-24 * max|x| * invstd). dgamma sums P such xhat terms.
      const tolC = Array.from({ length: C }, (_, c) => {
        const inv = 1 / Math.sqrt(st.var[c] + eps);
        return Math.max(gamma[c], 1) * inv * (2e-6 + 8 * 2 ** -24 * 2 * inv);
      });
      const perChannel = (got: Float32Array, ref: Float64Array, rows: number, tol: (c: number) => number, w: string) => {
        for (let c = 0; c < C; c++) {
          const g = Array.from({ length: rows }, (_, p) => got[p * C + c]);
          const e = Array.from({ length: rows }, (_, p) => ref[p * C + c]);
          expectClose(g, e, tol(c), 1e-5, `${w} channel ${c}`);
        }
      };
      perChannel(dx.read(), ref.dx, P, (c) => tolC[c], `${what} dx`);
      perChannel(dg.read(), ref.dgamma, 1, (c) => tolC[c] * Math.sqrt(P) + 2e-6, `${what} dgamma`);
      expectClose(db.read(), ref.dbeta, 2e-6, 1e-6, `${what} dbeta`);
      [mean, vr, dx, dg, db].forEach((g) => g.check(what));
      // gamma = 0 pointer (affine off), dgamma/dbeta not wanted, in place dx = dy
      const ip = guarded(s, P * C, dy);
      rt.k.batchnorm_backward(ip.ptr, 0, 0, ip.ptr, px, mean.ptr, vr.ptr, 0, eps, P, C, 0);
      const ref1 = batchnormBackwardRef(x, dy, new Float64Array(C).fill(1), eps, P, C);
      perChannel(ip.read(), ref1.dx, P, (c) => tolC[c] / Math.min(gamma[c], 1), `${what} affine off, in place`);
      ip.check(what);
      s.free();
    }
  });

  it('batchnorm_stats: accurate for a large offset and many pixels', async () => {
    const rt = await variant(backend);
    const [P, C] = [20000, 6];
    const x = randomArray(P * C, 77, 100, 101);
    const s = new Scope(rt);
    const mean = s.put(C), vr = s.put(C);
    rt.k.batchnorm_stats(mean, vr, s.put(x), P, C);
    const st = batchnormStatsRef(x, P, C);
    expectClose(s.get(mean, C), st.mean, 0, 2e-7, 'mean');
    // var ~ 1/12: x - mean rounds to ~ulp(100) = 7.6e-6 relative to the spread
    expectClose(s.get(vr, C), st.var, 0, 1e-5, 'var');
    s.free();
  });

  it('dropout_mask: exact against the BigInt reference, keep rate ~ 1-p, p = 0 and 1', async () => {
    const rt = await variant(backend);
    for (const [n, p, lo, hi] of [[1000, 0.5, 1, 0], [4097, 0.1, 0xdeadbeef, 0x12345678], [33, 0.9, 7, 7], [64, 0, 3, 0], [64, 1, 3, 0]] as const) {
      const s = new Scope(rt);
      const m = guarded(s, n);
      rt.k.dropout_mask(m.ptr, n, p, lo, hi);
      const got = m.read();
      expectClose(got, dropoutMaskRef(n, p, lo, hi), 0, 0, `dropout n ${n} p ${p}`);
      m.check('dropout');
      if (n >= 1000) {
        const kept = got.filter((v) => v !== 0).length / n;
        expect(Math.abs(kept - (1 - p))).toBeLessThan(4 * Math.sqrt(p * (1 - p) / n));
      }
      s.free();
    }
  });

  it('embedding_backward: repeated ids add up, padding row untouched', async () => {
    const rt = await variant(backend);
    for (const dim of [1, 4, 7, 16]) {
      const s = new Scope(rt);
      const num = 6;
      const ids = [0, 3, 3, 5, 2, 3, 0, 1];
      const dy = randomArray(ids.length * dim, dim);
      const w0 = randomArray(num * dim, dim + 1);
      const dw = guarded(s, num * dim, w0);
      const pid = s.rt.arena.alloc(ids.length * 4);
      new Int32Array(s.rt.arena.memory.buffer, pid, ids.length).set(ids);
      rt.k.embedding_backward(dw.ptr, pid, s.put(dy), ids.length, dim, 3);
      expectClose(dw.read(), embeddingBackwardRef(w0, ids, dy, dim, 3), 1e-7, 1e-7, `embedding dim ${dim}`);
      dw.check('embedding');
      s.rt.arena.release(pid);
      s.free();
    }
  });
});
