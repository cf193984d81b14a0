// Row-wise softmax and log-softmax over the last dim (torch.softmax / torch.log_softmax with dim = -1) of
// [rows, cols] contiguous data. Called by the Softmax / LogSoftmax layers (src/nn/layers/activation.ts) and the
// seq2seq decoder (src/models/seq2seq.ts) through src/runtime/kernels.ts. In training, softmax and its backward are fused into the cross-entropy
// (softmax_cross_entropy, loss.ts).
//
// Memory: pointers are byte offsets (any 4-byte alignment), counts are elements. Both kernels may run in place
// (out == inp). Accuracy: exp is activation.ts's exp_f32x4 / exp_f32 (relative error <= 2e-7).
import { exp_f32, exp_f32x4 } from './activation';
import { lds, ldv, sts, stv } from './ptr';

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
