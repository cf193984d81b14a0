/**
 * Elementwise kernels (assembly/elementwise.ts) against the f64 oracles in test/ref/elementwise.ts, in every
 * variant, over sizes around the vector width (tails, >= 2 loop iterations), in place where the contract
 * allows it, with poisoned guards around every output.
 *
 * Tolerances (one reason each):
 * - relu, copy_channels, transposes: exact (no arithmetic).
 * - sigmoid, tanh (and act codes 2/3 in fused kernels): the bounds stated in assembly/activation.ts:
 *   abs 1.5e-7 everywhere; add/scale_shift add the f32 rounding of the sum before the activation.
 * - softmax: exp rel 2e-7 per term, f32 sum of `cols` terms (rel cols*2^-24), one reciprocal and one
 *   multiply (2 * 2^-24): rtol = 4e-7 + cols*2^-24.
 * - log_softmax: x - max rounds to 1/2 ulp of |x - max| (<= 20 here), log(sum) carries the sum's relative
 *   error as an absolute one: atol = 4e-7 + cols*2^-24, rtol = 2^-22.
 * - lrn: f32 sum of `size` squares and the pow (sqrt-based for beta 0.75/0.5, Mathf.pow otherwise):
 *   rtol = 1e-6 (measured <= 3e-7).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BACKENDS, Scope, expectClose, variant } from './harness.js';
import { randomArray } from '../ref/rng.js';
import {
  actRef, addRef, lrnRef, mapRef, nchwToNhwcRef, nhwcToNchwRef, scaleShiftRef, softmaxRef,
} from '../ref/elementwise.js';
import { goldenInput } from '../ref/pool.js';

const NS = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 257];
const CS = [1, 3, 4, 5, 7, 8, 9, 16, 17, 33];
const GUARD = 16;
const POISON = 12345.5;
const ACT_ABS = 1.5e-7;

function guarded(s: Scope, n: number, init?: Float32Array) {
  const base = s.poisoned(n + 2 * GUARD, POISON);
  const ptr = base + 4 * GUARD;
  if (init) s.rt.arena.write(ptr, init);
  return {
    ptr,
    read: () => s.get(ptr, n),
    check: () => {
      const all = s.get(base, n + 2 * GUARD);
      for (let i = 0; i < GUARD; i++) {
        if (all[i] !== POISON || all[GUARD + n + i] !== POISON) throw new Error(`write outside the output (guard ${i})`);
      }
    },
  };
}

/** expectClose where NaN must meet NaN (expectClose itself treats any NaN as a mismatch). */
function expectCloseNaN(actual: Float32Array, expected: Float64Array, atol: number, rtol: number, what: string) {
  const a = Float64Array.from(actual), e = Float64Array.from(expected);
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(e[i])) {
      if (!Number.isNaN(a[i])) throw new Error(`${what}: index ${i}: got ${a[i]}, expected NaN`);
      a[i] = e[i] = 0;
    }
  }
  expectClose(a, e, atol, rtol, what);
}

const exact = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) throw new Error(`${what}: index ${i}: got ${a[i]}, expected ${b[i]}`);
  }
};

describe.each(BACKENDS)('elementwise kernels, %s', (b) => {
  it('relu / sigmoid / tanh, out of place and in place', async () => {
    const rt = await variant(b);
    for (const n of NS) for (const seed of [1, 2, 3]) for (const inPlace of [false, true]) {
      const x = randomArray(n, seed * 100 + n, -12, 12);
      if (n > 6) x[n - 2] = NaN; // NaN propagates (torch.relu / sigmoid / tanh keep it), also in tails
      for (const [fn, act] of [['relu', 1], ['sigmoid', 3], ['tanh', 2]] as const) {
        const s = new Scope(rt);
        const o = guarded(s, n, inPlace ? x : undefined);
        (rt.k as any)[fn](o.ptr, inPlace ? o.ptr : s.put(x), n);
        const ref = mapRef(x, (v) => actRef(v, act));
        if (fn === 'relu') exact(o.read(), Float32Array.from(ref), `relu n ${n}`);
        else expectCloseNaN(o.read(), ref, ACT_ABS, 0, `${fn} n ${n} inPlace ${inPlace}`);
        o.check();
        s.free();
      }
    }
  });

  it('add with every act, in place into a and b', async () => {
    const rt = await variant(b);
    for (const n of NS) for (const act of [0, 1, 2, 3]) for (const where of ['out', 'a', 'b'] as const) {
      const x = randomArray(n, n + 1, -4, 4), y = randomArray(n, n + 2, -4, 4);
      const s = new Scope(rt);
      const o = guarded(s, n, where === 'a' ? x : where === 'b' ? y : undefined);
      const pa = where === 'a' ? o.ptr : s.put(x), pb = where === 'b' ? o.ptr : s.put(y);
      rt.k.add(o.ptr, pa, pb, n, act, 0);
      const ref = addRef(x, y, act);
      if (act <= 1) exact(o.read(), Float32Array.from(ref), `add act ${act} n ${n}`);
      else expectClose(o.read(), ref, ACT_ABS, 0, `add act ${act} n ${n}`);
      o.check();
      s.free();
    }
  });

  it('softmax / log_softmax: rows x cols with tails, in place, large offsets, -inf entries', async () => {
    const rt = await variant(b);
    for (const cols of [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 100, 1000]) for (const rows of [1, 3]) for (const inPlace of [false, true]) {
      const x = randomArray(rows * cols, cols * 7 + rows, -10, 10);
      if (rows > 1) for (let j = 0; j < cols; j++) x[cols + j] += 1000; // max subtraction keeps it finite
      if (cols > 3) x[2 * cols - 2] = -Infinity; // a masked entry: softmax 0, log_softmax -inf
      for (const log of [false, true]) {
        const s = new Scope(rt);
        const o = guarded(s, rows * cols, inPlace ? x : undefined);
        (log ? rt.k.log_softmax : rt.k.softmax)(o.ptr, inPlace ? o.ptr : s.put(x), rows, cols);
        const ref = softmaxRef(x, rows, cols, log);
        const tol = 4e-7 + (cols + 20) * 2 ** -24;
        const y = o.read();
        if (log) { // -inf must stay -inf (expectClose cannot subtract infinities)
          for (let i = 0; i < y.length; i++) if (ref[i] === -Infinity) { expect(y[i]).toBe(-Infinity); y[i] = 0; ref[i] = 0; }
          expectClose(y, ref, tol, 2 ** -22, `log_softmax ${rows}x${cols}`);
        }
        else expectClose(o.read(), ref, 0, tol, `softmax ${rows}x${cols}`);
        if (!log) { // rows sum to 1 within the same bound
          const y = o.read();
          for (let r = 0; r < rows; r++) { let t = 0; for (let j = 0; j < cols; j++) t += y[r * cols + j]; expect(Math.abs(t - 1)).toBeLessThan(2 * tol); }
        }
        o.check();
        s.free();
      }
    }
  });

  it('scale_shift (BatchNorm inference) with every act, P x C with channel tails, in place', async () => {
    const rt = await variant(b);
    for (const C of CS) for (const P of [1, 2, 5]) for (const act of [0, 1, 2, 3]) for (const inPlace of [false, true]) {
      const x = randomArray(P * C, P * 100 + C, -3, 3);
      const sc = randomArray(C, C + 5, -2, 2), sh = randomArray(C, C + 6, -1, 1);
      const s = new Scope(rt);
      const o = guarded(s, P * C, inPlace ? x : undefined);
      rt.k.scale_shift(o.ptr, inPlace ? o.ptr : s.put(x), s.put(sc), s.put(sh), P, C, act, 0);
      // x*s+b rounds once or twice in f32 (relaxed may fuse): |x*s| + |b| <= 7, 2 ulps of 8 = 1e-6
      expectClose(o.read(), scaleShiftRef(x, sc, sh, P, C, act), 1e-6 + ACT_ABS, 0, `scale_shift P ${P} C ${C} act ${act}`);
      o.check();
      s.free();
    }
  });

  it('lrn_nhwc: PyTorch LocalResponseNorm semantics, sizes 1..7, beta fast paths and general', async () => {
    const rt = await variant(b);
    for (const C of [...CS, 64, 96]) for (const size of [1, 2, 3, 4, 5, 7]) for (const [alpha, beta, k] of [[1e-4, 0.75, 2], [0.5, 0.75, 1], [0.3, 0.5, 1], [0.2, 1, 1.5], [0.9, 1.3, 0.5]]) {
      const P = 3;
      const x = randomArray(P * C, C * 13 + size, -3, 3);
      const s = new Scope(rt);
      const o = guarded(s, P * C);
      rt.k.lrn_nhwc(o.ptr, s.put(x), P, C, size, alpha, beta, k);
      expectClose(o.read(), lrnRef(x, P, C, size, alpha, beta, k), 1e-7, 1e-6, `lrn C ${C} size ${size} beta ${beta}`);
      o.check();
      s.free();
    }
  });

  it('lrn_nhwc in place (out == inp): sizes up to 17, channel counts around the 8-channel hold-back', async () => {
    const rt = await variant(b);
    for (const C of [1, 3, 7, 8, 9, 16, 17, 33, 96]) for (const size of [1, 2, 5, 9, 16, 17]) {
      const P = 3;
      const x = randomArray(P * C, C * 17 + size, -3, 3);
      const s = new Scope(rt);
      const o = guarded(s, P * C, x);
      rt.k.lrn_nhwc(o.ptr, o.ptr, P, C, size, 0.5, 0.75, 1);
      expectClose(o.read(), lrnRef(x, P, C, size, 0.5, 0.75, 1), 1e-7, 1e-6, `lrn in place C ${C} size ${size}`);
      o.check();
      s.free();
    }
  });

  it('lrn_nhwc and its oracle agree with PyTorch fixtures', async () => {
    const rt = await variant(b);
    const golden = JSON.parse(readFileSync('test/golden/pool/torch_cases.json', 'utf8'));
    for (const c of golden.cases.filter((c: any) => c.op === 'lrn')) {
      const { N, C, H, W } = c;
      const xh = Float32Array.from(nchwToNhwcRef(goldenInput(N, C, H, W), N, C, H, W));
      const P = N * H * W;
      expectClose(nhwcToNchwRef(lrnRef(xh, P, C, c.size, c.alpha, c.beta, c.k), N, C, H, W), c.out, 1e-7, 1e-6, `lrn oracle ${JSON.stringify(c).slice(0, 80)}`);
      const s = new Scope(rt);
      const o = guarded(s, P * C);
      rt.k.lrn_nhwc(o.ptr, s.put(xh), P, C, c.size, c.alpha, c.beta, c.k);
      expectClose(nhwcToNchwRef(o.read(), N, C, H, W), c.out, 1e-7, 1e-6, 'lrn kernel vs torch');
      o.check();
      s.free();
    }
  });

  it('copy_channels: exact, into a channel slice of a wider buffer, gaps untouched', async () => {
    const rt = await variant(b);
    for (const C of CS) for (const [extraOut, extraIn] of [[0, 0], [3, 0], [0, 5], [4, 9]]) for (const P of [1, 2, 7]) {
      const outPs = C + extraOut, inPs = C + extraIn;
      const x = randomArray(P * inPs, C * 3 + P);
      const s = new Scope(rt);
      const n = P * outPs;
      const o = guarded(s, n);
      rt.k.copy_channels(o.ptr, s.put(x), P, C, outPs, inPs);
      const want = new Float32Array(n).fill(POISON);
      for (let p = 0; p < P; p++) for (let c = 0; c < C; c++) want[p * outPs + c] = x[p * inPs + c];
      exact(o.read(), want, `copy_channels C ${C} ps ${outPs}/${inPs} P ${P}`);
      o.check();
      s.free();
    }
  });

  it('nchw_to_nhwc / nhwc_to_nchw: exact, round trip', async () => {
    const rt = await variant(b);
    for (const C of CS) for (const [N, H, W] of [[1, 1, 1], [2, 3, 5], [1, 4, 4], [2, 7, 9], [1, 1, 17]]) {
      const n = N * C * H * W;
      const x = randomArray(n, n + C);
      const s = new Scope(rt);
      const a = guarded(s, n), bb = guarded(s, n);
      rt.k.nchw_to_nhwc(a.ptr, s.put(x), N, C, H, W);
      exact(a.read(), Float32Array.from(nchwToNhwcRef(x, N, C, H, W)), `nchw_to_nhwc ${N}x${C}x${H}x${W}`);
      rt.k.nhwc_to_nchw(bb.ptr, a.ptr, N, C, H, W);
      exact(bb.read(), x, `round trip ${N}x${C}x${H}x${W}`);
      a.check(); bb.check();
      s.free();
    }
  });
});
