/**
 * GEMM kernels (assembly/gemm.ts) against the f64 oracle (test/ref/gemm.ts), for every variant.
 *
 * Tile edges swept (see assembly/gemm.ts): MR = 6 (relaxed), 5 (simd), 4 (scalar); NR = 8; K blocks of
 * KC = 512 rows; M blocks of MC = 120 rows. Each dimension is tried at a tile, below, above, a multiple, +1,
 * size 1 and over two or more loop iterations, with the others at small odd sizes.
 *
 * Tolerance: |d| <= atol + rtol*|ref|. Inputs are uniform in [-1, 1), so each product is <= 1 in magnitude
 * and the f32 rounding error of a K-term sum is bounded by about K * 2^-24 * sum|a*b| (worst case, ~K^2 u);
 * in practice it grows like sqrt(K). atol = 4e-6 * K sits well above the practical error (~1e-5 at K = 600)
 * and far below an indexing bug (O(0.1..1)). Relaxed SIMD may fuse multiply-add (one rounding less), so
 * variants differ bitwise; all compare to the f64 oracle. tanh/sigmoid in the epilogue are polynomial
 * approximations (assembly/activation.ts), hence the extra absolute slack ACT_ATOL when one is on.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, Scope, expectClose, variant } from './harness.js';
import { randomArray } from '../ref/rng.js';
import { gemmRef, packBRef } from '../ref/gemm.js';
import type { Runtime } from '../../src/runtime/runtime.js';

const POISON = 12345.5;
const ACT_ATOL = 1e-4; // approximate tanh/sigmoid (outputs are in [-1, 1])
const atolFor = (K: number, act = 0) => 4e-6 * Math.max(K, 1) + (act >= 2 ? ACT_ATOL : 0);
const RTOL = 1e-5;

interface Case {
  M: number; N: number; K: number;
  /** 'nn' A·B, 'tn' Aᵀ·B (A stored K x M), 'nt' A·Bᵀ (B stored N x K). */
  form?: 'nn' | 'tn' | 'nt';
  /** extra elements per A row (strided A, a_rs > K) */
  aPad?: number;
  /** extra columns in C (ldc > N) */
  cPad?: number;
  bias?: boolean;
  accumulate?: boolean;
  act?: number;
  /** use gemm() (packs into scratch) instead of gemm_pack_b + gemm_packed */
  convenience?: boolean;
}

function runCase(rt: Runtime, c: Case, seed: number): void {
  const { M, N, K } = c;
  const form = c.form ?? 'nn';
  const k = rt.k;
  const s = new Scope(rt);
  try {
    // A storage and strides
    let aData: Float32Array, a_rs: number, a_cs: number;
    if (form === 'tn') { // stored K x M (row stride M + aPad), read transposed
      const ld = M + (c.aPad ?? 0);
      aData = randomArray(K * ld, seed);
      a_rs = 1; a_cs = ld;
    } else {
      const ld = K + (c.aPad ?? 0);
      aData = randomArray(M * ld, seed);
      a_rs = ld; a_cs = 1;
    }
    let bData: Float32Array, b_rs: number, b_cs: number;
    if (form === 'nt') { bData = randomArray(N * K, seed + 1); b_rs = 1; b_cs = K; }
    else { bData = randomArray(K * N, seed + 1); b_rs = N; b_cs = 1; }
    const bias = c.bias ? randomArray(N, seed + 2) : undefined;
    const ldc = N + (c.cPad ?? 0);
    const rows = M + 2; // two poisoned rows after the output
    const cInit = new Float32Array(rows * ldc).fill(POISON);
    const cOld = randomArray(M * ldc, seed + 3);
    if (c.accumulate) for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) cInit[m * ldc + n] = cOld[m * ldc + n];

    const pa = s.put(aData);
    const pbRaw = s.put(bData);
    const pbias = bias ? s.put(bias) : 0;
    const pc = s.put(cInit);
    const flags = ((c.act ?? 0) << 1) | (c.accumulate ? 1 : 0);
    const packed = k.gemm_packed_b_size(K, N);
    expect(packed).toBe(Math.ceil(N / 8) * 8 * K);
    if (c.convenience) {
      const scratch = s.poisoned(packed);
      k.gemm(pc, pa, pbRaw, pbias, M, N, K, a_rs, a_cs, b_rs, b_cs, ldc, flags, scratch, 0);
    } else {
      const pb = s.poisoned(packed + 4);
      k.gemm_pack_b(pb, pbRaw, K, N, b_rs, b_cs);
      const got = s.get(pb, packed + 4);
      // packing is a copy: exact, and nothing written past the packed size
      expect(got.subarray(0, packed)).toEqual(packBRef(bData, K, N, b_rs, b_cs));
      expect(Array.from(got.subarray(packed))).toEqual([POISON, POISON, POISON, POISON]);
      k.gemm_packed(pc, pa, pb, pbias, M, N, K, a_rs, a_cs, ldc, flags, 0);
    }
    const out = s.get(pc, rows * ldc);
    const ref = gemmRef({ M, N, K, a: aData, a_rs, a_cs, b: bData, b_rs, b_cs, bias, c: cOld, ldc,
      accumulate: c.accumulate, act: c.act });
    const valid = new Float32Array(M * N);
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) valid[m * N + n] = out[m * ldc + n];
    const what = `${rt.backend} ${JSON.stringify(c)} seed ${seed}`;
    expectClose(valid, ref, atolFor(K, c.act), RTOL, what);
    // nothing outside the valid region (ldc padding, rows after M) was written
    for (let i = 0; i < rows * ldc; i++) {
      const m = Math.floor(i / ldc), n = i % ldc;
      if (m < M && n < N) continue;
      if (out[i] !== POISON) throw new Error(`${what}: wrote outside the output at row ${m} col ${n}: ${out[i]}`);
    }
  } finally {
    s.free();
  }
}

const SEEDS = [1, 2, 3];
const Ms = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 17, 24, 25, 31, 60, 61, 119, 120, 121, 241];
const Ns = [1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 33, 65];
const Ks = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 255, 256, 257, 511, 512, 513, 1024, 1025];

describe.each(BACKENDS)('gemm [%s]', (backend) => {
  it('sweeps M around the row tiles (MR 4/5/6, MC 120)', async () => {
    const rt = await variant(backend);
    for (const seed of SEEDS) for (const M of Ms) runCase(rt, { M, N: 17, K: 19 }, seed + M);
  });
  it('sweeps N around the panel width (NR 8)', async () => {
    const rt = await variant(backend);
    for (const seed of SEEDS) for (const N of Ns) runCase(rt, { M: 13, N, K: 11 }, seed + N);
  });
  it('sweeps K around the K block (KC 512)', async () => {
    const rt = await variant(backend);
    for (const seed of SEEDS) for (const K of Ks) runCase(rt, { M: 7, N: 9, K }, seed + K);
  });
  it('random shapes across all edges', async () => {
    const rt = await variant(backend);
    let seed = 100;
    for (const M of [1, 5, 6, 13, 121]) for (const N of [1, 8, 9, 24]) for (const K of [1, 8, 513]) {
      runCase(rt, { M, N, K }, seed++);
    }
  });
  it('strided A (a_rs > K), transposed A (Aᵀ·B), transposed B (A·Bᵀ), ldc > N', async () => {
    const rt = await variant(backend);
    for (const seed of SEEDS) {
      for (const [M, N, K] of [[1, 1, 1], [7, 9, 5], [13, 17, 33], [31, 24, 513], [61, 33, 20]]) {
        runCase(rt, { M, N, K, aPad: 3 }, seed);
        runCase(rt, { M, N, K, form: 'tn' }, seed);
        runCase(rt, { M, N, K, form: 'tn', aPad: 5 }, seed);
        runCase(rt, { M, N, K, form: 'nt' }, seed);
        runCase(rt, { M, N, K, cPad: 5, aPad: 1, form: 'nt' }, seed);
        runCase(rt, { M, N, K, cPad: 8 }, seed);
      }
    }
  });
  it('fused epilogue: bias, accumulate, each activation, and their combinations', async () => {
    const rt = await variant(backend);
    for (const seed of SEEDS) {
      for (const [M, N, K] of [[1, 3, 4], [7, 9, 5], [13, 17, 600], [25, 16, 8]]) {
        for (const act of [0, 1, 2, 3]) {
          runCase(rt, { M, N, K, act }, seed);
          runCase(rt, { M, N, K, act, bias: true }, seed);
          runCase(rt, { M, N, K, act, accumulate: true, cPad: 3 }, seed);
          runCase(rt, { M, N, K, act, bias: true, accumulate: true, form: 'tn' }, seed);
        }
      }
    }
  });
  it('single row on big weights (the GEMV path: K*N >= 2^18): K and N tails, epilogue', async () => {
    const rt = await variant(backend);
    for (const seed of SEEDS) {
      runCase(rt, { M: 1, N: 260, K: 1027, bias: true }, seed);
      runCase(rt, { M: 1, N: 257, K: 1024, act: 1, accumulate: true, cPad: 3 }, seed);
      runCase(rt, { M: 1, N: 64, K: 4099, bias: true, act: 3, form: 'nt' }, seed);
    }
  });
  it('gemm() packs B into scratch then runs gemm_packed', async () => {
    const rt = await variant(backend);
    for (const seed of SEEDS) {
      runCase(rt, { M: 13, N: 17, K: 9, convenience: true }, seed);
      runCase(rt, { M: 6, N: 8, K: 513, convenience: true, form: 'nt', bias: true, act: 1 }, seed);
      runCase(rt, { M: 5, N: 3, K: 4, convenience: true, form: 'tn', accumulate: true, cPad: 2 }, seed);
    }
  });
  it('a bigger square product (several M, N and K blocks)', async () => {
    const rt = await variant(backend);
    runCase(rt, { M: 250, N: 70, K: 1100, bias: true }, 7);
  });
});
