// GEMM: C[M,N] = act((accumulate ? C : 0) + A[M,K] · B[K,N] + bias[N]), f32, single thread.
// Callers: the Linear/recurrent layers (through gemm / gemm_packed), conv2d.ts (1x1 convs and im2col tiles),
// conv2d_winograd.ts (the 16 transformed products) and conv2d_backward.ts. A Linear layer's backward is this
// kernel too (dX = dY·W, dW = dYᵀ·X through the strides) plus bias_grad (elementwise_backward.ts).
//
// Memory layout
// - All pointers are byte offsets, dims and strides are element counts. A element (m, k) is at
//   a + 4*(m*a_rs + k*a_cs): row-major A is (a_rs=K, a_cs=1), Aᵀ stored K x M is (a_rs=1, a_cs=M).
// - C row m starts at c + 4*m*ldc; only columns 0..N-1 of rows 0..M-1 are ever written.
// - Packed B (gemm_pack_b): ceil(N/8) panels of NR = 8 columns; panel p holds K rows of 8 consecutive floats
//   (B[k, 8p .. 8p+7]), the columns past N zero. Same layout in every variant, so packed weights are
//   portable. 16-byte alignment of pb makes the panel loads aligned (the loads do not require it).
// - No alignment is required of a, c or bias (wasm v128 loads/stores accept any address).
//
// Loop nest (GotoBLAS-style, without packing A: gemm_packed has no scratch parameter, and the row-pointer
// kernel ran as fast as a packed-A one in an isolated test here):
//   for each block of MC rows of A            (MC x KC block of A stays in L2: 120 x 512 x 4 = 240 KB)
//     for each block of KC rows of K          (partial sums go through C between K blocks)
//       for each panel of 8 columns            (KC x 8 slice of the panel stays in L1: 16 KB)
//         for each MR rows: micro-kernel MR x 8 over KC
// Micro-kernels (register blocks of f32x4 accumulators, vacc<row>x<cols>):
//   relaxed 6x8 with f32x4.relaxed_madd (12 accumulators + 2 B + 1 A splat = 15 xmm registers)
//   simd    5x8 with mul+add (a 6x8 one spills in V8: TOOLCHAIN.md)
//   scalar  4x4 on half panels (16 f32 accumulators), 1x8 for a single row (same summation order per row)
// Row tails reuse the MR kernel with the extra rows aliased to the last valid row (same inputs, same result
// stored to the same address), a single row too: so a row's bits never depend on its tile (threads cut GEMMs
// anywhere, see gemm_run). A whole one-row call (batch-1 Linear, RNN steps) streams each panel over all of K
// instead (gemv_panel). Column tails read the zero-padded panel and store only the valid columns.
// Epilogue: the accumulators start at bias (first K block only) + C (when accumulating, or after the first
// K block); the activation runs in place after the last K block. So C = act(C_old + A·B + bias): the
// activation comes after the accumulation (fused residual add; the RNN layer relies on it).
import { act_f32, act_f32x4, relu_bound, set_act_alpha } from './activation';
import { vmadd, load_lanes, store_lanes } from './simd';

const NR: i32 = 8;
/** K block: KC x 8 floats of a panel (16 KB) stay in L1 across all the row tiles of an M block.
 * 256 and 512 measured within noise; 512 was ahead on 1024^3 and on VGG/ResNet 512-channel convs. */
const KC: i32 = 512;
/** M block: a multiple of every MR (4, 5, 6). MC x KC of A (240 KB) stays in L2 across all panels. */
const MC: i32 = 120;


/** Floats needed to hold B (K x N) packed: ceil(N/NR)*NR*K. */
export function gemm_packed_b_size(K: i32, N: i32): i32 {
  return ((N + NR - 1) / NR) * NR * K;
}

/** Pack B[K,N] (element (k, n) at b + 4*(k*b_rs + n*b_cs)) into panels of 8 columns, zero-padded. */
export function gemm_pack_b(dst: usize, b: usize, K: i32, N: i32, b_rs: i32, b_cs: i32): void {
  const rs = <usize>b_rs << 2, cs = <usize>b_cs << 2;
  for (let n0 = 0; n0 < N; n0 += NR) {
    const nv = min(NR, N - n0);
    let d = dst + (<usize>(n0 >> 3) * <usize>K << 5);
    let src = b + <usize>n0 * cs;
    if (cs == 4 && nv == NR) {
      // row-major B: each panel row is 8 contiguous floats
      for (let k = 0; k < K; k++) {
        if (ASC_FEATURE_SIMD) {
          v128.store(d, v128.load(src));
          v128.store(d, v128.load(src, 16), 16);
        } else {
          for (let j = 0; j < 8; j++) store<f32>(d + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
        }
        d += 32;
        src += rs;
      }
    } else {
      for (let k = 0; k < K; k++) {
        let j = 0;
        for (; j < nv; j++) store<f32>(d + (<usize>j << 2), load<f32>(src + <usize>j * cs));
        for (; j < NR; j++) store<f32>(d + (<usize>j << 2), 0);
        d += 32;
        src += rs;
      }
    }
  }
}

/**
 * C[M,N] (row stride ldc) = act((flags&1 ? C : 0) + A·B + bias), B packed by gemm_pack_b, bias 0 = none.
 * flags: bit 0 accumulate, bits 1..4 activation code (activation.ts), alpha its parameter.
 * NOTE: the activation is applied after the accumulation, so accumulate fuses a residual add.
 */
export function gemm_packed(c: usize, a: usize, pb: usize, bias: usize, M: i32, N: i32, K: i32,
  a_rs: i32, a_cs: i32, ldc: i32, flags: i32, alpha: f32): void {
  set_act_alpha(alpha);
  gemm_run(c, a, pb, bias, M, N, K, a_rs, a_cs, ldc, flags, true);
}

/**
 * gemm_packed for callers inside the module, which have set the activation's alpha themselves.
 * `gemv`: a one-row problem (M == 1) may take the streaming GEMV kernel. Callers that cut a larger problem
 * into row tiles (conv tiles, Winograd blocks, backward) pass false.
 * NOTE (threads): every row's result depends only on that row of A, B and K, never on M, the row's
 * position or its tile, because single-row tails run through the MR kernel (rows aliased), not a 1x8 kernel
 * with its own summation order. Only a whole M == 1 call with `gemv` takes another kernel (summed in 4
 * chains). So the thread pool may cut any GEMM or conv into row or column parts and get the same bits
 * (src/runtime/parallel.ts).
 */
export function gemm_run(c: usize, a: usize, pb: usize, bias: usize, M: i32, N: i32, K: i32,
  a_rs: i32, a_cs: i32, ldc: i32, flags: i32, gemv: bool): void {
  if (M <= 0 || N <= 0) return;
  const act = (flags >> 1) & 15;
  const accumulate = (flags & 1) != 0;
  const rs = <usize>a_rs << 2, cs = <usize>a_cs << 2, ldcb = <usize>ldc << 2;
  if (K < 0) K = 0;
  if (ASC_FEATURE_SIMD) {
    if (M == 1 && gemv) {
      // GEMV (batch-1 Linear, RNN steps): stream each panel once over all of K, four accumulator chains
      // (latency-bound otherwise). One kernel for every N, so a split by columns changes no bit.
      for (let n0 = 0; n0 < N; n0 += NR) {
        gemv_panel(c + (<usize>n0 << 2), a, pb + (<usize>(n0 >> 3) * <usize>K << 5), K, min(NR, N - n0),
          bias != 0 ? bias + (<usize>n0 << 2) : 0, accumulate, act);
      }
      return;
    }
  }
  for (let m0 = 0; m0 < M; m0 += MC) {
    const mc = min(MC, M - m0);
    let k0 = 0;
    // do-while: K == 0 still runs the epilogue once (C = act(bias (+ C)))
    do {
      const kc = min(KC, K - k0);
      const addC = accumulate || k0 > 0;
      const bi = k0 == 0 ? bias : 0;
      const ac = k0 + kc >= K ? act : 0;
      const ablk = a + <usize>m0 * rs + <usize>k0 * cs;
      const cblk = c + <usize>m0 * ldcb;
      for (let n0 = 0; n0 < N; n0 += NR) {
        const nv = min(NR, N - n0);
        const bp = pb + ((<usize>(n0 >> 3) * <usize>K + <usize>k0) << 5);
        const bn = bi != 0 ? bi + (<usize>n0 << 2) : 0;
        const cn = cblk + (<usize>n0 << 2);
        gemm_rows(cn, ldcb, ablk, rs, cs, bp, mc, kc, nv, bn, addC, ac);
      }
      k0 += KC;
    } while (k0 < K);
  }
}

/** Convenience: pack B into scratch (gemm_packed_b_size(K, N) floats, 16-byte aligned) then gemm_packed. */
export function gemm(c: usize, a: usize, b: usize, bias: usize, M: i32, N: i32, K: i32,
  a_rs: i32, a_cs: i32, b_rs: i32, b_cs: i32, ldc: i32, flags: i32, scratch: usize, alpha: f32): void {
  gemm_pack_b(scratch, b, K, N, b_rs, b_cs);
  gemm_packed(c, a, scratch, bias, M, N, K, a_rs, a_cs, ldc, flags, alpha);
}

// ---- one panel (8 columns) x mc rows x kc: dispatch to the micro-kernels of this variant ----

// @ts-ignore: decorator
@inline function gemm_rows(c: usize, ldcb: usize, a: usize, rs: usize, cs: usize, bp: usize,
  mc: i32, kc: i32, nv: i32, bias: usize, addC: bool, act: i32): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    let m = 0;
    for (; m + 6 <= mc; m += 6) gemm_6x8(c + <usize>m * ldcb, ldcb, a + <usize>m * rs, rs, cs, bp, 6, kc, nv, bias, addC, act);
    if (m < mc) gemm_6x8(c + <usize>m * ldcb, ldcb, a + <usize>m * rs, rs, cs, bp, mc - m, kc, nv, bias, addC, act);
  } else if (ASC_FEATURE_SIMD) {
    let m = 0;
    for (; m + 5 <= mc; m += 5) gemm_5x8(c + <usize>m * ldcb, ldcb, a + <usize>m * rs, rs, cs, bp, 5, kc, nv, bias, addC, act);
    if (m < mc) gemm_5x8(c + <usize>m * ldcb, ldcb, a + <usize>m * rs, rs, cs, bp, mc - m, kc, nv, bias, addC, act);
  } else {
    for (let m = 0; m < mc; m += 4) {
      const mr = min(4, mc - m);
      if (mr == 1) { // single row (GEMV): the 4-row kernel would compute it 4 times
        gemm_1x8_scalar(c + <usize>m * ldcb, a + <usize>m * rs, cs, bp, kc, nv, bias, addC, act);
        break;
      }
      const cm = c + <usize>m * ldcb, am = a + <usize>m * rs;
      gemm_4x4_scalar(cm, ldcb, am, rs, cs, bp, mr, kc, min(nv, 4), bias, addC, act);
      if (nv > 4) gemm_4x4_scalar(cm + 16, ldcb, am, rs, cs, bp + 16, mr, kc, nv - 4, bias != 0 ? bias + 16 : 0, addC, act);
    }
  }
}

// ---- SIMD micro-kernels ----

// NOTE (measured with --print-wasm-code): V8 keeps 15 xmm registers for wasm. Any extra register need
// while the 12 accumulators are live after the K loop (loading C to add it, bias vectors, a call) makes it
// spill accumulators, and it places the spills inside the K loop: 6x8 relaxed fell from ~40 to ~15 GFLOP/s.
// So bias and C (when accumulating) initialise the accumulators before the loop, the loop is followed by
// plain stores only, and the activation runs afterwards in place (act_tile) once the accumulators are dead.

/** Apply activation act (!= 0) in place to mr rows x nv (<= 8) columns of C. */
function act_tile(c: usize, ldcb: usize, mr: i32, nv: i32, act: i32): void {
  for (let i = 0; i < mr; i++) {
    const cp = c + <usize>i * ldcb;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= nv; j += 4) v128.store(cp + (<usize>j << 2), act_f32x4(v128.load(cp + (<usize>j << 2)), act));
    }
    for (; j < nv; j++) store<f32>(cp + (<usize>j << 2), act_f32(load<f32>(cp + (<usize>j << 2)), act));
  }
}

// Columns 0..3 / 4..7 of an 8-wide row with nv valid columns: never touch memory past column nv-1.
// @ts-ignore: decorator
@inline function load_lo(p: usize, nv: i32): v128 { return load_lanes(p, min(nv, 4)); }
// @ts-ignore: decorator
@inline function load_hi(p: usize, nv: i32): v128 { return load_lanes(p + 16, max(nv - 4, 0)); }
// @ts-ignore: decorator
@inline function store_lo(p: usize, v: v128, nv: i32): void { store_lanes(p, v, min(nv, 4)); }
// @ts-ignore: decorator
@inline function store_hi(p: usize, v: v128, nv: i32): void { store_lanes(p + 16, v, max(nv - 4, 0)); }
// @ts-ignore: decorator
@inline function bias_lo(bias: usize, nv: i32): v128 {
  return bias != 0 ? load_lo(bias, nv) : f32x4.splat(0);
}
// @ts-ignore: decorator
@inline function bias_hi(bias: usize, nv: i32): v128 {
  return bias != 0 ? load_hi(bias, nv) : f32x4.splat(0);
}

/**
 * 6x8 micro-kernel, relaxed variant (12 accumulators + 2 B + 1 A splat = 15 xmm): rows at a, a+rs, ...
 * (byte strides; cs = byte step along K), panel slice bp (kc rows of 8 floats), C rows at c, c+ldcb, ...
 * mr valid rows (1..6), nv valid columns (1..8).
 */
function gemm_6x8(c: usize, ldcb: usize, a: usize, rs: usize, cs: usize, bp: usize,
  mr: i32, kc: i32, nv: i32, bias: usize, addC: bool, act: i32): void {
  // Rows past mr alias row mr-1 (same inputs, same result, same address): no branches per row.
  // NOTE: V8 zero-extends a 32-bit address before every load unless it can prove the upper half is zero,
  // which it cannot for parameters and selects; built from arithmetic (z = 0, computed), the loop loses
  // 7 movs per k (measured ~38 -> ~43 GFLOP/s relaxed on the loaded machine).
  const z = <usize>(mr < 1);
  let a0 = a + z;
  let c0 = c;
  const r1 = <usize>(mr > 1);
  let a1 = a0 + rs * r1, c1 = c0 + ldcb * r1;
  const r2 = <usize>(mr > 2);
  let a2 = a1 + rs * r2, c2 = c1 + ldcb * r2;
  const r3 = <usize>(mr > 3);
  let a3 = a2 + rs * r3, c3 = c2 + ldcb * r3;
  const r4 = <usize>(mr > 4);
  let a4 = a3 + rs * r4, c4 = c3 + ldcb * r4;
  const r5 = <usize>(mr > 5);
  let a5 = a4 + rs * r5, c5 = c4 + ldcb * r5;
  const vbias0123 = bias_lo(bias, nv), vbias4567 = bias_hi(bias, nv);
  let vacc0x0123 = vbias0123, vacc0x4567 = vbias4567;
  let vacc1x0123 = vbias0123, vacc1x4567 = vbias4567;
  let vacc2x0123 = vbias0123, vacc2x4567 = vbias4567;
  let vacc3x0123 = vbias0123, vacc3x4567 = vbias4567;
  let vacc4x0123 = vbias0123, vacc4x4567 = vbias4567;
  let vacc5x0123 = vbias0123, vacc5x4567 = vbias4567;
  if (addC) {
    // C enters before the K loop: loads after it would make V8 spill accumulators inside the loop
    vacc0x0123 = f32x4.add(vacc0x0123, load_lo(c0, nv)); vacc0x4567 = f32x4.add(vacc0x4567, load_hi(c0, nv));
    vacc1x0123 = f32x4.add(vacc1x0123, load_lo(c1, nv)); vacc1x4567 = f32x4.add(vacc1x4567, load_hi(c1, nv));
    vacc2x0123 = f32x4.add(vacc2x0123, load_lo(c2, nv)); vacc2x4567 = f32x4.add(vacc2x4567, load_hi(c2, nv));
    vacc3x0123 = f32x4.add(vacc3x0123, load_lo(c3, nv)); vacc3x4567 = f32x4.add(vacc3x4567, load_hi(c3, nv));
    vacc4x0123 = f32x4.add(vacc4x0123, load_lo(c4, nv)); vacc4x4567 = f32x4.add(vacc4x4567, load_hi(c4, nv));
    vacc5x0123 = f32x4.add(vacc5x0123, load_lo(c5, nv)); vacc5x4567 = f32x4.add(vacc5x4567, load_hi(c5, nv));
  }
  let w = bp + z;
  const wend = w + (<usize>kc << 5);
  while (w < wend) {
    const vb0123 = v128.load(w);
    const vb4567 = v128.load(w, 16);
    w += 32;
    const va0 = v128.load32_splat(a0); a0 += cs;
    vacc0x0123 = vmadd(va0, vb0123, vacc0x0123);
    vacc0x4567 = vmadd(va0, vb4567, vacc0x4567);
    const va1 = v128.load32_splat(a1); a1 += cs;
    vacc1x0123 = vmadd(va1, vb0123, vacc1x0123);
    vacc1x4567 = vmadd(va1, vb4567, vacc1x4567);
    const va2 = v128.load32_splat(a2); a2 += cs;
    vacc2x0123 = vmadd(va2, vb0123, vacc2x0123);
    vacc2x4567 = vmadd(va2, vb4567, vacc2x4567);
    const va3 = v128.load32_splat(a3); a3 += cs;
    vacc3x0123 = vmadd(va3, vb0123, vacc3x0123);
    vacc3x4567 = vmadd(va3, vb4567, vacc3x4567);
    const va4 = v128.load32_splat(a4); a4 += cs;
    vacc4x0123 = vmadd(va4, vb0123, vacc4x0123);
    vacc4x4567 = vmadd(va4, vb4567, vacc4x4567);
    const va5 = v128.load32_splat(a5); a5 += cs;
    vacc5x0123 = vmadd(va5, vb0123, vacc5x0123);
    vacc5x4567 = vmadd(va5, vb4567, vacc5x4567);
  }
  if (act == 1 || act == 5) {
    // ReLU / ReLU6 in registers (the 2 B + 1 A registers are free after the loop): no reload pass over the
    // tile. pmax/pmin are one instruction each (f32x4.max/min take ~8 on x64) and give torch's clamp: -0 and
    // NaN pass through (relu_bound: +Infinity for ReLU)
    const vz = f32x4.splat(0), vc = f32x4.splat(relu_bound(act));
    vacc0x0123 = f32x4.pmin(f32x4.pmax(vacc0x0123, vz), vc); vacc0x4567 = f32x4.pmin(f32x4.pmax(vacc0x4567, vz), vc);
    vacc1x0123 = f32x4.pmin(f32x4.pmax(vacc1x0123, vz), vc); vacc1x4567 = f32x4.pmin(f32x4.pmax(vacc1x4567, vz), vc);
    vacc2x0123 = f32x4.pmin(f32x4.pmax(vacc2x0123, vz), vc); vacc2x4567 = f32x4.pmin(f32x4.pmax(vacc2x4567, vz), vc);
    vacc3x0123 = f32x4.pmin(f32x4.pmax(vacc3x0123, vz), vc); vacc3x4567 = f32x4.pmin(f32x4.pmax(vacc3x4567, vz), vc);
    vacc4x0123 = f32x4.pmin(f32x4.pmax(vacc4x0123, vz), vc); vacc4x4567 = f32x4.pmin(f32x4.pmax(vacc4x4567, vz), vc);
    vacc5x0123 = f32x4.pmin(f32x4.pmax(vacc5x0123, vz), vc); vacc5x4567 = f32x4.pmin(f32x4.pmax(vacc5x4567, vz), vc);
  }
  if (nv == 8) {
    v128.store(c5, vacc5x0123); v128.store(c5, vacc5x4567, 16);
    v128.store(c4, vacc4x0123); v128.store(c4, vacc4x4567, 16);
    v128.store(c3, vacc3x0123); v128.store(c3, vacc3x4567, 16);
    v128.store(c2, vacc2x0123); v128.store(c2, vacc2x4567, 16);
    v128.store(c1, vacc1x0123); v128.store(c1, vacc1x4567, 16);
    v128.store(c0, vacc0x0123); v128.store(c0, vacc0x4567, 16);
  } else {
    store_lo(c5, vacc5x0123, nv); store_hi(c5, vacc5x4567, nv);
    store_lo(c4, vacc4x0123, nv); store_hi(c4, vacc4x4567, nv);
    store_lo(c3, vacc3x0123, nv); store_hi(c3, vacc3x4567, nv);
    store_lo(c2, vacc2x0123, nv); store_hi(c2, vacc2x4567, nv);
    store_lo(c1, vacc1x0123, nv); store_hi(c1, vacc1x4567, nv);
    store_lo(c0, vacc0x0123, nv); store_hi(c0, vacc0x4567, nv);
  }
  if (act > 1 && act != 5) act_tile(c, ldcb, mr, nv, act);
}

/** 5x8 micro-kernel, plain SIMD variant (mul+add needs a temporary, so 6 rows would spill). mr 1..5. */
function gemm_5x8(c: usize, ldcb: usize, a: usize, rs: usize, cs: usize, bp: usize,
  mr: i32, kc: i32, nv: i32, bias: usize, addC: bool, act: i32): void {
  // Rows past mr alias row mr-1 (same inputs, same result, same address): no branches per row.
  // NOTE: V8 zero-extends a 32-bit address before every load unless it can prove the upper half is zero,
  // which it cannot for parameters and selects; built from arithmetic (z = 0, computed), the loop loses
  // 7 movs per k (measured ~38 -> ~43 GFLOP/s relaxed on the loaded machine).
  const z = <usize>(mr < 1);
  let a0 = a + z;
  let c0 = c;
  const r1 = <usize>(mr > 1);
  let a1 = a0 + rs * r1, c1 = c0 + ldcb * r1;
  const r2 = <usize>(mr > 2);
  let a2 = a1 + rs * r2, c2 = c1 + ldcb * r2;
  const r3 = <usize>(mr > 3);
  let a3 = a2 + rs * r3, c3 = c2 + ldcb * r3;
  const r4 = <usize>(mr > 4);
  let a4 = a3 + rs * r4, c4 = c3 + ldcb * r4;
  const vbias0123 = bias_lo(bias, nv), vbias4567 = bias_hi(bias, nv);
  let vacc0x0123 = vbias0123, vacc0x4567 = vbias4567;
  let vacc1x0123 = vbias0123, vacc1x4567 = vbias4567;
  let vacc2x0123 = vbias0123, vacc2x4567 = vbias4567;
  let vacc3x0123 = vbias0123, vacc3x4567 = vbias4567;
  let vacc4x0123 = vbias0123, vacc4x4567 = vbias4567;
  if (addC) {
    // C enters before the K loop: loads after it would make V8 spill accumulators inside the loop
    vacc0x0123 = f32x4.add(vacc0x0123, load_lo(c0, nv)); vacc0x4567 = f32x4.add(vacc0x4567, load_hi(c0, nv));
    vacc1x0123 = f32x4.add(vacc1x0123, load_lo(c1, nv)); vacc1x4567 = f32x4.add(vacc1x4567, load_hi(c1, nv));
    vacc2x0123 = f32x4.add(vacc2x0123, load_lo(c2, nv)); vacc2x4567 = f32x4.add(vacc2x4567, load_hi(c2, nv));
    vacc3x0123 = f32x4.add(vacc3x0123, load_lo(c3, nv)); vacc3x4567 = f32x4.add(vacc3x4567, load_hi(c3, nv));
    vacc4x0123 = f32x4.add(vacc4x0123, load_lo(c4, nv)); vacc4x4567 = f32x4.add(vacc4x4567, load_hi(c4, nv));
  }
  let w = bp + z;
  const wend = w + (<usize>kc << 5);
  while (w < wend) {
    const vb0123 = v128.load(w);
    const vb4567 = v128.load(w, 16);
    w += 32;
    const va0 = v128.load32_splat(a0); a0 += cs;
    vacc0x0123 = vmadd(va0, vb0123, vacc0x0123);
    vacc0x4567 = vmadd(va0, vb4567, vacc0x4567);
    const va1 = v128.load32_splat(a1); a1 += cs;
    vacc1x0123 = vmadd(va1, vb0123, vacc1x0123);
    vacc1x4567 = vmadd(va1, vb4567, vacc1x4567);
    const va2 = v128.load32_splat(a2); a2 += cs;
    vacc2x0123 = vmadd(va2, vb0123, vacc2x0123);
    vacc2x4567 = vmadd(va2, vb4567, vacc2x4567);
    const va3 = v128.load32_splat(a3); a3 += cs;
    vacc3x0123 = vmadd(va3, vb0123, vacc3x0123);
    vacc3x4567 = vmadd(va3, vb4567, vacc3x4567);
    const va4 = v128.load32_splat(a4); a4 += cs;
    vacc4x0123 = vmadd(va4, vb0123, vacc4x0123);
    vacc4x4567 = vmadd(va4, vb4567, vacc4x4567);
  }
  if (act == 1 || act == 5) {
    // ReLU / ReLU6 in registers (see gemm_6x8)
    const vz = f32x4.splat(0), vc = f32x4.splat(relu_bound(act));
    vacc0x0123 = f32x4.pmin(f32x4.pmax(vacc0x0123, vz), vc); vacc0x4567 = f32x4.pmin(f32x4.pmax(vacc0x4567, vz), vc);
    vacc1x0123 = f32x4.pmin(f32x4.pmax(vacc1x0123, vz), vc); vacc1x4567 = f32x4.pmin(f32x4.pmax(vacc1x4567, vz), vc);
    vacc2x0123 = f32x4.pmin(f32x4.pmax(vacc2x0123, vz), vc); vacc2x4567 = f32x4.pmin(f32x4.pmax(vacc2x4567, vz), vc);
    vacc3x0123 = f32x4.pmin(f32x4.pmax(vacc3x0123, vz), vc); vacc3x4567 = f32x4.pmin(f32x4.pmax(vacc3x4567, vz), vc);
    vacc4x0123 = f32x4.pmin(f32x4.pmax(vacc4x0123, vz), vc); vacc4x4567 = f32x4.pmin(f32x4.pmax(vacc4x4567, vz), vc);
  }
  if (nv == 8) {
    v128.store(c4, vacc4x0123); v128.store(c4, vacc4x4567, 16);
    v128.store(c3, vacc3x0123); v128.store(c3, vacc3x4567, 16);
    v128.store(c2, vacc2x0123); v128.store(c2, vacc2x4567, 16);
    v128.store(c1, vacc1x0123); v128.store(c1, vacc1x4567, 16);
    v128.store(c0, vacc0x0123); v128.store(c0, vacc0x4567, 16);
  } else {
    store_lo(c4, vacc4x0123, nv); store_hi(c4, vacc4x4567, nv);
    store_lo(c3, vacc3x0123, nv); store_hi(c3, vacc3x4567, nv);
    store_lo(c2, vacc2x0123, nv); store_hi(c2, vacc2x4567, nv);
    store_lo(c1, vacc1x0123, nv); store_hi(c1, vacc1x4567, nv);
    store_lo(c0, vacc0x0123, nv); store_hi(c0, vacc0x4567, nv);
  }
  if (act > 1 && act != 5) act_tile(c, ldcb, mr, nv, act);
}

/**
 * One row times one whole packed panel (K rows of 8 floats, contiguous): the GEMV of a batch-1 Linear layer.
 * The weights stream from memory once; four accumulator pairs over k = 4i .. 4i+3 keep enough loads in flight
 * (x splat by loads). Measured on AlexNet fc6 (9216 -> 4096, 151 MB):
 * 15.5 -> 7.7 ms (19.7 GB/s; a plain read of the same bytes ran at ~25 GB/s) against gemm_1x8 over KC blocks.
 */
function gemv_panel(c: usize, a: usize, bp: usize, K: i32, nv: i32, bias: usize, addC: bool, act: i32): void {
  let vacc0x0123 = bias_lo(bias, nv), vacc0x4567 = bias_hi(bias, nv);
  if (addC) {
    vacc0x0123 = f32x4.add(vacc0x0123, load_lo(c, nv));
    vacc0x4567 = f32x4.add(vacc0x4567, load_hi(c, nv));
  }
  let vacc1x0123 = f32x4.splat(0), vacc1x4567 = f32x4.splat(0);
  let vacc2x0123 = f32x4.splat(0), vacc2x4567 = f32x4.splat(0);
  let vacc3x0123 = f32x4.splat(0), vacc3x4567 = f32x4.splat(0);
  let a0 = a, w = bp;
  const aend = a + (<usize>(K & ~3) << 2);
  while (a0 < aend) {
    const vx0 = v128.load32_splat(a0);
    const vx1 = v128.load32_splat(a0, 4);
    const vx2 = v128.load32_splat(a0, 8);
    const vx3 = v128.load32_splat(a0, 12);
    a0 += 16;
    vacc0x0123 = vmadd(vx0, v128.load(w), vacc0x0123);
    vacc0x4567 = vmadd(vx0, v128.load(w, 16), vacc0x4567);
    vacc1x0123 = vmadd(vx1, v128.load(w, 32), vacc1x0123);
    vacc1x4567 = vmadd(vx1, v128.load(w, 48), vacc1x4567);
    vacc2x0123 = vmadd(vx2, v128.load(w, 64), vacc2x0123);
    vacc2x4567 = vmadd(vx2, v128.load(w, 80), vacc2x4567);
    vacc3x0123 = vmadd(vx3, v128.load(w, 96), vacc3x0123);
    vacc3x4567 = vmadd(vx3, v128.load(w, 112), vacc3x4567);
    w += 128;
  }
  for (let k = K & ~3; k < K; k++) {
    const vx = v128.load32_splat(a0);
    a0 += 4;
    vacc0x0123 = vmadd(vx, v128.load(w), vacc0x0123);
    vacc0x4567 = vmadd(vx, v128.load(w, 16), vacc0x4567);
    w += 32;
  }
  vacc0x0123 = f32x4.add(f32x4.add(vacc0x0123, vacc1x0123), f32x4.add(vacc2x0123, vacc3x0123));
  vacc0x4567 = f32x4.add(f32x4.add(vacc0x4567, vacc1x4567), f32x4.add(vacc2x4567, vacc3x4567));
  if (nv == 8) {
    v128.store(c, vacc0x0123);
    v128.store(c, vacc0x4567, 16);
  } else {
    store_lo(c, vacc0x0123, nv);
    store_hi(c, vacc0x4567, nv);
  }
  if (act != 0) act_tile(c, 0, 1, nv, act);
}

// ---- scalar micro-kernel ----

// @ts-ignore: decorator
@inline function store_scalar(cp: usize, v: f32, bias: usize, j: i32, addC: bool): void {
  if (bias != 0) v += load<f32>(bias + (<usize>j << 2));
  if (addC) v += load<f32>(cp);
  store<f32>(cp, v);
}

/**
 * 4x4 scalar kernel over half a panel: bp points at column 0 or 4 of the panel (row stride 32 bytes),
 * mr valid rows (1..4; extra rows recompute the last one), nv valid columns (1..4).
 */
function gemm_4x4_scalar(c: usize, ldcb: usize, a: usize, rs: usize, cs: usize, bp: usize,
  mr: i32, kc: i32, nv: i32, bias: usize, addC: bool, act: i32): void {
  let a0 = a;
  let a1 = mr > 1 ? a0 + rs : a0;
  let a2 = mr > 2 ? a1 + rs : a1;
  let a3 = mr > 3 ? a2 + rs : a2;
  let c00: f32 = 0, c01: f32 = 0, c02: f32 = 0, c03: f32 = 0;
  let c10: f32 = 0, c11: f32 = 0, c12: f32 = 0, c13: f32 = 0;
  let c20: f32 = 0, c21: f32 = 0, c22: f32 = 0, c23: f32 = 0;
  let c30: f32 = 0, c31: f32 = 0, c32: f32 = 0, c33: f32 = 0;
  let w = bp;
  for (let k = 0; k < kc; k++) {
    const b0 = load<f32>(w), b1 = load<f32>(w, 4), b2 = load<f32>(w, 8), b3 = load<f32>(w, 12);
    w += 32;
    let x = load<f32>(a0); a0 += cs;
    c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3;
    x = load<f32>(a1); a1 += cs;
    c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3;
    x = load<f32>(a2); a2 += cs;
    c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3;
    x = load<f32>(a3); a3 += cs;
    c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3;
  }
  for (let i = 0; i < mr; i++) {
    const cp = c + <usize>i * ldcb;
    const r0 = i == 0 ? c00 : i == 1 ? c10 : i == 2 ? c20 : c30;
    const r1 = i == 0 ? c01 : i == 1 ? c11 : i == 2 ? c21 : c31;
    const r2 = i == 0 ? c02 : i == 1 ? c12 : i == 2 ? c22 : c32;
    const r3 = i == 0 ? c03 : i == 1 ? c13 : i == 2 ? c23 : c33;
    store_scalar(cp, r0, bias, 0, addC);
    if (nv > 1) store_scalar(cp + 4, r1, bias, 1, addC);
    if (nv > 2) store_scalar(cp + 8, r2, bias, 2, addC);
    if (nv > 3) store_scalar(cp + 12, r3, bias, 3, addC);
  }
  if (act != 0) act_tile(c, ldcb, mr, nv, act);
}

/** 1x8 scalar kernel: one row (GEMV for batch-1 linear layers, single-row tails), nv valid columns. */
function gemm_1x8_scalar(c: usize, a: usize, cs: usize, bp: usize, kc: i32, nv: i32, bias: usize, addC: bool, act: i32): void {
  let c0: f32 = 0, c1: f32 = 0, c2: f32 = 0, c3: f32 = 0, c4: f32 = 0, c5: f32 = 0, c6: f32 = 0, c7: f32 = 0;
  let a0 = a, w = bp;
  for (let k = 0; k < kc; k++) {
    const x = load<f32>(a0);
    a0 += cs;
    c0 += x * load<f32>(w); c1 += x * load<f32>(w, 4); c2 += x * load<f32>(w, 8); c3 += x * load<f32>(w, 12);
    c4 += x * load<f32>(w, 16); c5 += x * load<f32>(w, 20); c6 += x * load<f32>(w, 24); c7 += x * load<f32>(w, 28);
    w += 32;
  }
  store_scalar(c, c0, bias, 0, addC);
  if (nv > 1) store_scalar(c + 4, c1, bias, 1, addC);
  if (nv > 2) store_scalar(c + 8, c2, bias, 2, addC);
  if (nv > 3) store_scalar(c + 12, c3, bias, 3, addC);
  if (nv > 4) store_scalar(c + 16, c4, bias, 4, addC);
  if (nv > 5) store_scalar(c + 20, c5, bias, 5, addC);
  if (nv > 6) store_scalar(c + 24, c6, bias, 6, addC);
  if (nv > 7) store_scalar(c + 28, c7, bias, 7, addC);
  if (act != 0) act_tile(c, 0, 1, nv, act);
}
