// Recurrent cells for training, backward: the per-step fused gate backward of LSTM, GRU and the plain RNN, from
// what the forward cells (rnn_cell.ts) saved. Memory layout and gate order: see rnn_cell.ts. Caller:
// the training half of src/nn/layers/rnn.ts, which runs the projections' GEMMs around these.
//
// GRU: r multiplies the hidden projection's n part including b_hn, so the gradients of the two projections
// differ in the n columns: dgx_n = da_n, dgh_n = da_n·r.
//
// f32x4 over units in the SIMD variants with a scalar tail, the same operations in both (as in rnn_cell.ts).
import { tanh_f32, tanh_f32x4 } from './activation';
import { lds, ldv, sts, stv } from './ptr';

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
      const one = f32x4.splat(1);
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
      let dh: f32 = dho != 0 ? lds(dho, j) : 0;
      if (dhr != 0) dh += lds(dhr, j);
      const i = lds(gp, j), f = lds(gp, H + j), g = lds(gp, 2 * H + j), o = lds(gp, 3 * H + j);
      const tc = tanh_f32(lds(cp, j));
      const dct = lds(dcp, j) + dh * o * (1 - tc * tc);
      const cprev: f32 = cpp != 0 ? lds(cpp, j) : 0;
      sts(dg, j, dct * g * i * (1 - i));
      sts(dg, H + j, dct * cprev * f * (1 - f));
      sts(dg, 2 * H + j, dct * i * (1 - g * g));
      sts(dg, 3 * H + j, dh * tc * o * (1 - o));
      sts(dcp, j, dct * f);
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
      const one = f32x4.splat(1);
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
      let dh: f32 = dho != 0 ? lds(dho, j) : 0;
      if (dhr != 0) dh += lds(dhr, j);
      const r = lds(gp, j), z = lds(gp, H + j), n = lds(gp, 2 * H + j);
      const h: f32 = pp != 0 ? lds(pp, j) : 0;
      const dan = dh * (1 - z) * (1 - n * n);
      const dar = dan * lds(hp, 2 * H + j) * r * (1 - r);
      const daz = dh * (h - n) * z * (1 - z);
      sts(dx, j, dar); sts(dx, H + j, daz); sts(dx, 2 * H + j, dan);
      sts(dhh, j, dar); sts(dhh, H + j, daz); sts(dhh, 2 * H + j, dan * r);
      sts(dp, j, dh * z);
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
      let dh: f32 = dho != 0 ? lds(dho, j) : 0;
      if (dhr != 0) dh += lds(dhr, j);
      const y = lds(hp, j);
      sts(dp, j, relu != 0 ? (y > 0 ? dh : 0) : dh * (1 - y * y));
    }
  }
}
