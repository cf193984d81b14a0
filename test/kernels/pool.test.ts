/**
 * Pooling kernels (assembly/pool.ts) against the f64 oracles in test/ref/pool.ts, in every variant, and
 * the oracles themselves against PyTorch fixtures (test/golden/pool, from tools/gen_pool_fixtures.py).
 *
 * Tolerances: max pools are exact (the result is one of the inputs). Average pools sum at most KH*KW
 * values of |x| <= 1 in f32 (rounding error <= KH*KW*2^-24 * sum|x|, and sum|x| <= KH*KW), then divide by
 * a divisor >= 1 (one more rounding, 2^-24 relative): atol = (KH*KW)^2 * 2^-24 + 1e-7, rtol = 2^-23.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BACKENDS, Scope, expectClose, variant } from './harness.js';
import { randomArray, rng } from '../ref/rng.js';
import { adaptivePool2dRef, avgpool2dRef, goldenInput, maxpool2dRef, poolOutSize, type PoolDims } from '../ref/pool.js';
import { nchwToNhwcRef, nhwcToNchwRef } from '../ref/elementwise.js';

const CS = [1, 3, 4, 5, 7, 8, 9, 16, 17, 33];
const GUARD = 16; // poisoned floats on each side of every output

/** An output block with poisoned guards on both sides; check() verifies the guards are intact. */
function guarded(s: Scope, n: number) {
  const base = s.poisoned(n + 2 * GUARD);
  const ptr = base + 4 * GUARD;
  return {
    ptr,
    read: () => s.get(ptr, n),
    check: () => {
      const all = s.get(base, n + 2 * GUARD);
      for (let i = 0; i < GUARD; i++) {
        if (all[i] !== 12345.5 || all[GUARD + n + i] !== 12345.5) throw new Error(`write outside the output (guard ${i})`);
      }
    },
  };
}

/** Bitwise-equal values (max pools return one of their inputs; an all-padding window is -inf in PyTorch too). */
function exact(a: ArrayLike<number>, b: ArrayLike<number>, what: string) {
  if (a.length !== b.length) throw new Error(`${what}: length ${a.length} != ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) throw new Error(`${what}: index ${i}: got ${a[i]}, expected ${b[i]}`);
  }
}

interface Cfg extends PoolDims { DH: number; DW: number; ceil: boolean }

/** Random valid pooling configurations (PyTorch's rules: pad <= k/2, at least one output). */
function configs(seed: number, count: number, C: number, dilation: boolean): Cfg[] {
  const r = rng(seed);
  const pick = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const out: Cfg[] = [];
  while (out.length < count) {
    const KH = pick(1, 3), KW = pick(1, 3);
    const SH = pick(1, 3), SW = pick(1, 3);
    const PH = pick(0, KH >> 1), PW = pick(0, KW >> 1);
    const DH = dilation ? pick(1, 2) : 1, DW = dilation ? pick(1, 2) : 1;
    const ceil = r() < 0.5;
    const H = pick(1, 9), W = pick(1, 9);
    const N = pick(1, 2);
    const OH = poolOutSize(H, KH, PH, SH, DH, ceil), OW = poolOutSize(W, KW, PW, SW, DW, ceil);
    if (OH < 1 || OW < 1) continue;
    out.push({ N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, ceil });
  }
  return out;
}

const name = (c: Cfg) => `N${c.N} ${c.H}x${c.W}x${c.C} k${c.KH}x${c.KW} s${c.SH}x${c.SW} p${c.PH}x${c.PW} d${c.DH}x${c.DW}${c.ceil ? ' ceil' : ''} -> ${c.OH}x${c.OW}`;

describe('reference vs PyTorch fixtures', () => {
  const golden = JSON.parse(readFileSync('test/golden/pool/torch_cases.json', 'utf8'));
  it('has the expected header', () => {
    expect(golden.magic).toBe('wasmzoo-pool-golden');
    expect(golden.version).toBe(1);
  });
  const cases: [string, any][] = golden.cases.filter((c: any) => c.op !== 'lrn').map((c: any, i: number) => [`${i} ${c.op}`, c]);
  it.each(cases)('%s', (_: string, c: any) => {
    const x = goldenInput(c.N, c.C, c.H, c.W);
    const xh = nchwToNhwcRef(x, c.N, c.C, c.H, c.W);
    let y: Float64Array;
    if (c.op === 'maxpool2d' || c.op === 'avgpool2d') {
      expect(poolOutSize(c.H, c.KH, c.PH, c.SH, c.DH ?? 1, c.ceil)).toBe(c.OH);
      expect(poolOutSize(c.W, c.KW, c.PW, c.SW, c.DW ?? 1, c.ceil)).toBe(c.OW);
    }
    if (c.op === 'maxpool2d') y = maxpool2dRef(xh, c);
    else if (c.op === 'avgpool2d') y = avgpool2dRef(xh, c, c.count_include_pad, c.divisor);
    else y = adaptivePool2dRef(xh, c.N, c.H, c.W, c.C, c.OH, c.OW, c.op === 'adaptive_maxpool2d' ? 'max' : 'avg');
    expectClose(nhwcToNchwRef(y, c.N, c.C, c.OH, c.OW), c.out, 1e-6, 1e-6, c.op);
  });
});

describe.each(BACKENDS)('pooling kernels, %s', (b) => {
  it('maxpool2d_nhwc: exact over random configs incl. dilation and ceil_mode', async () => {
    const rt = await variant(b);
    for (const C of CS) for (const seed of [1, 2]) for (const c of configs(seed * 1000 + C, 12, C, true)) {
      const s = new Scope(rt);
      const x = randomArray(c.N * c.H * c.W * C, seed + C);
      const n = c.N * c.OH * c.OW * C;
      const o = guarded(s, n);
      rt.k.maxpool2d_nhwc(o.ptr, s.put(x), c.N, c.H, c.W, C, c.OH, c.OW, c.KH, c.KW, c.SH, c.SW, c.PH, c.PW, c.DH, c.DW);
      exact(o.read(), maxpool2dRef(x, c), name(c));
      o.check();
      s.free();
    }
  });

  it('maxpool2d_nhwc: systematic k 1..3, s 1..3, pad <= k/2, ceil on/off, dilation 1..2', async () => {
    const rt = await variant(b);
    const [N, H, W, C] = [2, 7, 8, 9];
    const x = randomArray(N * H * W * C, 77);
    for (let k = 1; k <= 3; k++) for (let st = 1; st <= 3; st++) for (let p = 0; p <= k >> 1; p++) for (const d of [1, 2]) for (const ceil of [false, true]) {
      const OH = poolOutSize(H, k, p, st, d, ceil), OW = poolOutSize(W, k, p, st, d, ceil);
      const c: Cfg = { N, H, W, C, OH, OW, KH: k, KW: k, SH: st, SW: st, PH: p, PW: p, DH: d, DW: d, ceil };
      const s = new Scope(rt);
      const o = guarded(s, N * OH * OW * C);
      rt.k.maxpool2d_nhwc(o.ptr, s.put(x), N, H, W, C, OH, OW, k, k, st, st, p, p, d, d);
      exact(o.read(), maxpool2dRef(x, c), name(c));
      o.check();
      s.free();
    }
  });

  it('maxpool2d_nhwc propagates NaN like PyTorch and never returns padding', async () => {
    const rt = await variant(b);
    const [N, H, W, C] = [1, 3, 3, 22];
    const x = randomArray(N * H * W * C, 5, -3, -1); // all negative: zero padding would win
    // centre pixel: one NaN in each channel path (16-wide block, 4-wide block, scalar tail)
    for (const c of [1, 13, 17, 21]) x[4 * C + c] = NaN;
    x[0 * C + 2] = NaN; // corner pixel: only in the top-left window
    const s = new Scope(rt);
    const o = guarded(s, 4 * C);
    rt.k.maxpool2d_nhwc(o.ptr, s.put(x), N, H, W, C, 2, 2, 3, 3, 2, 2, 1, 1, 1, 1);
    const y = o.read();
    const ref = maxpool2dRef(x, { N, H, W, C, OH: 2, OW: 2, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1, DH: 1, DW: 1 });
    for (let i = 0; i < y.length; i++) {
      if (Number.isNaN(ref[i])) expect(Number.isNaN(y[i]), `index ${i}`).toBe(true);
      else { expect(y[i]).toBe(ref[i]); expect(y[i]).toBeLessThan(0); }
    }
    o.check();
    s.free();
  });

  it('avgpool2d_nhwc: random configs x count_include_pad x divisor override', async () => {
    const rt = await variant(b);
    for (const C of CS) for (const seed of [3, 4]) for (const c of configs(seed * 1000 + C, 10, C, false)) {
      for (const cip of [false, true]) for (const div of [0, 1, 5]) {
        const s = new Scope(rt);
        const x = randomArray(c.N * c.H * c.W * C, seed + 7 * C);
        const o = guarded(s, c.N * c.OH * c.OW * C);
        rt.k.avgpool2d_nhwc(o.ptr, s.put(x), c.N, c.H, c.W, C, c.OH, c.OW, c.KH, c.KW, c.SH, c.SW, c.PH, c.PW, cip ? 1 : 0, div);
        const kk = c.KH * c.KW;
        expectClose(o.read(), avgpool2dRef(x, c, cip, div), kk * 2 ** -24 * kk + 1e-7, 2 ** -23, `${name(c)} cip ${cip} div ${div}`);
        o.check();
        s.free();
      }
    }
  });

  it('adaptive avg/max pools: down- and up-sampling windows', async () => {
    const rt = await variant(b);
    for (const C of CS) for (const [H, W, OH, OW] of [[7, 5, 3, 2], [6, 6, 6, 6], [5, 7, 1, 1], [3, 3, 5, 6], [9, 4, 4, 3], [14, 14, 7, 7]]) {
      const N = 2;
      const s = new Scope(rt);
      const x = randomArray(N * H * W * C, H * 31 + C);
      const xp = s.put(x);
      const o = guarded(s, N * OH * OW * C);
      rt.k.adaptive_maxpool2d_nhwc(o.ptr, xp, N, H, W, C, OH, OW);
      exact(o.read(), adaptivePool2dRef(x, N, H, W, C, OH, OW, 'max'), `adaptive max ${H}x${W}x${C} -> ${OH}x${OW}`);
      o.check();
      rt.k.adaptive_avgpool2d_nhwc(o.ptr, xp, N, H, W, C, OH, OW);
      // at most ceil(H/OH)+1 rows x ceil(W/OW)+1 cols are summed (<= 12 here): f32 sum + one division
      expectClose(o.read(), adaptivePool2dRef(x, N, H, W, C, OH, OW, 'avg'), 12 * 2 ** -24 + 1e-7, 2 ** -23, `adaptive avg ${H}x${W}x${C} -> ${OH}x${OW}`);
      o.check();
      s.free();
    }
  });

  it('kernels agree with the PyTorch fixtures end to end', async () => {
    const rt = await variant(b);
    const golden = JSON.parse(readFileSync('test/golden/pool/torch_cases.json', 'utf8'));
    for (const c of golden.cases) {
      if (c.op === 'lrn') continue;
      const s = new Scope(rt);
      const xh = Float32Array.from(nchwToNhwcRef(goldenInput(c.N, c.C, c.H, c.W), c.N, c.C, c.H, c.W));
      const xp = s.put(xh);
      const n = c.N * c.OH * c.OW * c.C;
      const o = guarded(s, n);
      if (c.op === 'maxpool2d') rt.k.maxpool2d_nhwc(o.ptr, xp, c.N, c.H, c.W, c.C, c.OH, c.OW, c.KH, c.KW, c.SH, c.SW, c.PH, c.PW, c.DH, c.DW);
      else if (c.op === 'avgpool2d') rt.k.avgpool2d_nhwc(o.ptr, xp, c.N, c.H, c.W, c.C, c.OH, c.OW, c.KH, c.KW, c.SH, c.SW, c.PH, c.PW, c.count_include_pad ? 1 : 0, c.divisor);
      else if (c.op === 'adaptive_avgpool2d') rt.k.adaptive_avgpool2d_nhwc(o.ptr, xp, c.N, c.H, c.W, c.C, c.OH, c.OW);
      else rt.k.adaptive_maxpool2d_nhwc(o.ptr, xp, c.N, c.H, c.W, c.C, c.OH, c.OW);
      // inputs are multiples of 1/8: sums are exact, only the division rounds (same as PyTorch's)
      const exact = c.op.includes('max');
      expectClose(nhwcToNchwRef(o.read(), c.N, c.C, c.OH, c.OW), c.out, exact ? 0 : 1e-7, exact ? 0 : 2 ** -23, c.op);
      o.check();
      s.free();
    }
  });
});
