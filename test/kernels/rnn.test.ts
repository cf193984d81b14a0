/**
 * Recurrent kernels (assembly/rnn.ts) against the f64 oracle (test/ref/rnn.ts), in every variant.
 *
 * Tile edges: hidden units go in blocks of 16 (four f32x4 per gate), so H sweeps
 * 1 (one lane), 3, 4 (one vector), 5, 8 (half a block), 9, 11, 12, 13, 16 (one block), 17, 24, 25, 33
 * and 48; B = 1, 2, 3; strided h_out / h_prev / gx rows, with poison after every valid region to catch stray writes. Each case runs two
 * chained steps, so the second reads the first one's h (and c) back: a layout slip would show up there.
 *
 * Tolerance |d| <= atol + rtol*|ref|: the recurrent sum has K = H products of values in [-1, 1), rounded in
 * f32 (4e-6*K, as in gemm.test.ts), plus the sigmoid/tanh approximations of activation.ts (absolute error
 * <= 1.5e-7 each; an LSTM h goes through up to four of them, each scaled by values <= 1, so < 1e-6).
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, Scope, expectClose, variant } from './harness.js';
import { randomArray } from '../ref/rng.js';
import { blockUnits, cellRef, gateCount, packGatesRef, toBlockColumns, type RnnMode } from '../ref/rnn.js';

const POISON = 12345.5;
const atolFor = (H: number) => 4e-6 * H + 1e-6;
const RTOL = 1e-5;

describe.each(BACKENDS)('rnn kernels (%s)', (backend) => {
  it('rnn_pack_gates matches the block layout exactly, and the size formula', async () => {
    const rt = await variant(backend);
    const k = rt.k;
    for (const [G, H, K] of [[4, 1, 1], [4, 5, 3], [4, 16, 2], [4, 19, 3], [3, 9, 7], [3, 16, 2], [1, 13, 5], [4, 33, 17]]) {
      const s = new Scope(rt);
      const w = randomArray(G * H * K, G * 100 + H);
      const n = k.rnn_packed_gates_size(G, H, K);
      expect(k.rnn_block_units(G)).toBe(blockUnits(G));
      expect(n).toBe(Math.ceil(H / blockUnits(G)) * blockUnits(G) * G * K);
      const dst = s.poisoned(n + 8);
      k.rnn_pack_gates(dst, s.put(w), G, H, K);
      const got = s.get(dst, n + 8);
      expect(Array.from(got.subarray(0, n))).toEqual(Array.from(packGatesRef(w, G, H, K)));
      expect(Array.from(got.subarray(n))).toEqual(new Array(8).fill(POISON));
      s.free();
    }
  });

  it('rnn_project: gx += W·x in gate-block columns, strided rows, bias kept, nothing else written', async () => {
    const rt = await variant(backend);
    const k = rt.k;
    for (const G of [4, 3]) {
      for (const [H, K, B] of [[1, 1, 1], [5, 3, 2], [8, 7, 1], [13, 20, 3], [16, 2, 1], [17, 9, 2], [33, 5, 1]]) {
        const s = new Scope(rt);
        const UB = blockUnits(G), Hp = Math.ceil(H / UB) * UB, N = G * Hp;
        const w = randomArray(G * H * K, G * H + K);
        const pw = s.put(k.rnn_packed_gates_size(G, H, K));
        k.rnn_pack_gates(pw, s.put(w), G, H, K);
        const ldx = K + 2, ldgx = N + 3;
        const x = randomArray(B * ldx, 7 + K);
        const gx0 = new Float32Array(B * ldgx).fill(POISON);
        const bias = randomArray(B * N, 8);
        for (let b = 0; b < B; b++) gx0.set(bias.subarray(b * N, (b + 1) * N), b * ldgx);
        const pgx = s.put(gx0);
        k.rnn_project(pgx, ldgx, s.put(x), ldx, pw, B, G, H, K);
        const got = s.get(pgx, B * ldgx);
        for (let b = 0; b < B; b++) {
          const wx = new Float64Array(G * H);
          for (let r = 0; r < G * H; r++) for (let i = 0; i < K; i++) wx[r] += w[r * K + i] * x[b * ldx + i];
          const want = toBlockColumns(wx, 1, G, H);
          for (let c = 0; c < N; c++) want[c] += bias[b * N + c];
          expectClose(got.subarray(b * ldgx, b * ldgx + N), want, 4e-6 * K, RTOL, `rnn_project G=${G} H=${H} K=${K} row ${b}`);
          for (let c = N; c < ldgx; c++) expect(got[b * ldgx + c]).toBe(POISON);
        }
        s.free();
      }
    }
  });

  for (const mode of ['LSTM', 'GRU'] as const) {
    for (const H of [1, 3, 4, 5, 8, 9, 11, 12, 13, 16, 17, 24, 25, 33, 48]) {
      for (const B of [1, 2, 3]) {
        it(`${mode.toLowerCase()}_step H=${H} B=${B}, two chained steps`, async () => {
          const rt = await variant(backend);
          runSteps(rt, mode, H, B, H * 7 + B);
        });
      }
    }
  }

  it('lstm_step and gru_step with large pre-activations saturate cleanly (no NaN/inf)', async () => {
    const rt = await variant(backend);
    for (const mode of ['LSTM', 'GRU'] as const) runSteps(rt, mode, 12, 2, 99, 60);
  });
});

function runSteps(rt: Awaited<ReturnType<typeof variant>>, mode: RnnMode, H: number, B: number, seed: number, scale = 1): void {
  const k = rt.k;
  const s = new Scope(rt);
  try {
    const G = gateCount(mode);
    const Hp = Math.ceil(H / blockUnits(G)) * blockUnits(G);
    const whh = randomArray(G * H * H, seed);
    const bhh = randomArray(G * H, seed + 1);
    const pw = s.put(k.rnn_packed_gates_size(G, H, H));
    k.rnn_pack_gates(pw, s.put(whh), G, H, H);
    // b_hn stays apart in a GRU (it is scaled by r); the other hidden biases fold into gx, as the layer does.
    const bhn = mode === 'GRU' ? s.put(Float32Array.from({ length: Hp }, (_, j) => (j < H ? bhh[2 * H + j] : 0))) : 0;
    const ldh = H + 3, ldhp = H + 2, ldgx = G * Hp + 5;
    let hStride = ldhp; // h_prev row stride: ldhp, then ldh once h_prev is the previous step's output
    let hPrev = Array.from({ length: B }, (_, b) => randomArray(H, seed + 10 + b));
    const c64 = Array.from({ length: B }, (_, b) => Float64Array.from(randomArray(H, seed + 20 + b)));
    const hPrevBuf = new Float32Array(B * ldhp).fill(POISON);
    hPrev.forEach((h, b) => hPrevBuf.set(h, b * ldhp));
    let hPrevPtr = s.put(hPrevBuf);
    const cBuf = new Float32Array(B * H + 4).fill(POISON);
    c64.forEach((c, b) => cBuf.set(c, b * H));
    const pc = s.put(cBuf);
    for (let step = 0; step < 2; step++) {
      // gx = W_ih x + b_ih (+ b_hh for the folded gates): any values will do for the kernel
      const gxLogical = randomArray(B * G * H, seed + 30 + step, -scale, scale);
      const gxFolded = gxLogical.slice();
      for (let b = 0; b < B; b++)
        for (let i = 0; i < G * H; i++) if (!(mode === 'GRU' && i >= 2 * H)) gxFolded[b * G * H + i] += bhh[i];
      const blocks = toBlockColumns(gxFolded, B, G, H);
      const gxBuf = new Float32Array(B * ldgx).fill(POISON);
      for (let b = 0; b < B; b++) gxBuf.set(blocks.subarray(b * G * Hp, (b + 1) * G * Hp), b * ldgx);
      const pgx = s.put(gxBuf);
      const pout = s.poisoned(B * ldh);
      if (mode === 'LSTM') k.lstm_step(pout, ldh, pc, hPrevPtr, hStride, pgx, ldgx, pw, B, H);
      else k.gru_step(pout, ldh, hPrevPtr, hStride, pgx, ldgx, pw, bhn, B, H);
      const out = s.get(pout, B * ldh);
      const cOut = s.get(pc, B * H + 4);
      const next: Float32Array[] = [];
      for (let b = 0; b < B; b++) {
        const want = cellRef(mode, gxLogical.subarray(b * G * H, (b + 1) * G * H), hPrev[b], c64[b], whh, bhh, H);
        const what = `${mode} H=${H} B=${B} step ${step} row ${b}`;
        expectClose(out.subarray(b * ldh, b * ldh + H), want, atolFor(H), RTOL, `${what} h`);
        for (let j = H; j < ldh; j++) expect(out[b * ldh + j], `${what} h poison`).toBe(POISON);
        if (mode === 'LSTM') expectClose(cOut.subarray(b * H, (b + 1) * H), c64[b], atolFor(H) * 4, RTOL, `${what} c`);
        next.push(out.slice(b * ldh, b * ldh + H));
      }
      for (let j = B * H; j < B * H + 4; j++) expect(cOut[j]).toBe(POISON);
      expect(Array.from(out).every(Number.isFinite)).toBe(true);
      // chain: this step's h (read back, with its f32 rounding) is the next step's h_prev, read in place
      hPrev = next;
      hPrevPtr = pout;
      // the oracle continues from the kernel's c (f32) so errors do not compound across steps
      if (mode === 'LSTM') for (let b = 0; b < B; b++) c64[b] = Float64Array.from(cOut.subarray(b * H, (b + 1) * H));
      hStride = ldh;
    }
  } finally {
    s.free();
  }
}
