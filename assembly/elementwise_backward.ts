// Backward of the elementwise kernels and of the fused epilogue act(x·W + bias) of gemm and conv2d:
// act_backward (the activation, from the forward OUTPUT) and bias_grad (the bias: a column sum). add's
// backward is the identity and mul's is mul (elementwise.ts). Caller: the training graph (src/train) through
// src/runtime/kernels.ts (`// ---- Training ----`).
//
// Memory: pointers are byte offsets (4-byte alignment suffices), counts are elements. bias_grad sums f32
// blocks of rows into f64, as the BatchNorm reductions do (channel_sum.ts).
import { BLOCK, hi64, lane64, lo64, put } from './channel_sum';
import { act_bw_f32, act_bw_f32x4, set_act_alpha } from './activation';
import { lds, ldv, sts, stv } from './ptr';

// ---- bias gradient ----

/**
 * dy [M, N] (row-major) -> db[n] (+)= sum_m dy[m, n]. Linear bias (M = batch) and conv bias (M = pixels).
 * flags bit 0: accumulate into db.
 */
export function bias_grad(db: usize, dy: usize, M: i32, N: i32, flags: i32): void {
  const acc = (flags & 1) != 0;
  const rowb = <usize>N << 2;
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    for (; c + 4 <= N; c += 4) {
      let t0 = f64x2.splat(0), t1 = f64x2.splat(0);
      let p = dy + (<usize>c << 2);
      for (let m0 = 0; m0 < M; m0 += BLOCK) {
        const mb = min(BLOCK, M - m0);
        let s = f32x4.splat(0);
        for (let i = 0; i < mb; i++, p += rowb) s = f32x4.add(s, v128.load(p));
        t0 = f64x2.add(t0, lo64(s)); t1 = f64x2.add(t1, hi64(s));
      }
      for (let j = 0; j < 4; j++) put(db, c + j, lane64(t0, t1, j), acc);
    }
  }
  for (; c < N; c++) {
    let s: f64 = 0;
    let p = dy + (<usize>c << 2);
    for (let m = 0; m < M; m++, p += rowb) s += <f64>load<f32>(p);
    put(db, c, s, acc);
  }
}

// ---- activations ----

@inline function act_bw_map(dx: usize, dy: usize, y: usize, n: i32, act: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const v0 = act_bw_f32x4(ldv(dy, i), ldv(y, i), act);
      const v1 = act_bw_f32x4(ldv(dy, i + 4), ldv(y, i + 4), act);
      stv(dx, i, v0);
      stv(dx, i + 4, v1);
    }
    for (; i + 4 <= n; i += 4) stv(dx, i, act_bw_f32x4(ldv(dy, i), ldv(y, i), act));
  }
  for (; i < n; i++) sts(dx, i, act_bw_f32(lds(dy, i), lds(y, i), act));
}

/**
 * dx[n] = dy * act'(from the forward OUTPUT y), act and alpha as the forward's (activation.ts): relu
 * dy*(y>0), tanh dy*(1-y²), sigmoid dy*y*(1-y), leaky_relu dy*(y>0 ? 1 : alpha); 0 (none) copies dy.
 * dx may be dy or y (in place).
 */
export function act_backward(dx: usize, dy: usize, y: usize, n: i32, act: i32, alpha: f32): void {
  set_act_alpha(alpha);
  if (act == 1) act_bw_map(dx, dy, y, n, 1);
  else if (act == 2) act_bw_map(dx, dy, y, n, 2);
  else if (act == 3) act_bw_map(dx, dy, y, n, 3);
  else if (act == 0) act_bw_map(dx, dy, y, n, 0);
  else act_bw_map(dx, dy, y, n, act);
}
