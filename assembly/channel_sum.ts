// Helpers of the per-channel reductions over P pixels x C channels (channels contiguous): bias_grad
// (elementwise_backward.ts), batchnorm_stats (norm.ts) and batchnorm_backward (norm_backward.ts). Helpers only:
// index.ts does not re-export this file, so nothing here becomes a wasm export.
//
// Those kernels walk 4 channels (one f32x4) at a time down all P pixels: BLOCK pixels are summed in f32, each
// block sum is then added into f64 (two f64x2 per 4 channels). So the error is that of a 32-term f32 sum plus
// f64 rounding, whatever P is (a conv's P is N*OH*OW, 10^4..10^5). Channel tails (C % 4) and the scalar
// variant use plain f64 scalars. The v128 helpers are for `if (ASC_FEATURE_SIMD)` branches only.
import { lds, sts } from './ptr';

/** Pixels summed in f32 before a block sum goes into the f64 total. */
export const BLOCK: i32 = 32;

/** lanes 0,1 of an f32x4 as f64x2 */
@inline export function lo64(v: v128): v128 { return f64x2.promote_low_f32x4(v); }
/** lanes 2,3 of an f32x4 as f64x2 */
@inline export function hi64(v: v128): v128 { return f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 2, 3)); }
/** two f64x2 -> one f32x4 (lanes lo0 lo1 hi0 hi1) */
@inline export function join32(lo: v128, hi: v128): v128 {
  return v128.shuffle<i32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}
@inline export function lane64(lo: v128, hi: v128, j: i32): f64 {
  return j == 0 ? f64x2.extract_lane(lo, 0) : j == 1 ? f64x2.extract_lane(lo, 1) : j == 2 ? f64x2.extract_lane(hi, 0) : f64x2.extract_lane(hi, 1);
}
/** Store v (or add it when accumulate) at p[i]. */
@inline export function put(p: usize, i: i32, v: f64, accumulate: bool): void {
  sts(p, i, accumulate ? <f32>(<f64>lds(p, i) + v) : <f32>v);
}
