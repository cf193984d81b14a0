/**
 * Scalar oracle for the GEMM kernels (assembly/gemm.ts): plain loops, f64 accumulation, independent of
 * the packed layout and the micro-kernels. Slow on purpose; used only by tests.
 *
 * Semantics (src/runtime/kernels.ts, gemm_packed):
 *   C[m, n] = act( (accumulate ? C_old[m, n] : 0) + sum_k A[m, k] * B[k, n] + bias[n] )
 * A element (m, k) is a[m*a_rs + k*a_cs], B element (k, n) is b[k*b_rs + n*b_cs] (element strides).
 * NOTE: the activation is applied after the accumulation, so `accumulate` fuses a residual add
 * (ResNet: relu(conv(x) + bias + identity)).
 */

/** Activation codes as in kernels.ts `Act`, exact (f64) versions. */
export function actRef(x: number, act: number): number {
  switch (act) {
    case 1: return x > 0 ? x : 0;
    case 2: return Math.tanh(x);
    case 3: return 1 / (1 + Math.exp(-x));
    default: return x;
  }
}

export interface GemmRefArgs {
  M: number; N: number; K: number;
  a: ArrayLike<number>; a_rs: number; a_cs: number;
  b: ArrayLike<number>; b_rs: number; b_cs: number;
  bias?: ArrayLike<number>;
  /** Previous C (row stride ldc), read when accumulate is set. */
  c?: ArrayLike<number>; ldc?: number;
  accumulate?: boolean;
  act?: number;
}

/** Returns C as a compact M x N Float64Array (row-major). */
export function gemmRef(p: GemmRefArgs): Float64Array {
  const { M, N, K, a, a_rs, a_cs, b, b_rs, b_cs } = p;
  const ldc = p.ldc ?? N;
  const out = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[m * a_rs + k * a_cs] * b[k * b_rs + n * b_cs];
      if (p.bias) s += p.bias[n];
      if (p.accumulate && p.c) s += p.c[m * ldc + n];
      out[m * N + n] = actRef(s, p.act ?? 0);
    }
  }
  return out;
}

/** The packed-B layout of gemm_pack_b, written independently: panels of NR columns, K rows each, zero tail. */
export function packBRef(b: ArrayLike<number>, K: number, N: number, b_rs: number, b_cs: number, NR = 8): Float32Array {
  const panels = Math.ceil(N / NR);
  const out = new Float32Array(panels * NR * K);
  for (let p = 0; p < panels; p++) {
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < NR; j++) {
        const n = p * NR + j;
        out[(p * K + k) * NR + j] = n < N ? b[k * b_rs + n * b_cs] : 0;
      }
    }
  }
  return out;
}
