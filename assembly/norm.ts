// Normalization layers, forward: BatchNorm as a per-channel affine (scale_shift: at inference, and in training
// after the batch statistics), the training-mode batch statistics (batchnorm_stats), and LocalResponseNorm
// (lrn_nhwc). Callers: BatchNorm1d/2d and LocalResponseNorm (src/nn/layers/norm.ts) and the BatchNorm training
// build (src/nn/layers/norm.ts, its training half), through src/runtime/kernels.ts. Backward: norm_backward.ts.
//
// Memory: NHWC data as P pixels x C channels, channels contiguous; per-channel parameters are C floats.
// Pointers are byte offsets (any 4-byte alignment), counts elements. Loops vectorise over channels and have
// scalar tails, so any C is valid.
// Aliasing: scale_shift may run in place (out == inp). NOTE: lrn_nhwc reads neighbour channels, so in place it
// takes a slower scalar path that holds results back until their inputs are dead (size <= 17, i.e. every real
// model); batchnorm_stats writes only its outputs.
import { act_f32, act_f32x4, madd4, set_act_alpha } from './activation';
import { BLOCK, hi64, lane64, lo64 } from './channel_sum';
import { lds, ldv, sts, stv } from './ptr';

// ---- BatchNorm at inference (and the training forward's affine step) ----

@inline function scale_shift_act(out: usize, inp: usize, scale: usize, shift: usize, P: i32, C: i32, act: i32): void {
  for (let p = 0; p < P; p++) {
    const off = <usize>p * <usize>C << 2;
    const x = inp + off, y = out + off;
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      for (; c + 8 <= C; c += 8) {
        const v0 = act_f32x4(madd4(ldv(x, c), ldv(scale, c), ldv(shift, c)), act);
        const v1 = act_f32x4(madd4(ldv(x, c + 4), ldv(scale, c + 4), ldv(shift, c + 4)), act);
        stv(y, c, v0);
        stv(y, c + 4, v1);
      }
      for (; c + 4 <= C; c += 4) stv(y, c, act_f32x4(madd4(ldv(x, c), ldv(scale, c), ldv(shift, c)), act));
    }
    for (; c < C; c++) sts(y, c, act_f32(lds(x, c) * lds(scale, c) + lds(shift, c), act));
  }
}

/**
 * inp[P, C] (NHWC pixels x channels), scale[C], shift[C] -> out[P, C] = act(inp*scale + shift).
 * BatchNorm2d at inference with scale = gamma/sqrt(var+eps), shift = beta - mean*scale folded by the caller.
 */
export function scale_shift(out: usize, inp: usize, scale: usize, shift: usize, P: i32, C: i32, act: i32, alpha: f32): void {
  set_act_alpha(alpha);
  if (act == 1) scale_shift_act(out, inp, scale, shift, P, C, 1);
  else if (act == 2) scale_shift_act(out, inp, scale, shift, P, C, 2);
  else if (act == 3) scale_shift_act(out, inp, scale, shift, P, C, 3);
  else if (act == 0) scale_shift_act(out, inp, scale, shift, P, C, 0);
  else scale_shift_act(out, inp, scale, shift, P, C, act);
}

// ---- BatchNorm, training mode (https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html) ----
// Forward: the caller computes scale = gamma*invstd, shift = beta - mean*scale (C floats, TS side) and runs
// the inference kernel scale_shift; running statistics are updated TS side as well (momentum, unbiased
// var = var * P/(P-1)).

/**
 * x [P, C] -> mean[C], var[C]: per-channel mean and BIASED variance (divide by P), two passes (mean, then
 * sum of squared deviations: no cancellation), blocked f32 + f64 accumulation. P = 0 gives NaN, as PyTorch.
 */
export function batchnorm_stats(mean: usize, vr: usize, x: usize, P: i32, C: i32): void {
  const rowb = <usize>C << 2;
  const invP: f64 = 1.0 / <f64>P;
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    for (; c + 4 <= C; c += 4) {
      const base = x + (<usize>c << 2);
      let t0 = f64x2.splat(0), t1 = f64x2.splat(0);
      let p = base;
      for (let m0 = 0; m0 < P; m0 += BLOCK) {
        const mb = min(BLOCK, P - m0);
        let s = f32x4.splat(0);
        for (let i = 0; i < mb; i++, p += rowb) s = f32x4.add(s, v128.load(p));
        t0 = f64x2.add(t0, lo64(s)); t1 = f64x2.add(t1, hi64(s));
      }
      t0 = f64x2.mul(t0, f64x2.splat(invP)); t1 = f64x2.mul(t1, f64x2.splat(invP));
      const mv = f32x4.demote_f64x2_zero(t0);
      const mv4 = v128.shuffle<i32>(mv, f32x4.demote_f64x2_zero(t1), 0, 1, 4, 5);
      v128.store(mean + (<usize>c << 2), mv4);
      let q0 = f64x2.splat(0), q1 = f64x2.splat(0);
      p = base;
      for (let m0 = 0; m0 < P; m0 += BLOCK) {
        const mb = min(BLOCK, P - m0);
        let s = f32x4.splat(0);
        for (let i = 0; i < mb; i++, p += rowb) {
          const d = f32x4.sub(v128.load(p), mv4);
          s = f32x4.add(s, f32x4.mul(d, d));
        }
        q0 = f64x2.add(q0, lo64(s)); q1 = f64x2.add(q1, hi64(s));
      }
      for (let j = 0; j < 4; j++) sts(vr, c + j, <f32>(lane64(q0, q1, j) * invP));
    }
  }
  for (; c < C; c++) {
    let s: f64 = 0;
    let p = x + (<usize>c << 2);
    for (let m = 0; m < P; m++, p += rowb) s += <f64>load<f32>(p);
    const mu = <f32>(s * invP);
    sts(mean, c, mu);
    let q: f64 = 0;
    p = x + (<usize>c << 2);
    for (let m = 0; m < P; m++, p += rowb) { const d = <f64>(load<f32>(p) - mu); q += d * d; }
    sts(vr, c, <f32>(q * invP));
  }
}

// ---- LocalResponseNorm ----
// PyTorch (torch.nn.functional.local_response_norm) zero-pads channels by size/2 before and (size-1)/2
// after and average-pools `size` channels, so the divisor is always `size`, also at the edges:
//   b_c = a_c / (k + alpha/size * sum_{c' = c-size/2 .. c+(size-1)/2, 0 <= c' < C} a_c'^2)^beta
// Window sums are recomputed per channel (size loads) instead of a sliding sum: no drift from
// subtracting, and size is small (5 in AlexNet/GoogLeNet). Interior channel blocks load their neighbours
// with unaligned vector loads; edge channels (window crossing 0 or C) take the scalar path.
// x^beta: beta 0.75 (every torchvision model), 0.5 and 1 use sqrt/identity (exact up to 2-3 ulp);
// other betas call Mathf.pow per element.

@inline function pow_beta_f32(b: f32, beta: f32): f32 {
  if (beta == 0.75) { const s = Mathf.sqrt(b); return s * Mathf.sqrt(s); }
  if (beta == 0.5) return Mathf.sqrt(b);
  if (beta == 1) return b;
  return Mathf.pow(b, beta);
}

@inline function pow_beta_f32x4(b: v128, beta: f32): v128 {
  if (beta == 0.75) { const s = f32x4.sqrt(b); return f32x4.mul(s, f32x4.sqrt(s)); }
  if (beta == 0.5) return f32x4.sqrt(b);
  if (beta == 1) return b;
  let r = f32x4.splat(Mathf.pow(f32x4.extract_lane(b, 0), beta));
  r = f32x4.replace_lane(r, 1, Mathf.pow(f32x4.extract_lane(b, 1), beta));
  r = f32x4.replace_lane(r, 2, Mathf.pow(f32x4.extract_lane(b, 2), beta));
  r = f32x4.replace_lane(r, 3, Mathf.pow(f32x4.extract_lane(b, 3), beta));
  return r;
}

@inline function lrn_one(y: usize, x: usize, c: i32, C: i32, lo: i32, hi: i32, a: f32, beta: f32, k: f32): void {
  const j0 = max<i32>(0, c - lo), j1 = min<i32>(C - 1, c + hi);
  let s: f32 = 0;
  for (let j = j0; j <= j1; j++) { const v = lds(x, j); s += v * v; }
  sts(y, c, lds(x, c) / pow_beta_f32(k + a * s, beta));
}

/**
 * One pixel in place (y == x): each result is held back 8 channels and written once no later window reads
 * the original value there (windows reach size/2 <= 8 channels back). Scalar, same arithmetic as lrn_one.
 */
@inline function lrn_pixel_in_place(x: usize, C: i32, lo: i32, hi: i32, a: f32, beta: f32, k: f32): void {
  let p0: f32 = 0, p1: f32 = 0, p2: f32 = 0, p3: f32 = 0, p4: f32 = 0, p5: f32 = 0, p6: f32 = 0, p7: f32 = 0;
  for (let c = 0; c < C; c++) {
    const j0 = max<i32>(0, c - lo), j1 = min<i32>(C - 1, c + hi);
    let s: f32 = 0;
    for (let j = j0; j <= j1; j++) { const v = lds(x, j); s += v * v; }
    const r = lds(x, c) / pow_beta_f32(k + a * s, beta);
    if (c >= 8) sts(x, c - 8, p0);
    p0 = p1; p1 = p2; p2 = p3; p3 = p4; p4 = p5; p5 = p6; p6 = p7; p7 = r;
  }
  // flush the last m = min(C, 8) results (in p[8-m..7]): shift them down to p0, then write in order
  const m = min<i32>(C, 8);
  for (let i = m; i < 8; i++) { p0 = p1; p1 = p2; p2 = p3; p3 = p4; p4 = p5; p5 = p6; p6 = p7; }
  for (let c = C - m; c < C; c++) {
    sts(x, c, p0);
    p0 = p1; p1 = p2; p2 = p3; p3 = p4; p4 = p5; p5 = p6; p6 = p7;
  }
}

/**
 * inp[P, C] (NHWC) -> out[P, C], PyTorch LocalResponseNorm(size, alpha, beta, k) across channels.
 * In place (out == inp) is supported for size <= 17 (a slower scalar path); otherwise out must not overlap inp.
 */
export function lrn_nhwc(out: usize, inp: usize, P: i32, C: i32, size: i32, alpha: f32, beta: f32, k: f32): void {
  const lo = size >> 1, hi = (size - 1) >> 1;
  const a: f32 = alpha / <f32>size;
  if (out == inp && lo <= 8) {
    for (let p = 0; p < P; p++) lrn_pixel_in_place(inp + (<usize>p * <usize>C << 2), C, lo, hi, a, beta, k);
    return;
  }
  for (let p = 0; p < P; p++) {
    const off = <usize>p * <usize>C << 2;
    const x = inp + off, y = out + off;
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      const head = min<i32>(lo, C);
      for (; c < head; c++) lrn_one(y, x, c, C, lo, hi, a, beta, k);
      const av = f32x4.splat(a), kv = f32x4.splat(k);
      for (; c + 3 + hi < C; c += 4) { // lanes c..c+3, window c-lo .. c+3+hi inside [0, C)
        let s = f32x4.splat(0);
        for (let j = -lo; j <= hi; j++) { const v = ldv(x, c + j); s = madd4(v, v, s); }
        stv(y, c, f32x4.div(ldv(x, c), pow_beta_f32x4(madd4(av, s, kv), beta)));
      }
    }
    for (; c < C; c++) lrn_one(y, x, c, C, lo, hi, a, beta, k);
  }
}
