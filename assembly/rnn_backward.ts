// Recurrent cells for training: the forward gate math that saves what backpropagation through time needs,
// and the per-step fused gate backward. Caller: src/train/rnn.ts (training build of RNN/LSTM/GRU).
//
// Memory layout: PyTorch's plain gate order, NOT the inference gate blocks of rnn.ts (training repacks
// nothing per gate: the recurrent and input projections are ordinary gemm_packed calls over W_ih/W_hh raw).
// - gates row b at gates + 4*b*ldg: G*H floats, gate g of unit j at column g*H + j (LSTM i,f,g,o; GRU r,z,n).
//   The forward kernels read pre-activations there and overwrite them with the activations (saved for the
//   backward); the backward kernels read the activations and write pre-activation gradients (dgates).
// - h rows (h_out, h_prev) have their own row strides (they live in the [T, B, D*H] output sequence);
//   c rows are [B, H] contiguous. A pointer 0 means "zeros" where stated (h_prev/c_prev at t = 0 without an
//   initial state, no output gradient at this step).
// - Gate math uses activation.ts's sigmoid_f32/tanh_f32 (abs error <= 1.5e-7 each, as inference); the
//   backward recomputes tanh(c_t) the same way, so forward and backward see the same numbers.
//
// GRU (https://pytorch.org/docs/stable/generated/torch.nn.GRU.html): n = tanh(W_in x + b_in + r·(W_hn h + b_hn)),
// h' = (1 - z)·n + z·h. The input projection gx (incl. b_ih) and the hidden projection gh = W_hh h + b_hh
// are kept apart, because r multiplies gh's n part including b_hn: the gradients of the two projections
// differ in the n columns (dgx_n = da_n, dgh_n = da_n·r).
//
// f32x4 over units in the SIMD variants (scalar tail; the scalar twins of the activations run the same
// operations, so the tail and the scalar variant agree with the vector body): the gate math is O(B·H) per
// step against O(B·H·G·H) for the step's GEMM, but scalar sigmoid/tanh made it ~20% of an LSTM step.
import { sigmoid_f32, sigmoid_f32x4, tanh_f32, tanh_f32x4 } from './activation';

// @ts-ignore: decorator
@inline function ld(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function st(p: usize, i: i32, v: f32): void { store<f32>(p + (<usize>i << 2), v); }
// @ts-ignore: decorator
@inline function ldv(p: usize, i: i32): v128 { return v128.load(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function stv(p: usize, i: i32, v: v128): void { v128.store(p + (<usize>i << 2), v); }
// @ts-ignore: decorator
@inline function one4(): v128 { return f32x4.splat(1); }

/**
 * LSTM step gate math. gates [B, 4H] (row stride ldg) pre-activations (x·W_ihᵀ + b_ih + b_hh + h·W_hhᵀ)
 * -> activations σi, σf, tanh g, σo in place; c_out [B, H] = σf·c_prev + σi·g (c_prev 0 = zeros);
 * h_out row b at h_out + 4*b*ldh = σo·tanh(c_out).
 */
export function lstm_cell_forward(gates: usize, ldg: i32, c_out: usize, c_prev: usize, h_out: usize, ldh: i32, B: i32, H: i32): void {
  for (let b = 0; b < B; b++) {
    const gp = gates + ((<usize>b * <usize>ldg) << 2);
    const co = c_out + ((<usize>b * <usize>H) << 2);
    const cp = c_prev != 0 ? c_prev + ((<usize>b * <usize>H) << 2) : 0;
    const ho = h_out + ((<usize>b * <usize>ldh) << 2);
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= H; j += 4) {
        const i = sigmoid_f32x4(ldv(gp, j));
        const f = sigmoid_f32x4(ldv(gp, H + j));
        const g = tanh_f32x4(ldv(gp, 2 * H + j));
        const o = sigmoid_f32x4(ldv(gp, 3 * H + j));
        stv(gp, j, i); stv(gp, H + j, f); stv(gp, 2 * H + j, g); stv(gp, 3 * H + j, o);
        const c = f32x4.add(f32x4.mul(f, cp != 0 ? ldv(cp, j) : f32x4.splat(0)), f32x4.mul(i, g));
        stv(co, j, c);
        stv(ho, j, f32x4.mul(o, tanh_f32x4(c)));
      }
    }
    for (; j < H; j++) {
      const i = sigmoid_f32(ld(gp, j));
      const f = sigmoid_f32(ld(gp, H + j));
      const g = tanh_f32(ld(gp, 2 * H + j));
      const o = sigmoid_f32(ld(gp, 3 * H + j));
      st(gp, j, i); st(gp, H + j, f); st(gp, 2 * H + j, g); st(gp, 3 * H + j, o);
      const c = f * (cp != 0 ? ld(cp, j) : 0) + i * g;
      st(co, j, c);
      st(ho, j, o * tanh_f32(c));
    }
  }
}

/**
 * LSTM step backward. dh = dh_out (row stride ldo; 0 = none) + dh_rec ([B, H]; 0 = none) is the gradient
 * of h_t; dc [B, H] holds the gradient of c_t from step t+1 on entry and that of c_{t-1} on return.
 * gates: the saved activations; c: c_t; c_prev: c_{t-1} (0 = zeros). Writes dgates [B, 4H] (row stride
 * ldg): gradients of the pre-activations di, df, dg, do (= of both projections and both biases).
 * dh_rec may be overwritten afterwards (it is read before dgates is written for that unit).
 */
export function lstm_cell_backward(dgates: usize, ldg: i32, dc: usize, dh_out: usize, ldo: i32, dh_rec: usize,
  gates: usize, c: usize, c_prev: usize, B: i32, H: i32): void {
  for (let b = 0; b < B; b++) {
    const gp = gates + ((<usize>b * <usize>ldg) << 2);
    const dg = dgates + ((<usize>b * <usize>ldg) << 2);
    const rowH = (<usize>b * <usize>H) << 2;
    const dcp = dc + rowH;
    const cp = c + rowH;
    const cpp = c_prev != 0 ? c_prev + rowH : 0;
    const dho = dh_out != 0 ? dh_out + ((<usize>b * <usize>ldo) << 2) : 0;
    const dhr = dh_rec != 0 ? dh_rec + rowH : 0;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const one = one4();
      for (; j + 4 <= H; j += 4) {
        let dh = dho != 0 ? ldv(dho, j) : f32x4.splat(0);
        if (dhr != 0) dh = f32x4.add(dh, ldv(dhr, j));
        const i = ldv(gp, j), f = ldv(gp, H + j), g = ldv(gp, 2 * H + j), o = ldv(gp, 3 * H + j);
        const tc = tanh_f32x4(ldv(cp, j));
        const dct = f32x4.add(ldv(dcp, j), f32x4.mul(f32x4.mul(dh, o), f32x4.sub(one, f32x4.mul(tc, tc))));
        const cprev = cpp != 0 ? ldv(cpp, j) : f32x4.splat(0);
        stv(dg, j, f32x4.mul(f32x4.mul(f32x4.mul(dct, g), i), f32x4.sub(one, i)));
        stv(dg, H + j, f32x4.mul(f32x4.mul(f32x4.mul(dct, cprev), f), f32x4.sub(one, f)));
        stv(dg, 2 * H + j, f32x4.mul(f32x4.mul(dct, i), f32x4.sub(one, f32x4.mul(g, g))));
        stv(dg, 3 * H + j, f32x4.mul(f32x4.mul(f32x4.mul(dh, tc), o), f32x4.sub(one, o)));
        stv(dcp, j, f32x4.mul(dct, f));
      }
    }
    for (; j < H; j++) {
      let dh: f32 = dho != 0 ? ld(dho, j) : 0;
      if (dhr != 0) dh += ld(dhr, j);
      const i = ld(gp, j), f = ld(gp, H + j), g = ld(gp, 2 * H + j), o = ld(gp, 3 * H + j);
      const tc = tanh_f32(ld(cp, j));
      const dct = ld(dcp, j) + dh * o * (1 - tc * tc);
      const cprev: f32 = cpp != 0 ? ld(cpp, j) : 0;
      st(dg, j, dct * g * i * (1 - i));
      st(dg, H + j, dct * cprev * f * (1 - f));
      st(dg, 2 * H + j, dct * i * (1 - g * g));
      st(dg, 3 * H + j, dh * tc * o * (1 - o));
      st(dcp, j, dct * f);
    }
  }
}

/**
 * GRU step gate math. gx [B, 3H] (row stride ldg): input projection pre-activations (x·W_ihᵀ + b_ih) ->
 * activations r, z, n in place; gh [B, 3H] (row stride ldg): h_prev·W_hhᵀ + b_hh (read only, saved: the
 * backward needs its n part). h_out = (1 - z)·n + z·h_prev (h_prev row stride ldhp; 0 = zeros).
 */
export function gru_cell_forward(gx: usize, gh: usize, ldg: i32, h_prev: usize, ldhp: i32, h_out: usize, ldh: i32, B: i32, H: i32): void {
  for (let b = 0; b < B; b++) {
    const xp = gx + ((<usize>b * <usize>ldg) << 2);
    const hp = gh + ((<usize>b * <usize>ldg) << 2);
    const pp = h_prev != 0 ? h_prev + ((<usize>b * <usize>ldhp) << 2) : 0;
    const ho = h_out + ((<usize>b * <usize>ldh) << 2);
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= H; j += 4) {
        const r = sigmoid_f32x4(f32x4.add(ldv(xp, j), ldv(hp, j)));
        const z = sigmoid_f32x4(f32x4.add(ldv(xp, H + j), ldv(hp, H + j)));
        const n = tanh_f32x4(f32x4.add(ldv(xp, 2 * H + j), f32x4.mul(r, ldv(hp, 2 * H + j))));
        stv(xp, j, r); stv(xp, H + j, z); stv(xp, 2 * H + j, n);
        const h = pp != 0 ? ldv(pp, j) : f32x4.splat(0);
        stv(ho, j, f32x4.add(n, f32x4.mul(z, f32x4.sub(h, n))));
      }
    }
    for (; j < H; j++) {
      const r = sigmoid_f32(ld(xp, j) + ld(hp, j));
      const z = sigmoid_f32(ld(xp, H + j) + ld(hp, H + j));
      const n = tanh_f32(ld(xp, 2 * H + j) + r * ld(hp, 2 * H + j));
      st(xp, j, r); st(xp, H + j, z); st(xp, 2 * H + j, n);
      const h: f32 = pp != 0 ? ld(pp, j) : 0;
      st(ho, j, n + z * (h - n));
    }
  }
}

/**
 * GRU step backward. dh = dh_out (row stride ldo; 0 = none) + dh_rec ([B, H]; 0 = none). gates: saved
 * r, z, n; gh: saved hidden projection; h_prev (0 = zeros). Writes dgx [B, 3H] = (da_r, da_z, da_n) and
 * dgh [B, 3H] = (da_r, da_z, da_n·r) (row stride ldg each) and dh_prev [B, H] = dh·z (the caller adds
 * dgh·W_hh to it). dh_prev may equal dh_rec (each element is read before it is written).
 */
export function gru_cell_backward(dgx: usize, dgh: usize, ldg: i32, dh_prev: usize, dh_out: usize, ldo: i32, dh_rec: usize,
  gates: usize, gh: usize, h_prev: usize, ldhp: i32, B: i32, H: i32): void {
  for (let b = 0; b < B; b++) {
    const row = (<usize>b * <usize>ldg) << 2;
    const gp = gates + row, hp = gh + row, dx = dgx + row, dhh = dgh + row;
    const rowH = (<usize>b * <usize>H) << 2;
    const dp = dh_prev + rowH;
    const pp = h_prev != 0 ? h_prev + ((<usize>b * <usize>ldhp) << 2) : 0;
    const dho = dh_out != 0 ? dh_out + ((<usize>b * <usize>ldo) << 2) : 0;
    const dhr = dh_rec != 0 ? dh_rec + rowH : 0;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const one = one4();
      for (; j + 4 <= H; j += 4) {
        let dh = dho != 0 ? ldv(dho, j) : f32x4.splat(0);
        if (dhr != 0) dh = f32x4.add(dh, ldv(dhr, j));
        const r = ldv(gp, j), z = ldv(gp, H + j), n = ldv(gp, 2 * H + j);
        const h = pp != 0 ? ldv(pp, j) : f32x4.splat(0);
        const dan = f32x4.mul(f32x4.mul(dh, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
        const dar = f32x4.mul(f32x4.mul(f32x4.mul(dan, ldv(hp, 2 * H + j)), r), f32x4.sub(one, r));
        const daz = f32x4.mul(f32x4.mul(f32x4.mul(dh, f32x4.sub(h, n)), z), f32x4.sub(one, z));
        stv(dx, j, dar); stv(dx, H + j, daz); stv(dx, 2 * H + j, dan);
        stv(dhh, j, dar); stv(dhh, H + j, daz); stv(dhh, 2 * H + j, f32x4.mul(dan, r));
        stv(dp, j, f32x4.mul(dh, z));
      }
    }
    for (; j < H; j++) {
      let dh: f32 = dho != 0 ? ld(dho, j) : 0;
      if (dhr != 0) dh += ld(dhr, j);
      const r = ld(gp, j), z = ld(gp, H + j), n = ld(gp, 2 * H + j);
      const h: f32 = pp != 0 ? ld(pp, j) : 0;
      const dan = dh * (1 - z) * (1 - n * n);
      const dar = dan * ld(hp, 2 * H + j) * r * (1 - r);
      const daz = dh * (h - n) * z * (1 - z);
      st(dx, j, dar); st(dx, H + j, daz); st(dx, 2 * H + j, dan);
      st(dhh, j, dar); st(dhh, H + j, daz); st(dhh, 2 * H + j, dan * r);
      st(dp, j, dh * z);
    }
  }
}

/**
 * Plain RNN step backward: dpre [B, H] (row stride ldg) = (dh_out + dh_rec) · act'(h), from the step's
 * output h (row stride ldh): tanh 1 - h², relu h > 0. dh_out row stride ldo, 0 = none; dh_rec [B, H], 0 = none.
 */
export function rnn_cell_backward(dpre: usize, ldg: i32, dh_out: usize, ldo: i32, dh_rec: usize, h: usize, ldh: i32,
  B: i32, H: i32, relu: i32): void {
  for (let b = 0; b < B; b++) {
    const dp = dpre + ((<usize>b * <usize>ldg) << 2);
    const hp = h + ((<usize>b * <usize>ldh) << 2);
    const dho = dh_out != 0 ? dh_out + ((<usize>b * <usize>ldo) << 2) : 0;
    const dhr = dh_rec != 0 ? dh_rec + ((<usize>b * <usize>H) << 2) : 0;
    for (let j = 0; j < H; j++) {
      let dh: f32 = dho != 0 ? ld(dho, j) : 0;
      if (dhr != 0) dh += ld(dhr, j);
      const y = ld(hp, j);
      st(dp, j, relu != 0 ? (y > 0 ? dh : 0) : dh * (1 - y * y));
    }
  }
}
