// @inline v128 helpers shared by gemm.ts, conv2d.ts and rnn.ts: multiply-add that is fused in the relaxed
// variant, and partial (masked) loads/stores for the column tail of a panel. Not re-exported by index.ts.
// Only call these from inside `if (ASC_FEATURE_SIMD)` branches: the scalar variant has no v128 at all.

/** c + a*b: one fused relaxed_madd in the relaxed variant (may or may not round once: engine's choice), mul+add otherwise. */
@inline export function vmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(c, f32x4.mul(a, b));
  }
}

/** Load the first n (0..4) floats at p into lanes 0..n-1, zero the rest. Never reads past p + 4n. */
@inline export function load_lanes(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  if (n > 0) v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Store lanes 0..n-1 (n in 0..4) of v at p. Never writes past p + 4n. */
@inline export function store_lanes(p: usize, v: v128, n: i32): void {
  if (n >= 4) { v128.store(p, v); return; }
  if (n > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}
