/**
 * Recurrent training cells (assembly/rnn_cell.ts, rnn_cell_backward.ts): the f64 oracles (test/ref/rnn_backward.ts) against
 * central finite differences, then every kernel against the oracles in every variant.
 *
 * Sweep: H = 1, 3, 4 (one f32x4), 5, 8, 13 (vectors + a tail), 33; B = 1..3; gate rows with a stride larger
 * than G*H and h rows strided (the kernels read and write inside [T, B, D*H] sequences), poison after every
 * valid region; the "zeros" pointers (no c_prev / h_prev / dh_out / dh_rec) are exercised too.
 *
 * Tolerances: the kernels use activation.ts's sigmoid/tanh (abs error <= 1.5e-7 each) on f32 inputs; a
 * gradient chains up to four of them with factors <= ~4 (dh, dc in [-1, 1), activations in (0, 1)): 2e-6
 * abs + 1e-5 rel. Finite differences of the f64 oracle: step 1e-5, 1e-7 abs + 1e-6 rel.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, Scope, expectClose, variant } from './harness.js';
import { randomArray } from '../ref/rng.js';
import { gruCellBackwardRef, gruCellForwardRef, lstmCellBackwardRef, lstmCellForwardRef, rnnCellBackwardRef } from '../ref/rnn_backward.js';

const POISON = 12345.5;
const ATOL = 2e-6, RTOL = 1e-5;
const SHAPES: [number, number][] = [[1, 1], [2, 3], [1, 4], [3, 5], [2, 8], [3, 13], [1, 33]];

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

/** Central differences of f (a scalar function of x) at every element of x. */
function numGrad(x: Float64Array, f: () => number, eps = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    x[i] = v + eps; const a = f();
    x[i] = v - eps; const b = f();
    x[i] = v;
    g[i] = (a - b) / (2 * eps);
  }
  return g;
}

describe('rnn_backward oracles vs finite differences', () => {
  for (const H of [1, 3, 6]) {
    it(`LSTM cell, H = ${H}`, () => {
      const pre = Float64Array.from(randomArray(4 * H, 10 + H, -2, 2)), cPrev = Float64Array.from(randomArray(H, 20 + H));
      const wh = randomArray(H, 30 + H), wc = randomArray(H, 40 + H);
      // L = wh·h + wc·c: dh = wh, dc (from the next step) = wc
      const L = () => { const r = lstmCellForwardRef(pre, cPrev, H); return dot(wh, r.h) + dot(wc, r.c); };
      const f = lstmCellForwardRef(pre, cPrev, H);
      const b = lstmCellBackwardRef(f.act, f.c, cPrev, wh, wc, H);
      expectClose(b.dpre, numGrad(pre, L), 1e-7, 1e-6, 'dpre');
      expectClose(b.dcPrev, numGrad(cPrev, L), 1e-7, 1e-6, 'dcPrev');
    });
    it(`GRU cell, H = ${H}`, () => {
      const gx = Float64Array.from(randomArray(3 * H, 50 + H, -2, 2)), gh = Float64Array.from(randomArray(3 * H, 60 + H, -2, 2));
      const hPrev = Float64Array.from(randomArray(H, 70 + H)), wh = randomArray(H, 80 + H);
      const L = () => dot(wh, gruCellForwardRef(gx, gh, hPrev, H).h);
      const f = gruCellForwardRef(gx, gh, hPrev, H);
      const b = gruCellBackwardRef(f.act, gh, hPrev, wh, H);
      expectClose(b.dgx, numGrad(gx, L), 1e-7, 1e-6, 'dgx');
      expectClose(b.dgh, numGrad(gh, L), 1e-7, 1e-6, 'dgh');
      expectClose(b.dhPrev, numGrad(hPrev, L), 1e-7, 1e-6, 'dhPrev (gh fixed)');
    });
    it(`RNN cell (tanh, relu), H = ${H}`, () => {
      const pre = Float64Array.from(randomArray(H, 90 + H, -2, 2)), wh = randomArray(H, 95 + H);
      for (const relu of [false, true]) {
        const act = (p: Float64Array) => Array.from(p, (v) => (relu ? Math.max(v, 0) : Math.tanh(v)));
        const L = () => dot(wh, act(pre));
        expectClose(rnnCellBackwardRef(act(pre), wh, relu, H), numGrad(pre, L), 1e-7, 1e-6, `relu=${relu}`);
      }
    });
  }
});

/** Rows of `w` floats at stride ld in a block of B*ld (+ poison after), as f32 data with the pad poisoned. */
function strided(data: Float32Array, B: number, w: number, ld: number): Float32Array {
  const out = new Float32Array(B * ld + 4).fill(POISON);
  for (let b = 0; b < B; b++) out.set(data.subarray(b * w, (b + 1) * w), b * ld);
  return out;
}
function unstride(data: Float32Array, B: number, w: number, ld: number): Float32Array {
  const out = new Float32Array(B * w);
  for (let b = 0; b < B; b++) out.set(data.subarray(b * ld, b * ld + w), b * w);
  return out;
}
/** Every float outside the B rows of w at stride ld is still POISON. */
function expectPoison(data: Float32Array, B: number, w: number, ld: number, what: string): void {
  for (let i = 0; i < data.length; i++) {
    const inRow = i < B * ld && i % ld < w;
    if (!inRow && data[i] !== POISON) throw new Error(`${what}: wrote outside its rows at ${i}`);
  }
}
const rows = (a: Float32Array, b: number, w: number) => a.subarray(b * w, (b + 1) * w);

describe.each(BACKENDS)('rnn_backward kernels (%s)', (backend) => {
  it('lstm_cell_forward / lstm_cell_backward', async () => {
    const rt = await variant(backend);
    const k = rt.k;
    for (const [B, H] of SHAPES) {
      for (const zeros of [false, true]) {
        const s = new Scope(rt);
        const G4 = 4 * H, ldg = G4 + 3, ldh = H + 2;
        const pre = randomArray(B * G4, B * 100 + H, -3, 3), cPrev = randomArray(B * H, B * 200 + H);
        const gates = s.put(strided(pre, B, G4, ldg)), c = s.poisoned(B * H + 4), h = s.put(strided(new Float32Array(B * H), B, H, ldh));
        const cp = zeros ? 0 : s.put(cPrev);
        k.lstm_cell_forward(gates, ldg, c, cp, h, ldh, B, H);
        const gotAct = s.get(gates, B * ldg + 4), gotC = s.get(c, B * H + 4), gotH = s.get(h, B * ldh + 4);
        expectPoison(gotAct, B, G4, ldg, 'gates'); expectPoison(gotH, B, H, ldh, 'h');
        expect(Array.from(gotC.subarray(B * H))).toEqual([POISON, POISON, POISON, POISON]);
        const act = unstride(gotAct, B, G4, ldg);
        for (let b = 0; b < B; b++) {
          const r = lstmCellForwardRef(rows(pre, b, G4), zeros ? undefined : rows(cPrev, b, H), H);
          expectClose(rows(act, b, G4), r.act, ATOL, RTOL, `lstm act B${B} H${H}`);
          expectClose(rows(gotC, b, H), r.c, ATOL, RTOL, `lstm c B${B} H${H}`);
          expectClose(rows(unstride(gotH, B, H, ldh), b, H), r.h, ATOL, RTOL, `lstm h B${B} H${H}`);
        }
        // backward from the saved activations: dh = dh_out (strided) + dh_rec, dc in place
        const dhOut = randomArray(B * H, B * 300 + H), dhRec = randomArray(B * H, B * 400 + H), dc0 = randomArray(B * H, B * 500 + H);
        const ldo = H + 1;
        const dgates = s.poisoned(B * ldg + 4), dc = s.put(dc0);
        k.lstm_cell_backward(dgates, ldg, dc, zeros ? 0 : s.put(strided(dhOut, B, H, ldo)), ldo, s.put(dhRec), gates, c, cp, B, H);
        const gotD = s.get(dgates, B * ldg + 4);
        expectPoison(gotD, B, G4, ldg, 'dgates');
        const dG = unstride(gotD, B, G4, ldg), dcPrev = s.get(dc, B * H);
        for (let b = 0; b < B; b++) {
          const dh = rows(dhRec, b, H).map((v, j) => v + (zeros ? 0 : dhOut[b * H + j]));
          const a = rows(act, b, G4), cc = rows(gotC, b, H);
          const r = lstmCellBackwardRef(a, cc, zeros ? undefined : rows(cPrev, b, H), dh, rows(dc0, b, H), H);
          expectClose(rows(dG, b, G4), r.dpre, ATOL, RTOL, `lstm dgates B${B} H${H}`);
          expectClose(rows(dcPrev, b, H), r.dcPrev, ATOL, RTOL, `lstm dc_prev B${B} H${H}`);
        }
        s.free();
      }
    }
  });

  it('gru_cell_forward / gru_cell_backward (dh_prev aliasing dh_rec)', async () => {
    const rt = await variant(backend);
    const k = rt.k;
    for (const [B, H] of SHAPES) {
      for (const zeros of [false, true]) {
        const s = new Scope(rt);
        const G3 = 3 * H, ldg = G3 + 5, ldh = H + 3;
        const gx0 = randomArray(B * G3, B * 600 + H, -3, 3), gh0 = randomArray(B * G3, B * 700 + H, -3, 3), hPrev = randomArray(B * H, B * 800 + H);
        const gx = s.put(strided(gx0, B, G3, ldg)), gh = s.put(strided(gh0, B, G3, ldg));
        const hp = zeros ? 0 : s.put(strided(hPrev, B, H, ldh));
        const h = s.put(strided(new Float32Array(B * H), B, H, ldh));
        k.gru_cell_forward(gx, gh, ldg, hp, ldh, h, ldh, B, H);
        const gotAct = s.get(gx, B * ldg + 4), gotH = s.get(h, B * ldh + 4);
        expectPoison(gotAct, B, G3, ldg, 'gates'); expectPoison(gotH, B, H, ldh, 'h');
        const act = unstride(gotAct, B, G3, ldg);
        for (let b = 0; b < B; b++) {
          const r = gruCellForwardRef(rows(gx0, b, G3), rows(gh0, b, G3), zeros ? undefined : rows(hPrev, b, H), H);
          expectClose(rows(act, b, G3), r.act, ATOL, RTOL, `gru act B${B} H${H}`);
          expectClose(rows(unstride(gotH, B, H, ldh), b, H), r.h, ATOL, RTOL, `gru h B${B} H${H}`);
        }
        const dhOut = randomArray(B * H, B * 900 + H), dhRec = randomArray(B * H, B * 1000 + H);
        const ldo = H + 1;
        const dgx = s.poisoned(B * ldg + 4), dgh = s.poisoned(B * ldg + 4), dhr = s.put(dhRec);
        k.gru_cell_backward(dgx, dgh, ldg, dhr, zeros ? 0 : s.put(strided(dhOut, B, H, ldo)), ldo, dhr, gx, gh, hp, ldh, B, H);
        const gDx = s.get(dgx, B * ldg + 4), gDh = s.get(dgh, B * ldg + 4);
        expectPoison(gDx, B, G3, ldg, 'dgx'); expectPoison(gDh, B, G3, ldg, 'dgh');
        const dX = unstride(gDx, B, G3, ldg), dHh = unstride(gDh, B, G3, ldg), dhPrev = s.get(dhr, B * H);
        for (let b = 0; b < B; b++) {
          const dh = rows(dhRec, b, H).map((v, j) => v + (zeros ? 0 : dhOut[b * H + j]));
          const r = gruCellBackwardRef(rows(act, b, G3), rows(gh0, b, G3), zeros ? undefined : rows(hPrev, b, H), dh, H);
          expectClose(rows(dX, b, G3), r.dgx, ATOL, RTOL, `gru dgx B${B} H${H}`);
          expectClose(rows(dHh, b, G3), r.dgh, ATOL, RTOL, `gru dgh B${B} H${H}`);
          expectClose(rows(dhPrev, b, H), r.dhPrev, ATOL, RTOL, `gru dh_prev B${B} H${H}`);
        }
        s.free();
      }
    }
  });

  it('rnn_cell_backward (tanh, relu)', async () => {
    const rt = await variant(backend);
    const k = rt.k;
    for (const [B, H] of SHAPES) {
      for (const relu of [0, 1]) {
        const s = new Scope(rt);
        const ldh = H + 2, ldo = H + 1, ldg = H + 3;
        const hv = randomArray(B * H, B * 1100 + H), dhOut = randomArray(B * H, B * 1200 + H), dhRec = randomArray(B * H, B * 1300 + H);
        const d = s.poisoned(B * ldg + 4);
        k.rnn_cell_backward(d, ldg, s.put(strided(dhOut, B, H, ldo)), ldo, s.put(dhRec), s.put(strided(hv, B, H, ldh)), ldh, B, H, relu);
        const got = s.get(d, B * ldg + 4);
        expectPoison(got, B, H, ldg, 'dpre');
        const dP = unstride(got, B, H, ldg);
        for (let b = 0; b < B; b++) {
          const dh = rows(dhRec, b, H).map((v, j) => v + dhOut[b * H + j]);
          expectClose(rows(dP, b, H), rnnCellBackwardRef(rows(hv, b, H), dh, relu === 1, H), 1e-7, 1e-6, `rnn B${B} H${H} relu ${relu}`);
        }
        s.free();
      }
    }
  });
});
