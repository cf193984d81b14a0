// Elementwise and per-channel kernels: activations, residual add, softmax, BatchNorm-at-inference
// (scale_shift), LocalResponseNorm, channel copies (concat/slice) and the NCHW <-> NHWC transposes used at the
// API boundary. Called by the TypeScript layers through src/runtime/kernels.ts (the contract).
//
// Memory: pointers are byte offsets (any 4-byte alignment works: wasm v128 loads do not need 16),
// counts are elements. Per-channel ops take NHWC data as P pixels x C channels, channels contiguous, and
// vectorise over channels; every loop has a scalar tail, so any n / C is valid. The scalar variant
// (no ASC_FEATURE_SIMD) runs only the scalar loops.
//
// Aliasing: relu, sigmoid, tanh, add (out = a or b), softmax, log_softmax and scale_shift may run in place
// (out == inp): every element is read before it is written, and only by its own position.
// NOTE: lrn_nhwc reads neighbour channels, so in place it takes a slower scalar path that holds results
// back until their inputs are dead (size <= 17, i.e. every real model); copy_channels and the transposes
// need out and inp not to overlap.
//
// Accuracy: see assembly/activation.ts for the exp/sigmoid/tanh bounds; the rest is plain f32 arithmetic.
import { act_f32, act_f32x4, exp_f32, exp_f32x4, madd4 } from './activation';

@inline function ldv(p: usize, i: i32): v128 {
  return v128.load(p + (<usize>i << 2));
}
@inline function stv(p: usize, i: i32, v: v128): void {
  v128.store(p + (<usize>i << 2), v);
}
@inline function lds(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}
@inline function sts(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}

// ---- activations ----
// `act` is a compile-time constant at every call of map_act / add_act / scale_shift_act (the exported
// kernels dispatch once), so binaryen folds act_f32x4's branches and each loop holds one activation.
// The 4-vector unroll gives the exp-based activations independent chains to overlap (they are latency bound).

@inline function map_act(out: usize, inp: usize, n: i32, act: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 16 <= n; i += 16) {
      const v0 = act_f32x4(ldv(inp, i), act);
      const v1 = act_f32x4(ldv(inp, i + 4), act);
      const v2 = act_f32x4(ldv(inp, i + 8), act);
      const v3 = act_f32x4(ldv(inp, i + 12), act);
      stv(out, i, v0);
      stv(out, i + 4, v1);
      stv(out, i + 8, v2);
      stv(out, i + 12, v3);
    }
    for (; i + 4 <= n; i += 4) stv(out, i, act_f32x4(ldv(inp, i), act));
  }
  for (; i < n; i++) sts(out, i, act_f32(lds(inp, i), act));
}

/** inp[n] -> out[n] = max(x, 0) (exact; NaN stays NaN, as torch.relu). */
export function relu(out: usize, inp: usize, n: i32): void {
  map_act(out, inp, n, 1);
}

/** inp[n] -> out[n] = 1/(1+exp(-x)), abs error <= 1.5e-7 (activation.ts). */
export function sigmoid(out: usize, inp: usize, n: i32): void {
  map_act(out, inp, n, 3);
}

/** inp[n] -> out[n] = tanh(x), abs error <= 1.5e-7, rel <= 3e-7 (activation.ts). */
export function tanh(out: usize, inp: usize, n: i32): void {
  map_act(out, inp, n, 2);
}

@inline function add_act(out: usize, a: usize, b: usize, n: i32, act: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const v0 = act_f32x4(f32x4.add(ldv(a, i), ldv(b, i)), act);
      const v1 = act_f32x4(f32x4.add(ldv(a, i + 4), ldv(b, i + 4)), act);
      stv(out, i, v0);
      stv(out, i + 4, v1);
    }
    for (; i + 4 <= n; i += 4) stv(out, i, act_f32x4(f32x4.add(ldv(a, i), ldv(b, i)), act));
  }
  for (; i < n; i++) sts(out, i, act_f32(lds(a, i) + lds(b, i), act));
}

/** a[n], b[n] -> out[n] = act(a + b) (residual connections); out may be a or b. */
export function add(out: usize, a: usize, b: usize, n: i32, act: i32): void {
  if (act == 1) add_act(out, a, b, n, 1);
  else if (act == 2) add_act(out, a, b, n, 2);
  else if (act == 3) add_act(out, a, b, n, 3);
  else add_act(out, a, b, n, 0);
}

// ---- softmax ----
// Numerically stable: exp(x - rowmax), so no term exceeds 1 and the sum is >= 1 (no overflow, no 0/0
// unless the row holds NaN or is all -inf, where PyTorch gives NaN too). Rows are independent; each is
// read 2-3 times, which for typical widths (classes, <= a few thousand) stays in L1.

@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

@inline function row_max(x: usize, cols: i32): f32 {
  let m: f32 = -Infinity;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    if (cols >= 4) {
      let mv = f32x4.splat(-Infinity);
      for (; j + 4 <= cols; j += 4) mv = f32x4.max(mv, ldv(x, j)); // max propagates NaN
      m = max<f32>(max<f32>(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)),
        max<f32>(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    }
  }
  for (; j < cols; j++) m = max<f32>(m, lds(x, j));
  return m;
}

/** Sum of exp(x - m) over the row; writes the terms to y when store (softmax), not for log_softmax. */
@inline function row_exp_sum(y: usize, x: usize, cols: i32, m: f32, store_terms: bool): f32 {
  let s: f32 = 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(m);
    let s0 = f32x4.splat(0);
    let s1 = f32x4.splat(0);
    for (; j + 8 <= cols; j += 8) {
      const e0 = exp_f32x4(f32x4.sub(ldv(x, j), mv));
      const e1 = exp_f32x4(f32x4.sub(ldv(x, j + 4), mv));
      if (store_terms) { stv(y, j, e0); stv(y, j + 4, e1); }
      s0 = f32x4.add(s0, e0);
      s1 = f32x4.add(s1, e1);
    }
    for (; j + 4 <= cols; j += 4) {
      const e = exp_f32x4(f32x4.sub(ldv(x, j), mv));
      if (store_terms) stv(y, j, e);
      s0 = f32x4.add(s0, e);
    }
    s = hsum(f32x4.add(s0, s1));
  }
  for (; j < cols; j++) {
    const e = exp_f32(lds(x, j) - m);
    if (store_terms) sts(y, j, e);
    s += e;
  }
  return s;
}

/** inp[rows, cols] -> out[rows, cols] = softmax over each row (torch.softmax(x, -1)); in place allowed. */
export function softmax(out: usize, inp: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>cols << 2;
    const x = inp + off, y = out + off;
    const m = row_max(x, cols);
    const inv: f32 = 1 / row_exp_sum(y, x, cols, m, true);
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const iv = f32x4.splat(inv);
      for (; j + 4 <= cols; j += 4) stv(y, j, f32x4.mul(ldv(y, j), iv));
    }
    for (; j < cols; j++) sts(y, j, lds(y, j) * inv);
  }
}

/** inp[rows, cols] -> out = (x - max) - log(sum exp(x - max)) per row (torch.log_softmax(x, -1)); in place allowed. */
export function log_softmax(out: usize, inp: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * <usize>cols << 2;
    const x = inp + off, y = out + off;
    const m = row_max(x, cols);
    // one exact-library log per row; the per-element work is two subtractions, as in PyTorch
    const ls = Mathf.log(row_exp_sum(y, x, cols, m, false));
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const mv = f32x4.splat(m), lv = f32x4.splat(ls);
      for (; j + 4 <= cols; j += 4) stv(y, j, f32x4.sub(f32x4.sub(ldv(x, j), mv), lv));
    }
    for (; j < cols; j++) sts(y, j, (lds(x, j) - m) - ls);
  }
}

// ---- BatchNorm at inference ----

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
export function scale_shift(out: usize, inp: usize, scale: usize, shift: usize, P: i32, C: i32, act: i32): void {
  if (act == 1) scale_shift_act(out, inp, scale, shift, P, C, 1);
  else if (act == 2) scale_shift_act(out, inp, scale, shift, P, C, 2);
  else if (act == 3) scale_shift_act(out, inp, scale, shift, P, C, 3);
  else scale_shift_act(out, inp, scale, shift, P, C, 0);
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

// ---- copies and layout changes (bit-exact: integer loads for scalars, so NaN payloads survive) ----

/** inp[P, in_ps] -> out[P, out_ps]: channels 0..C-1 of every pixel (concat along channels, slices). */
export function copy_channels(out: usize, inp: usize, P: i32, C: i32, out_ps: i32, in_ps: i32): void {
  if (out_ps == C && in_ps == C) {
    memory.copy(out, inp, <usize>P * <usize>C << 2);
    return;
  }
  for (let p = 0; p < P; p++) {
    const x = inp + (<usize>p * <usize>in_ps << 2), y = out + (<usize>p * <usize>out_ps << 2);
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      for (; c + 16 <= C; c += 16) {
        const v0 = ldv(x, c), v1 = ldv(x, c + 4), v2 = ldv(x, c + 8), v3 = ldv(x, c + 12);
        stv(y, c, v0); stv(y, c + 4, v1); stv(y, c + 8, v2); stv(y, c + 12, v3);
      }
      for (; c + 4 <= C; c += 4) stv(y, c, ldv(x, c));
    }
    for (; c < C; c++) store<u32>(y + (<usize>c << 2), load<u32>(x + (<usize>c << 2)));
  }
}

/** inp[R, S] -> out[S, R] (row-major both). 4x4 blocks are transposed in registers; edges go scalar. */
@inline function transpose_plane(out: usize, inp: usize, R: i32, S: i32): void {
  let r = 0;
  if (ASC_FEATURE_SIMD) {
    for (; r + 4 <= R; r += 4) {
      const x0 = inp + (<usize>r * <usize>S << 2);
      const x1 = x0 + (<usize>S << 2), x2 = x1 + (<usize>S << 2), x3 = x2 + (<usize>S << 2);
      let s = 0;
      for (; s + 4 <= S; s += 4) {
        const a0 = ldv(x0, s), a1 = ldv(x1, s), a2 = ldv(x2, s), a3 = ldv(x3, s);
        const t0 = v128.shuffle<i32>(a0, a1, 0, 4, 1, 5); // a00 a10 a01 a11
        const t1 = v128.shuffle<i32>(a0, a1, 2, 6, 3, 7); // a02 a12 a03 a13
        const t2 = v128.shuffle<i32>(a2, a3, 0, 4, 1, 5); // a20 a30 a21 a31
        const t3 = v128.shuffle<i32>(a2, a3, 2, 6, 3, 7); // a22 a32 a23 a33
        const y = out + ((<usize>s * <usize>R + <usize>r) << 2);
        const rs = <usize>R << 2;
        v128.store(y, v128.shuffle<i32>(t0, t2, 0, 1, 4, 5));
        v128.store(y + rs, v128.shuffle<i32>(t0, t2, 2, 3, 6, 7));
        v128.store(y + 2 * rs, v128.shuffle<i32>(t1, t3, 0, 1, 4, 5));
        v128.store(y + 3 * rs, v128.shuffle<i32>(t1, t3, 2, 3, 6, 7));
      }
      for (; s < S; s++) {
        const y = out + ((<usize>s * <usize>R + <usize>r) << 2), o = <usize>s << 2;
        store<u32>(y, load<u32>(x0 + o));
        store<u32>(y + 4, load<u32>(x1 + o));
        store<u32>(y + 8, load<u32>(x2 + o));
        store<u32>(y + 12, load<u32>(x3 + o));
      }
    }
  }
  for (; r < R; r++) {
    const x = inp + (<usize>r * <usize>S << 2);
    for (let s = 0; s < S; s++) store<u32>(out + ((<usize>s * <usize>R + <usize>r) << 2), load<u32>(x + (<usize>s << 2)));
  }
}

/** inp[N, C, H, W] (PyTorch layout) -> out[N, H, W, C]. out must not overlap inp. */
export function nchw_to_nhwc(out: usize, inp: usize, N: i32, C: i32, H: i32, W: i32): void {
  const plane = <usize>C * <usize>H * <usize>W << 2;
  for (let n = 0; n < N; n++) transpose_plane(out + <usize>n * plane, inp + <usize>n * plane, C, H * W);
}

/** inp[N, H, W, C] -> out[N, C, H, W] (PyTorch layout). out must not overlap inp. */
export function nhwc_to_nchw(out: usize, inp: usize, N: i32, C: i32, H: i32, W: i32): void {
  const plane = <usize>C * <usize>H * <usize>W << 2;
  for (let n = 0; n < N; n++) transpose_plane(out + <usize>n * plane, inp + <usize>n * plane, H * W, C);
}
