// Activation functions shared by fused epilogues (gemm, conv2d) and the elementwise kernels.
// act codes: 0 none, 1 relu, 2 tanh, 3 sigmoid (src/runtime/kernels.ts `Act`).
// PLACEHOLDER (exact but slow, per-lane Mathf); to be replaced by polynomial approximations with stated bounds.

@inline export function act_f32(x: f32, act: i32): f32 {
  if (act == 1) return x > 0 ? x : 0;
  if (act == 2) return Mathf.tanh(x);
  if (act == 3) return 1.0 / (1.0 + Mathf.exp(-x));
  return x;
}

@inline export function act_f32x4(v: v128, act: i32): v128 {
  if (act == 1) return f32x4.max(v, f32x4.splat(0));
  if (act == 0) return v;
  let r = f32x4.splat(act_f32(f32x4.extract_lane(v, 0), act));
  r = f32x4.replace_lane(r, 1, act_f32(f32x4.extract_lane(v, 1), act));
  r = f32x4.replace_lane(r, 2, act_f32(f32x4.extract_lane(v, 2), act));
  r = f32x4.replace_lane(r, 3, act_f32(f32x4.extract_lane(v, 3), act));
  return r;
}
