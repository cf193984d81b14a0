// Recurrent cells: one kernel call per timestep does the recurrent matrix-vector product h_{t-1} · W_hhᵀ
// (block by block, accumulating into the step's gx row) and then the gate math (sigmoid/tanh as activation.ts)
// in flat passes over that row, which is still in L1.
// Caller: src/nn/layers/rnn.ts (LSTM, GRU). The input projection of all timesteps (W_ih x + b) is one GEMM
// (gemm.ts) before the time loop, or, for a few rows (streaming steps), rnn_project below; plain RNN
// (tanh/relu) needs no kernel here: its step is gemm_packed with accumulate + fused activation.
//
// Memory layout ("gate blocks")
// - Hidden units go in blocks of UB = rnn_block_units(G) = 16 (LSTM G = 4 gates i,f,g,o; GRU G = 3: r,z,n);
//   PyTorch's gate order. Hp = ceil(H/UB)*UB, U = Hp/UB blocks.
// - Packed W_hh (rnn_pack_gates): block u, then gate groups (LSTM: [i, f] then [g, o]; GRU: [r, z, n]), then
//   k = 0..K-1, then one run of UB floats per gate of the group: W[g*H + UB*u + l, k] for l < UB (zero for
//   units >= H). A group is read front to back by one pointer with constant offsets; its K loop keeps 8 or 12
//   f32x4 accumulators (LSTM: 2 gates x 4 vectors, two passes; GRU: 3 gates x 4 vectors, one pass).
//   With batch 1 this is a GEMV, one weight load per multiply-add; it runs at ~31-33 GFLOP/s here (the
//   bench/probes.mjs GEMV rate: 8 accumulators 31.7, 12 33.0; 4 were latency-bound), W_hh in L2 or L3 alike:
//   the limit is the instruction stream (a load and an FMA per 4 multiply-adds), not the cache level (a k loop
//   unrolled by 2 was slower). NOTE: V8 has 15 xmm registers for wasm, and spills land inside the K loop:
//   12 accumulators plus the gate math live after the loop ran at 5-13 GFLOP/s, and so did a GRU pass with
//   its n accumulators started and stored apart; hence every pass accumulates in place in gx and the gate
//   math runs after the whole GEMV.
// - gx rows (the input projection, computed by the caller's GEMM with W_ih packed in the same column
//   order): row b at gx + 4*b*ldgx holds G*Hp floats, column (u*G + g)*UB + l = gate g of unit UB*u + l.
//   LSTM gx includes b_ih + b_hh; GRU gx includes b_ih, and b_hh for r and z only (b_hn is scaled by r,
//   so it comes in apart: bhn, Hp floats, units in order).
// - h_prev row b at h_prev + 4*b*ldhp (H floats), h_out row b at h_out + 4*b*ldh (H floats written, nothing
//   past them): the caller points these into the [T, B, D*H] output sequence, so a layer's output needs no
//   copy. h_out must not overlap h_prev (all of h_prev is read for every block). c: [B, H] contiguous,
//   updated in place. NOTE: lstm_step overwrites its gx rows with the gate pre-activations, then (SIMD) with
//   the activated gates and tanh c' (they are read once; the SIMD variant needs the room, see lstm_pass_simd,
//   lstm_gates_rows); gru_step's SIMD variant likewise leaves σr, σz and n in its gx rows.
// No alignment is required (wasm v128 loads accept any address); blocks past H use partial loads/stores,
// so nothing outside the stated regions is read or written (except gx padding columns, which exist).
//
// Error: the K-term sums round as in the GEMM; sigmoid/tanh are activation.ts's approximations (absolute
// error <= 1.5e-7 each), so h and c are within ~1e-6 of exact plus the sum's rounding (test/kernels/rnn.test.ts).
import { sigmoid_f32, tanh_f32 } from './activation';
import { gemm_packed } from './gemm';
import { load_lanes, store_lanes, vmadd } from './simd';

/** Hidden units per gate block: 16 for every cell (see the header). */
export function rnn_block_units(G: i32): i32 {
  return 16;
}

/** Floats of a packed gate-block matrix: ceil(H/UB)*UB * G * K. */
export function rnn_packed_gates_size(G: i32, H: i32, K: i32): i32 {
  const UB = rnn_block_units(G);
  return ((H + UB - 1) / UB) * UB * G * K;
}

/** Gates per group in a packed block: LSTM's 4 gates go in 2 groups of 2, others in one group (see the header). */
// @ts-ignore: decorator
@inline function group_size(G: i32): i32 { return G == 4 ? 2 : G; }

/** Pack W [G*H, K] (row-major, PyTorch's weight_hh_l*) into gate blocks (see the header). */
export function rnn_pack_gates(dst: usize, w: usize, G: i32, H: i32, K: i32): void {
  const UB = rnn_block_units(G);
  const U = (H + UB - 1) / UB;
  const GS = group_size(G);
  const rs = <usize>K << 2;
  let d = dst;
  for (let u = 0; u < U; u++) {
    const nv = min(UB, H - u * UB);
    for (let g0 = 0; g0 < G; g0 += GS) {
      for (let k = 0; k < K; k++) {
        for (let g = g0; g < g0 + GS; g++) {
          const src = w + ((<usize>(g * H + u * UB) * <usize>K + <usize>k) << 2);
          let l = 0;
          for (; l < nv; l++) store<f32>(d + (<usize>l << 2), load<f32>(src + <usize>l * rs));
          for (; l < UB; l++) store<f32>(d + (<usize>l << 2), 0);
          d += <usize>UB << 2;
        }
      }
    }
  }
}

/**
 * One LSTM timestep for B rows (K = H): pre = gx[b] + W_hh h_prev[b];
 * c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c'). pw = rnn_pack_gates(W_hh, 4, H, H).
 */
export function lstm_step(h_out: usize, ldh: i32, c: usize, h_prev: usize, ldhp: i32, gx: usize, ldgx: i32,
  pw: usize, B: i32, H: i32): void {
  lstm_step_units(h_out, ldh, c, h_prev, ldhp, gx, ldgx, pw, B, H, 0, (H + 15) >> 4);
}

/**
 * lstm_step for the unit blocks u0 .. u1-1 only (units 16*u0 .. min(16*u1, H)-1): their h', c' and gx slots,
 * all of h_prev read. Each unit's result is the same as in the whole step, so threads can share a step by
 * blocks (src/runtime/parallel.ts).
 */
export function lstm_step_units(h_out: usize, ldh: i32, c: usize, h_prev: usize, ldhp: i32, gx: usize, ldgx: i32,
  pw: usize, B: i32, H: i32, u0: i32, u1: i32): void {
  const blk = <usize>H << 8; // K * 4 gates * 16 floats * 4 bytes
  for (let u = u0; u < u1; u++) {
    const nv = min(16, H - (u << 4));
    const wb = pw + <usize>u * blk;
    for (let b = 0; b < B; b++) {
      const g0 = gx + ((<usize>b * <usize>ldgx + (<usize>u << 6)) << 2);
      const hp = h_prev + ((<usize>b * <usize>ldhp) << 2);
      const cp = c + ((<usize>b * <usize>H + (<usize>u << 4)) << 2);
      const ho = h_out + ((<usize>b * <usize>ldh + (<usize>u << 4)) << 2);
      if (ASC_FEATURE_SIMD) {
        lstm_pass_simd(g0, hp, wb, blk >> 1);
        lstm_pass_simd(g0 + 128, hp, wb + (blk >> 1), blk >> 1);
      } else lstm_block_scalar(ho, cp, hp, g0, wb, H, nv);
    }
  }
  if (ASC_FEATURE_SIMD) {
    const first = <usize>u0 << 6, units = min(H, u1 << 4) - (u0 << 4);
    for (let b = 0; b < B; b++) {
      lstm_gates_rows(h_out + ((<usize>b * <usize>ldh) << 2) + first, c + ((<usize>b * <usize>H) << 2) + first,
        gx + ((<usize>b * <usize>ldgx) << 2) + (<usize>u0 << 8), units);
    }
  }
}

/**
 * One GRU timestep for B rows (K = H): r = σ(gx_r + W_hr h), z = σ(gx_z + W_hz h),
 * n = tanh(gx_n + r·(W_hn h + b_hn)), h' = (1 - z)·n + z·h. pw = rnn_pack_gates(W_hh, 3, H, H); bhn 0 = none.
 */
export function gru_step(h_out: usize, ldh: i32, h_prev: usize, ldhp: i32, gx: usize, ldgx: i32,
  pw: usize, bhn: usize, B: i32, H: i32): void {
  gru_step_units(h_out, ldh, h_prev, ldhp, gx, ldgx, pw, bhn, B, H, 0, (H + 15) >> 4);
}

/** gru_step for the unit blocks u0 .. u1-1 only (as lstm_step_units). */
export function gru_step_units(h_out: usize, ldh: i32, h_prev: usize, ldhp: i32, gx: usize, ldgx: i32,
  pw: usize, bhn: usize, B: i32, H: i32, u0: i32, u1: i32): void {
  const blk = <usize>H * 192; // K * 3 gates * 16 floats * 4 bytes
  for (let u = u0; u < u1; u++) {
    const nv = min(16, H - (u << 4));
    const wb = pw + <usize>u * blk;
    const bn = bhn != 0 ? bhn + (<usize>u << 6) : 0;
    for (let b = 0; b < B; b++) {
      const g0 = gx + ((<usize>b * <usize>ldgx + <usize>u * 48) << 2);
      const hp = h_prev + ((<usize>b * <usize>ldhp) << 2);
      const ho = h_out + ((<usize>b * <usize>ldh + (<usize>u << 4)) << 2);
      if (ASC_FEATURE_SIMD) gru_block_simd(g0, ho, hp, wb, blk, bn, nv);
      else gru_block_scalar(ho, hp, g0, wb, H, bn, u << 4, nv);
    }
  }
  if (ASC_FEATURE_SIMD) {
    const first = <usize>u0 << 6, units = min(H, u1 << 4) - (u0 << 4);
    for (let b = 0; b < B; b++) {
      gru_gates_rows(h_out + ((<usize>b * <usize>ldh) << 2) + first, h_prev + ((<usize>b * <usize>ldhp) << 2) + first,
        gx + ((<usize>b * <usize>ldgx) << 2) + <usize>u0 * 192, units);
    }
  }
}

/**
 * Every timestep of directions d0 .. d1-1 (0 or 1) of one recurrent layer, as the caller's loop of steps would
 * run them (src/runtime/parallel.ts runs the two directions of a bidirectional layer on two threads through
 * this). Direction d: t = 0 .. T-1, or T-1 .. 0 when d == 1 or rev0; h_t at out + d*out_ds + t*out_ts (row
 * stride ldo), the first step reading h0 + d*h0_ds (row stride ldh0), gx_t at gx + d*gx_ds + t*gx_ts (row
 * stride ldgx), weights pw0 / pw1, GRU's b_hn bhn0 / bhn1, LSTM's cell state c + d*c_ds (in place).
 * kind 0: lstm_step; 1: gru_step; 2: plain RNN, gemm_packed(h_t (+)= h_{t-1} · W_hhᵀ, flags) onto the input
 * projection already in out (flags: accumulate + tanh or relu). Strides in bytes.
 */
export function rnn_directions(kind: i32, d0: i32, d1: i32, rev0: i32, out: usize, ldo: i32, out_ts: usize, out_ds: usize,
  c: usize, c_ds: usize, h0: usize, ldh0: i32, h0_ds: usize, gx: usize, ldgx: i32, gx_ts: usize, gx_ds: usize,
  pw0: usize, pw1: usize, bhn0: usize, bhn1: usize, B: i32, H: i32, T: i32, flags: i32): void {
  for (let d = d0; d < d1; d++) {
    const reverse = d == 1 || rev0 != 0;
    const o = out + <usize>d * out_ds, g = gx + <usize>d * gx_ds, cp = c + <usize>d * c_ds;
    const pw = d == 1 ? pw1 : pw0, bhn = d == 1 ? bhn1 : bhn0;
    let hp = h0 + <usize>d * h0_ds;
    let ldhp = ldh0;
    for (let i = 0; i < T; i++) {
      const t = reverse ? T - 1 - i : i;
      const ho = o + <usize>t * out_ts;
      if (kind == 0) lstm_step(ho, ldo, cp, hp, ldhp, g + <usize>t * gx_ts, ldgx, pw, B, H);
      else if (kind == 1) gru_step(ho, ldo, hp, ldhp, g + <usize>t * gx_ts, ldgx, pw, bhn, B, H);
      else gemm_packed(ho, hp, pw, 0, B, H, H, ldhp, 1, ldo, flags, 0);
      hp = ho;
      ldhp = ldo;
    }
  }
}

/**
 * gx[b] += W · x[b] for B rows: the input projection as a GEMV over gate blocks, for one or a few rows
 * (streaming steps), where gemm_packed's single-row kernel is slower. W [G*H, K] (K = input features) packed
 * by rnn_pack_gates; gx rows (stride ldgx) in gate-block column order, holding the bias already (the caller
 * copies it in); x row b at x + 4*b*ldx. G = 4 (LSTM) or 3 (GRU).
 */
export function rnn_project(gx: usize, ldgx: i32, x: usize, ldx: i32, pw: usize, B: i32, G: i32, H: i32, K: i32): void {
  const UB = rnn_block_units(G);
  const U = (H + UB - 1) / UB;
  const cols = G * UB;
  const blk = <usize>K * <usize>cols << 2;
  for (let u = 0; u < U; u++) {
    const wb = pw + <usize>u * blk;
    for (let b = 0; b < B; b++) {
      const g0 = gx + ((<usize>b * <usize>ldgx + <usize>u * <usize>cols) << 2);
      const xp = x + ((<usize>b * <usize>ldx) << 2);
      if (ASC_FEATURE_SIMD) {
        if (G == 4) {
          lstm_pass_simd(g0, xp, wb, blk >> 1);
          lstm_pass_simd(g0 + 128, xp, wb + (blk >> 1), blk >> 1);
        } else {
          gru_pass_simd(g0, xp, wb, blk);
        }
      } else {
        project_block_scalar(g0, xp, wb, K, G, UB);
      }
    }
  }
}

// ---- SIMD blocks: one block of units of one batch row ----

// Lanes of vector q (0..3) of a block with nv valid units.
// @ts-ignore: decorator
@inline function lanes(nv: i32, q: i32): i32 { return min(max(nv - (q << 2), 0), 4); }

/**
 * One pass over a gate group of 2 gates x 16 units: the 8 f32x4 pre-activations at p += W·h, in place.
 * NOTE: the accumulators end in plain stores; the gate math reads them back from L1 afterwards. With the
 * gate math's ~10 extra registers live after the loop, V8 spilled accumulators inside it (5 vs 20+ GFLOP/s).
 */
function lstm_pass_simd(p: usize, hp: usize, w: usize, bytes: usize): void {
  let va0 = v128.load(p), va1 = v128.load(p, 16), va2 = v128.load(p, 32), va3 = v128.load(p, 48);
  let vb0 = v128.load(p, 64), vb1 = v128.load(p, 80), vb2 = v128.load(p, 96), vb3 = v128.load(p, 112);
  let a = hp;
  const wend = w + bytes;
  while (w < wend) {
    const vh = v128.load32_splat(a);
    a += 4;
    va0 = vmadd(vh, v128.load(w), va0);
    va1 = vmadd(vh, v128.load(w, 16), va1);
    va2 = vmadd(vh, v128.load(w, 32), va2);
    va3 = vmadd(vh, v128.load(w, 48), va3);
    vb0 = vmadd(vh, v128.load(w, 64), vb0);
    vb1 = vmadd(vh, v128.load(w, 80), vb1);
    vb2 = vmadd(vh, v128.load(w, 96), vb2);
    vb3 = vmadd(vh, v128.load(w, 112), vb3);
    w += 128;
  }
  v128.store(p, va0); v128.store(p, va1, 16); v128.store(p, va2, 32); v128.store(p, va3, 48);
  v128.store(p, vb0, 64); v128.store(p, vb1, 80); v128.store(p, vb2, 96); v128.store(p, vb3, 112);
}

/** One pass over 3 gates x 16 units (a GRU block): the 12 f32x4 at p += W·x. */
function gru_pass_simd(p: usize, xp: usize, w: usize, bytes: usize): void {
  let v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
  let v4 = v128.load(p, 64), v5 = v128.load(p, 80), v6 = v128.load(p, 96), v7 = v128.load(p, 112);
  let v8 = v128.load(p, 128), v9 = v128.load(p, 144), v10 = v128.load(p, 160), v11 = v128.load(p, 176);
  let a = xp;
  const wend = w + bytes;
  while (w < wend) {
    const vx = v128.load32_splat(a);
    a += 4;
    v0 = vmadd(vx, v128.load(w), v0);
    v1 = vmadd(vx, v128.load(w, 16), v1);
    v2 = vmadd(vx, v128.load(w, 32), v2);
    v3 = vmadd(vx, v128.load(w, 48), v3);
    v4 = vmadd(vx, v128.load(w, 64), v4);
    v5 = vmadd(vx, v128.load(w, 80), v5);
    v6 = vmadd(vx, v128.load(w, 96), v6);
    v7 = vmadd(vx, v128.load(w, 112), v7);
    v8 = vmadd(vx, v128.load(w, 128), v8);
    v9 = vmadd(vx, v128.load(w, 144), v9);
    v10 = vmadd(vx, v128.load(w, 160), v10);
    v11 = vmadd(vx, v128.load(w, 176), v11);
    w += 192;
  }
  v128.store(p, v0); v128.store(p, v1, 16); v128.store(p, v2, 32); v128.store(p, v3, 48);
  v128.store(p, v4, 64); v128.store(p, v5, 80); v128.store(p, v6, 96); v128.store(p, v7, 112);
  v128.store(p, v8, 128); v128.store(p, v9, 144); v128.store(p, v10, 160); v128.store(p, v11, 176);
}

// ---- gate math with its constants in memory ----
// The same operations, in the same order, as activation.ts's exp_f32x4 / sigmoid_f32x4 / tanh_f32x4 (so the
// same results and error bounds), but every constant is a broadcast load from this table: V8 materializes
// each f32x4.splat(const) / v128.const as movq imm64 + vmovq + vpunpcklqdq (3 instructions, a register each)
// (it also spilled them in the inlined gate math). The sigmoid here skips exp_f32x4's zero mask and tanh's exp
// its lower clamp (both no-ops for these arguments, see gsigmoid2_at / gtanh2_at). Vectors go in pairs, two
// independent chains per call (gexp_pos2).
// Offsets (floats): 0 EXP_HI, 1 EXP_LO, 2 LOG2E, 3 ROUND_MAGIC, 4 LN2_HI, 5 LN2_LO, 6..11 EP0..EP5, 12 1,
// 13..17 TP4..TP0, 18 TANH_SPLIT, 19 2, 20 -0.0; 21 the i32 127 (exponent bias).
const GK: usize = memory.data<f32>([
  88.37626, -87.33654, 1.44269504088896341, 12582912.0, 0.693359375, -2.12194440e-4,
  1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1,
  1.0, -0.006274560000747442, 0.021071895956993103, -0.05385236069560051, 0.13332585990428925,
  -0.33333316445350647, 0.55, 2.0, -0.0, 1.77964e-43 /* the f32 whose bits are the i32 127 */, 0, 0,
], 16);

// @ts-ignore: decorator
@inline function gk(i: i32): v128 { return v128.load32_splat(GK + (<usize>i << 2)); }

// @ts-ignore: decorator
@inline function gmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/**
 * exp of xa and of xb, both already clamped to [EXP_LO, EXP_HI] (or NaN): exp_f32x4 without its clamp and its
 * zero mask, two independent chains at once, each table constant loaded once for both. Returns exp(xa);
 * exp(xb) goes to the 16 bytes at eb (AssemblyScript has no tuples; the store forwards to the reload).
 * NOTE: one vector per call ran latency-bound and load-bound (~17 constant loads per vector); pairs made
 * the LSTM gate math 2.65 -> 2.33 us and the GRU's 1.74 -> 1.46 us per row at H = 256.
 */
// @ts-ignore: decorator
@inline function gexp_pos2(xa: v128, xb: v128, eb: usize): v128 {
  let k = gk(2), k1 = gk(3);
  const ta = f32x4.add(f32x4.mul(xa, k), k1), tb = f32x4.add(f32x4.mul(xb, k), k1);
  const na = f32x4.sub(ta, k1), nb = f32x4.sub(tb, k1);
  k = gk(4);
  let ra = f32x4.sub(xa, f32x4.mul(na, k)), rb = f32x4.sub(xb, f32x4.mul(nb, k));
  k = gk(5);
  ra = f32x4.sub(ra, f32x4.mul(na, k)); rb = f32x4.sub(rb, f32x4.mul(nb, k));
  k = gk(6); k1 = gk(7);
  let pa = gmadd(k, ra, k1), pb = gmadd(k, rb, k1);
  k = gk(8); pa = gmadd(pa, ra, k); pb = gmadd(pb, rb, k);
  k = gk(9); pa = gmadd(pa, ra, k); pb = gmadd(pb, rb, k);
  k = gk(10); pa = gmadd(pa, ra, k); pb = gmadd(pb, rb, k);
  k = gk(11); pa = gmadd(pa, ra, k); pb = gmadd(pb, rb, k);
  k = gk(12);
  pa = f32x4.add(gmadd(pa, f32x4.mul(ra, ra), ra), k); pb = f32x4.add(gmadd(pb, f32x4.mul(rb, rb), rb), k);
  k = gk(21);
  v128.store(eb, f32x4.mul(pb, i32x4.shl(i32x4.add(tb, k), 23)));
  return f32x4.mul(pa, i32x4.shl(i32x4.add(ta, k), 23));
}

/**
 * σ of the vectors at a and b, in place (sigmoid_f32x4's operations). exp_f32x4's `x < EXP_LO -> 0` mask is
 * left out: there the clamped exp is 2^-126 and 1/(1 + 2^-126) = 1 all the same; NaN passes pmin/pmax
 * unchanged, as in exp_f32x4.
 */
// @ts-ignore: decorator
@inline function gsigmoid2_at(a: usize, b: usize): void {
  let k = gk(0);
  const xa = f32x4.pmin(f32x4.neg(v128.load(a)), k), xb = f32x4.pmin(f32x4.neg(v128.load(b)), k);
  k = gk(1);
  const ea = gexp_pos2(f32x4.pmax(xa, k), f32x4.pmax(xb, k), b);
  const one = gk(12);
  v128.store(a, f32x4.div(one, f32x4.add(one, ea)));
  v128.store(b, f32x4.div(one, f32x4.add(one, v128.load(b))));
}

/**
 * tanh of the vectors at a and b, in place (tanh_f32x4's operations: odd polynomial below TANH_SPLIT,
 * 1 - 2/(exp(2|x|) + 1) above, sign restored). exp's argument is >= 0 (or NaN), so exp_f32x4's lower clamp
 * and zero mask are no-ops.
 */
// @ts-ignore: decorator
@inline function gtanh2_at(a: usize, b: usize): void {
  const xa = v128.load(a), xb = v128.load(b);
  const aa = f32x4.abs(xa), ab = f32x4.abs(xb);
  const ta = f32x4.mul(aa, aa), tb = f32x4.mul(ab, ab);
  let k = gk(13), k1 = gk(14);
  let pa = gmadd(k, ta, k1), pb = gmadd(k, tb, k1);
  k = gk(15); pa = gmadd(pa, ta, k); pb = gmadd(pb, tb, k);
  k = gk(16); pa = gmadd(pa, ta, k); pb = gmadd(pb, tb, k);
  k = gk(17); pa = gmadd(pa, ta, k); pb = gmadd(pb, tb, k);
  const sa = gmadd(f32x4.mul(aa, ta), pa, aa), sb = gmadd(f32x4.mul(ab, tb), pb, ab);
  k = gk(0);
  const ea = gexp_pos2(f32x4.pmin(f32x4.add(aa, aa), k), f32x4.pmin(f32x4.add(ab, ab), k), b);
  const one = gk(12);
  k = gk(19);
  const ba = f32x4.sub(one, f32x4.div(k, f32x4.add(ea, one))), bb = f32x4.sub(one, f32x4.div(k, f32x4.add(v128.load(b), one)));
  k = gk(18);
  const qa = v128.bitselect(sa, ba, f32x4.lt(aa, k)), qb = v128.bitselect(sb, bb, f32x4.lt(ab, k));
  k = gk(20);
  v128.store(a, v128.or(qa, v128.and(xa, k)));
  v128.store(b, v128.or(qb, v128.and(xb, k)));
}

/**
 * Gate math of one row (H units) after its whole GEMV, in flat passes over the pre-activations at g (gate
 * blocks: [i f g o] x 16 units, 256 bytes a block): σ in place over i, f, o; tanh in place over g (vectors in
 * pairs); c' = σf·c + σi·tanh g, also parked in the g slot; tanh c' in place there; h' = σo·tanh c'.
 * NOTE: one fused body per 4 units is a ~200-cycle dependency chain
 * (exp, div, then exp and div again for tanh c') with ~150 instructions: the reorder buffer holds ~2 such
 * bodies, so it ran latency-bound (4.6 us per step at H = 256); short independent bodies in a loop overlap.
 */
function lstm_gates_rows(ho: usize, c: usize, g: usize, H: i32): void {
  const U = (H + 15) >> 4;
  for (let u = 0; u < U; u++) {
    const p = g + (<usize>u << 8);
    // vectors 0..7 (i, f) and 12..15 (o)
    gsigmoid2_at(p, p + 16); gsigmoid2_at(p + 32, p + 48); gsigmoid2_at(p + 64, p + 80);
    gsigmoid2_at(p + 96, p + 112); gsigmoid2_at(p + 192, p + 208); gsigmoid2_at(p + 224, p + 240);
  }
  for (let u = 0; u < U; u++) {
    const p = g + (<usize>u << 8) + 128;
    gtanh2_at(p, p + 16);
    gtanh2_at(p + 32, p + 48);
  }
  // c' = σf·c + σi·tanh g, parked in the (consumed) tanh g slot; tanh c' in place there, two quads at a time;
  // then h' = σo·tanh c'. Slots past H are block padding, so partial quads need no special case.
  const nq = (H + 3) >> 2;
  for (let q = 0; q < nq; q++) {
    const n = min(H - (q << 2), 4);
    const p = g + ((<usize>(q >> 2) << 8) | (<usize>(q & 3) << 4));
    const o4 = <usize>q << 4;
    const cn = f32x4.add(f32x4.mul(v128.load(p, 64), load_lanes(c + o4, n)), f32x4.mul(v128.load(p), v128.load(p, 128)));
    store_lanes(c + o4, cn, n);
    v128.store(p, cn, 128);
  }
  for (let q = 0; q < nq; q += 2) {
    const p = g + ((<usize>(q >> 2) << 8) | (<usize>(q & 3) << 4)) + 128;
    // q even: quad q + 1 is the next vector of the same block (or block padding when q + 1 == nq)
    gtanh2_at(p, p + 16);
  }
  for (let q = 0; q < nq; q++) {
    const n = min(H - (q << 2), 4);
    const p = g + ((<usize>(q >> 2) << 8) | (<usize>(q & 3) << 4));
    store_lanes(ho + (<usize>q << 4), f32x4.mul(v128.load(p, 192), v128.load(p, 128)), n);
  }
}

/**
 * GEMV part of a GRU block: gx_n (the input projection of n) moves to ho (the block's h_out lanes, scratch
 * until gru_gates_rows overwrites them; nv lanes only) and b_hn takes its slot, so one in-place pass of 12
 * accumulators (gru_pass_simd) leaves σ's arguments for r and z and W_hn h + b_hn in the block.
 * NOTE: a pass that kept the n accumulators apart (started from b_hn, stored to ho) spilled in V8:
 * 14.2 -> 24.9 us per step at H = 256, where this one runs at the input projection's rate.
 */
function gru_block_simd(g0: usize, ho: usize, hp: usize, wb: usize, blk: usize, bn: usize, nv: i32): void {
  for (let q = 0; q < 4; q++) {
    const o = <usize>q << 4;
    store_lanes(ho + o, v128.load(g0 + o, 128), lanes(nv, q));
    v128.store(g0 + o, bn != 0 ? v128.load(bn + o) : f32x4.splat(0), 128);
  }
  gru_pass_simd(g0, hp, wb, blk);
}

/**
 * GRU gate math of one row after its whole GEMV (see lstm_gates_rows for why flat passes): σ in place over
 * the r and z pre-activations (gate blocks [r z n] x 16 units, 192 bytes a block), then per 4 units
 * n = tanh(gx_n + r·hn), h' = n + z·(h - n), with hn (W_hn h + b_hn) in the n slot, gx_n read from ho
 * (gru_block_simd put it there) and h' written over it.
 */
function gru_gates_rows(ho: usize, hp: usize, g: usize, H: i32): void {
  const U = (H + 15) >> 4;
  for (let u = 0; u < U; u++) {
    const p = g + <usize>u * 192;
    for (let j = 0; j < 8; j += 2) gsigmoid2_at(p + (<usize>j << 4), p + (<usize>j << 4) + 16);
  }
  // n's argument gx_n + r·hn goes into the n slot, tanh in place there two quads at a time (q even: quad q + 1
  // is the next vector of the same block, or its padding), then h'.
  const nq = (H + 3) >> 2;
  for (let q = 0; q < nq; q++) {
    const n = min(H - (q << 2), 4);
    const p = g + <usize>(q >> 2) * 192 + (<usize>(q & 3) << 4);
    v128.store(p, f32x4.add(load_lanes(ho + (<usize>q << 4), n), f32x4.mul(v128.load(p), v128.load(p, 128))), 128);
  }
  for (let q = 0; q < nq; q += 2) {
    const p = g + <usize>(q >> 2) * 192 + (<usize>(q & 3) << 4) + 128;
    gtanh2_at(p, p + 16);
  }
  for (let q = 0; q < nq; q++) {
    const n = min(H - (q << 2), 4);
    const p = g + <usize>(q >> 2) * 192 + (<usize>(q & 3) << 4);
    const o4 = <usize>q << 4;
    const nn = v128.load(p, 128);
    // h' = n + z·(h - n)  ==  (1 - z)·n + z·h
    store_lanes(ho + o4, f32x4.add(nn, f32x4.mul(v128.load(p, 64), f32x4.sub(load_lanes(hp + o4, n), nn))), n);
  }
}

// ---- scalar blocks (the scalar variant): unit by unit over the same packed layout ----

function lstm_block_scalar(ho: usize, cp: usize, hp: usize, g0: usize, wb: usize, K: i32, nv: i32): void {
  const half = <usize>K << 7; // bytes of one gate group: K * 2 gates * 16 floats * 4
  for (let l = 0; l < nv; l++) {
    const lo4 = <usize>l << 2;
    let ai = load<f32>(g0 + lo4), af = load<f32>(g0 + lo4, 64), ag = load<f32>(g0 + lo4, 128), ao = load<f32>(g0 + lo4, 192);
    let w = wb + lo4, a = hp;
    for (let k = 0; k < K; k++) {
      const h = load<f32>(a);
      a += 4;
      ai += h * load<f32>(w);
      af += h * load<f32>(w, 64);
      ag += h * load<f32>(w + half);
      ao += h * load<f32>(w + half, 64);
      w += 128;
    }
    const cn = sigmoid_f32(af) * load<f32>(cp + lo4) + sigmoid_f32(ai) * tanh_f32(ag);
    store<f32>(cp + lo4, cn);
    store<f32>(ho + lo4, sigmoid_f32(ao) * tanh_f32(cn));
  }
}

function gru_block_scalar(ho: usize, hp: usize, g0: usize, wb: usize, K: i32, bn: usize, j0: i32, nv: i32): void {
  for (let l = 0; l < nv; l++) {
    const lo4 = <usize>l << 2;
    let ar = load<f32>(g0 + lo4), az = load<f32>(g0 + lo4, 64);
    let an: f32 = bn != 0 ? load<f32>(bn + lo4) : 0;
    let w = wb + lo4, a = hp;
    for (let k = 0; k < K; k++) {
      const h = load<f32>(a);
      a += 4;
      ar += h * load<f32>(w);
      az += h * load<f32>(w, 64);
      an += h * load<f32>(w, 128);
      w += 192;
    }
    const r = sigmoid_f32(ar), z = sigmoid_f32(az);
    const n = tanh_f32(load<f32>(g0 + lo4, 128) + r * an);
    const h = load<f32>(hp + ((<usize>(j0 + l)) << 2));
    store<f32>(ho + lo4, n + z * (h - n));
  }
}

/** Scalar rnn_project for one block: every column (gate g, unit l) of the block, over the packed groups. */
function project_block_scalar(g0: usize, xp: usize, wb: usize, K: i32, G: i32, UB: i32): void {
  const GS = group_size(G);
  for (let g = 0; g < G; g++) {
    const grp = wb + ((<usize>(g / GS) * <usize>K * <usize>(GS * UB) + <usize>((g % GS) * UB)) << 2);
    const step = <usize>(GS * UB) << 2;
    for (let l = 0; l < UB; l++) {
      const c = g0 + (<usize>(g * UB + l) << 2);
      let acc = load<f32>(c);
      let w = grp + (<usize>l << 2), a = xp;
      for (let k = 0; k < K; k++) {
        acc += load<f32>(a) * load<f32>(w);
        a += 4;
        w += step;
      }
      store<f32>(c, acc);
    }
  }
}
